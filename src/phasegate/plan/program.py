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
        steps.append(
            Step(
                id=CHILD_STEP,
                name=f"child run of {phase.run_plan}",
                run=f"phasegate run {phase.run_plan} (a child run)",
                idempotent=True,
            )
        )
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
