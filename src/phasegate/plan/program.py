"""Programs: a plan whose phases run child plans (``run_plan:``), each a run of its own.

A program phase names a child plan and the variables it passes; it runs no commands of its
own (the seed's "a rollout container, not direct build work"). The loader turns each program
phase into what the engine already knows how to run, crash-safely (``expand_programs``):

- one step, ``PHASE/child``, which the engine runs as the child run (engine/program.py): an
  ordinary step, so its start is durable before the child process starts, its process group
  outlives a crashed parent and ``resume`` waits for it, and its outcome is the child's;
- before it, with ``soak:``, a pause step: the child waits that long after its upstream
  children succeeded;
- a phase ``rollback`` action, ``rollback:PHASE/1``, which rolls the child run back through
  its own plan's rollback when the program fails (``rollback_children:`` narrows which).

Both are idempotent: running them again re-attaches to the same child run (found by the id
the parent journalled before starting it), so a resume never starts a second child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SerializeAsAny, model_validator

from phasegate.checks.base import CheckSpec
from phasegate.errors import Problem
from phasegate.options import Command, Model
from phasegate.plan.yamlsource import SourceMap

CHILD_STEP = "child"
SOAK_STEP = "soak"
Verdict = Literal["pass", "needs_work", "needs_decision"]
VERDICTS: tuple[str, ...] = ("pass", "needs_work", "needs_decision")


class Evidence(Model):
    """Where a readiness verdict comes from: a YAML/JSON file, or a command printing JSON."""

    file: str | None = Field(None, description="a YAML or JSON file, relative to the plan file")
    command: Command | None = Field(None, description="a command whose stdout is a JSON object")

    @model_validator(mode="after")
    def _one_source(self) -> Evidence:
        if (self.file is None) == (self.command is None):
            raise ValueError("evidence is a `file` or a `command`, exactly one of them")
        return self


class Readiness(Model):
    """A gate on a child, evaluated right before the child starts (never cached)."""

    evidence: Evidence | None = Field(
        None, description="the document the field paths below read (`doc` is its root)"
    )
    verdict: str | None = Field(
        None,
        description="the field holding the verdict: pass, needs_work or needs_decision "
        "(e.g. `doc.dor.status`)",
    )
    score: str | None = Field(None, description="the field holding a 0-10 score (`doc.dor.score`)")
    min_score: float = Field(8, ge=0, le=10, description="the score the child needs")
    blockers: str | None = Field(
        None, description="the field holding a list of blockers (`doc.dor.blockers`)"
    )
    checks: list[SerializeAsAny[CheckSpec]] = Field(
        default_factory=list,
        description="hard checks: any failing one makes the child not ready, whatever the score",
    )

    @model_validator(mode="after")
    def _reads_something(self) -> Readiness:
        fields = [f for f in (self.verdict, self.score, self.blockers) if f is not None]
        if fields and self.evidence is None:
            raise ValueError("`verdict`, `score` and `blockers` read `evidence`: give one")
        for path in fields:
            if path != "doc" and not path.startswith("doc."):
                raise ValueError(f"{path!r}: a field path starts at `doc` (e.g. doc.dor.score)")
        if not fields and not self.checks:
            raise ValueError("readiness needs a `verdict`, a `score` or hard `checks`")
        return self


# on_no_go -> the failure action the engine knows (decide.failure_action)
NO_GO_ACTIONS = {"pause": "pause", "rollback_children": "rollback", "abort": "abort"}
GO_NO_GO = "go-no-go"


class GoNoGo(Model):
    """The decision to start a child (the seed's go/no-go for moving from shadow mode to
    cutover): hard checks, then N approvers; a failed check or a `phasegate reject` is a
    no-go, handled as ``on_no_go`` says. Checked right before the child starts."""

    checks: list[SerializeAsAny[CheckSpec]] = Field(
        default_factory=list,
        description="hard checks (any kind); a failing one is a no-go",
    )
    approvers: int = Field(
        0, ge=0, le=20, description="distinct approvals needed (`phasegate approve`); 0: none"
    )
    prevent_self_review: bool = Field(
        False, description="whoever started the program cannot approve (four-eyes rule)"
    )
    question: str | None = Field(None, description="what the approvers decide (shown to them)")
    on_no_go: Literal["pause", "rollback_children", "abort"] = Field(
        "rollback_children",
        description="pause the program, roll back the children that ran, or stop as is",
    )

    @model_validator(mode="after")
    def _decides_something(self) -> GoNoGo:
        if not self.checks and self.approvers == 0:
            raise ValueError("a go/no-go needs `checks`, `approvers`, or both")
        return self


def no_go_action(phase: Any, gate_id: str) -> str | None:
    """The failure action of a go/no-go gate of ``phase`` (None: not one)."""
    decision = getattr(phase, "go_no_go", None)
    if decision is None or not gate_id.startswith(GO_NO_GO):
        return None
    return NO_GO_ACTIONS[decision.on_no_go]


def _go_no_go_gates(phase: Any) -> list[CheckSpec]:
    from phasegate.registry import check_kind

    decision = phase.go_no_go
    if decision is None:
        return []
    gates = [
        check.model_copy(update={"id": f"{GO_NO_GO}-{n}"})
        for n, check in enumerate(decision.checks, 1)
    ]
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


def is_program(phase: Any) -> bool:
    return getattr(phase, "run_plan", None) is not None


def expand_programs(plan: Any) -> Any:
    """The plan with each program phase given its child step (and soak pause) and its
    child's rollback. The model is not validated again: these are the loader's own parts."""
    # Imported here, not at the top: plan.model imports this module for the field types.
    from phasegate.plan.model import Action, Pause, Step

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


def child_plan_path(plan_file: str, run_plan: str) -> Path:
    """A child plan's path: relative to the program's plan file (``~`` expanded)."""
    path = Path(run_plan).expanduser()
    return path if path.is_absolute() else Path(plan_file).resolve().parent / path


def program_problems(plan: Any, smap: SourceMap) -> list[Problem]:
    """What the model alone cannot see: child plans that are not there, ``rollback_children``
    naming phases that run no child."""
    problems: list[Problem] = []
    programs = {p.id for p in plan.phases if is_program(p)}
    for index, phase in enumerate(plan.phases):
        if not is_program(phase) or smap.file in ("", "<string>"):
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
