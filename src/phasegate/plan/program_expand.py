"""The loader's part of programs: program phases made into a child step (after a soak pause,
with the go/no-go as its pre-gates) and a child rollback action, and the checks the model
alone cannot make (plan/program.py describes the shape)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from phasegate.checks.base import CheckSpec
from phasegate.errors import Problem
from phasegate.plan.model import Action, Pause, Plan, Step
from phasegate.plan.program import (
    CHILD_STEP,
    GO_NO_GO,
    SOAK_STEP,
    ScoredChecks,
    child_plan_path,
    is_program,
)
from phasegate.plan.yamlsource import SourceMap
from phasegate.registry import check_kind


def expand_programs(plan: Plan) -> Plan:
    """The plan with each program phase given its child step (and soak pause) and its
    child's rollback. The model is not validated again: these are the loader's own parts."""
    if not any(is_program(p) for p in plan.phases):
        return plan
    narrowed = plan.rollback_children
    phases = []
    for phase in plan.phases:
        if not is_program(phase):
            phases.append(phase)
            continue
        steps = []
        if phase.soak:
            steps.append(
                Step(
                    id=SOAK_STEP,
                    name=f"soak {phase.soak:g}s after upstream children",
                    pause=Pause(duration=phase.soak),
                )
            )
        child = Step(
            id=CHILD_STEP,
            name=f"child run of {phase.run_plan}",
            run=f"phasegate run {phase.run_plan} (a child run)",
            idempotent=True,
        )
        # The go/no-go is checked just before the child starts: the child step's pre-gates.
        steps.append(child.model_copy(update={"pre_gates": _go_no_go_gates(phase)}))
        rollback = []
        if narrowed is None or phase.id in narrowed:
            rollback.append(
                Action(
                    name=f"roll back the child run of {phase.run_plan}",
                    run=f"phasegate rollback CHILD (of {phase.run_plan})",
                    idempotent=True,
                )
            )
        phases.append(phase.model_copy(update={"steps": steps, "rollback": rollback}))
    return plan.model_copy(update={"phases": phases})


def _go_no_go_gates(phase: Any) -> list[CheckSpec]:
    decision = phase.go_no_go
    if decision is None:
        return []
    gates: list[CheckSpec] = [
        check.model_copy(update={"id": f"{GO_NO_GO}-{n}"})
        for n, check in enumerate(decision.hard_checks(), 1)
    ]
    named = decision.named_checks()
    if named:
        # Named checks are one gate: the score is a property of them together.
        gates.append(
            ScoredChecks(id=f"{GO_NO_GO}-score", checks=named, min_score=decision.min_score)
        )
    if decision.approvers:
        manual = check_kind("manual").model_validate(
            {
                "manual": decision.question or f"go/no-go: start the child {phase.run_plan}",
                "id": GO_NO_GO,
                "approvers": decision.approvers,
                "prevent_self_review": decision.prevent_self_review,
            }
        )
        gates.append(manual)
    return gates


def program_problems(plan: Plan, smap: SourceMap) -> list[Problem]:
    """What the model alone cannot see: child plans that are not there, ``rollback_children``
    naming phases that run no child."""
    problems: list[Problem] = []
    programs = {p.id for p in plan.phases if is_program(p)}
    for index, phase in enumerate(plan.phases):
        if phase.run_plan is None or smap.file in ("", "<string>"):
            continue
        path = child_plan_path(smap.file, phase.run_plan)
        if not path.is_file():
            problems.append(
                smap.problem(
                    ("phases", index, "run_plan"),
                    f"phase {phase.id!r}: child plan {phase.run_plan!r} not found ({path})",
                    hint="`run_plan` is relative to this plan file",
                )
            )
        else:
            cycle = _cycle(Path(smap.file).resolve(), path.resolve())
            if cycle is not None:
                problems.append(
                    smap.problem(
                        ("phases", index, "run_plan"),
                        f"phase {phase.id!r}: child plan {phase.run_plan!r} runs this program "
                        f"again: {' -> '.join(cycle)}",
                        hint="a program's children may not run the program (or each other) "
                        "in a circle: each level would start the next one",
                    )
                )
        if phase.needs_mode == "any" and not phase.needs:
            problems.append(
                smap.problem(
                    ("phases", index, "needs_mode"),
                    f"phase {phase.id!r}: `needs_mode: any` without `needs`",
                    hint="name the phases it waits for in `needs`",
                )
            )
    for index, name in enumerate(plan.rollback_children or []):
        if name not in programs:
            problems.append(
                smap.problem(
                    ("rollback_children", index),
                    f"rollback_children: {name!r} is not a program phase (one with `run_plan`)",
                    hint="program phases: " + (", ".join(sorted(programs)) or "none"),
                )
            )
    return problems


_MAX_PLANS = 256  # child plans followed at most, looking for a circle


def _children_of(path: Path) -> list[Path]:
    """The child plans ``path`` runs (its phases' ``run_plan``), resolved; none when it does
    not read as a plan (its own validation says why, when it runs)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return []
    phases = data.get("phases") if isinstance(data, dict) else None
    found = []
    for phase in phases if isinstance(phases, list) else []:
        child = phase.get("run_plan") if isinstance(phase, dict) else None
        if isinstance(child, str) and child:
            found.append(child_plan_path(str(path), child).resolve())
    return found


def _cycle(root: Path, child: Path) -> list[str] | None:
    """The chain of plan files from ``root`` back to a plan already on the way (a circle
    of ``run_plan``s), or None."""
    seen = 0
    stack: list[tuple[Path, list[Path]]] = [(child, [root, child])]
    done: set[Path] = set()
    while stack and seen < _MAX_PLANS:
        path, chain = stack.pop()
        if path in chain[:-1]:
            return [p.name for p in chain]
        if path in done or not path.is_file():
            continue
        done.add(path)
        seen += 1
        for grandchild in _children_of(path):
            stack.append((grandchild, [*chain, grandchild]))
    return None
