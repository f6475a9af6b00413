"""Programs: a plan whose phases run child plans (``run_plan:``), each a run of its own.

A program phase names a child plan and the variables it passes; it runs no commands of its
own (the seed's "a rollout container, not direct build work"). The loader turns each program
phase into what the engine already knows how to run, crash-safely
(``plan.program_expand.expand_programs``):

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
from typing import Any, ClassVar, Literal

from pydantic import Field, SerializeAsAny, model_validator

from phasegate.checks.base import CheckSpec, Observation
from phasegate.options import Command, Model
from phasegate.plugin import PluginContext
from phasegate.run.record import JsonDict

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


def _spec_or_command(schema: JsonDict) -> None:
    # The loader turns a string into a command check before the model sees it
    # (plan/checkspecs.py), so the file may hold either.
    ref: JsonDict = {k: schema.pop(k) for k in ("$ref", "allOf") if k in schema}
    schema["anyOf"] = [ref if "$ref" in ref else {"allOf": ref["allOf"]}, {"type": "string"}]


class NamedCheck(Model):
    """One named check of a readiness score: ``{name, weight, check}``. The score is the
    weighted share of passing named checks on 0-10; a ``hard`` one also blocks on its own,
    whatever the score."""

    name: str = Field(min_length=1, description="the check's name, in blockers and reports")
    weight: float = Field(
        1, ge=0, le=1000, description="its share of the score (0: counts only if `hard`)"
    )
    hard: bool = Field(False, description="a failure blocks the child whatever the score")
    check: SerializeAsAny[CheckSpec] = Field(
        description="a check spec (any kind), or a string: a command that must exit 0",
        json_schema_extra=_spec_or_command,
    )


def _check_named(named: list[NamedCheck]) -> None:
    """What makes a set of named checks meaningless: two with one name, one that neither
    scores nor blocks. Shared by ``ready.checks`` and ``go_no_go.checks``."""
    names = [c.name for c in named]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"named checks must have distinct names: {', '.join(twice)} twice")
    idle = [c.name for c in named if c.weight == 0 and not c.hard]
    if idle:
        raise ValueError(
            f"named check {idle[0]!r} has weight 0 and is not hard: it neither scores nor "
            "blocks; give it a weight or `hard: true`"
        )


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
    checks: list[NamedCheck | SerializeAsAny[CheckSpec]] = Field(
        default_factory=list,
        description="a check spec is a hard check (any failing one makes the child not ready, "
        "whatever the score); `{name, weight, check}` is a named check the score is computed "
        "from (the weighted share passing, 0-10), `hard: true` also blocking on its own",
    )

    def named_checks(self) -> list[NamedCheck]:
        return [c for c in self.checks if isinstance(c, NamedCheck)]

    def scored(self) -> bool:
        """The score is computed from named checks (at least one with a weight)."""
        return any(c.weight > 0 for c in self.named_checks())

    @model_validator(mode="after")
    def _reads_something(self) -> Readiness:
        if self.scored() and self.score is not None:
            raise ValueError(
                "the score is read from the evidence (`score:`) or computed from weighted "
                "named `checks`, not both: drop one"
            )
        _check_named(self.named_checks())
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

    checks: list[NamedCheck | SerializeAsAny[CheckSpec]] = Field(
        default_factory=list,
        description="a check spec is a hard check (a failing one is a no-go); "
        "`{name, weight, check}` is a named check the go/no-go score is computed from (the "
        "weighted share passing, 0-10; under `min_score` is a no-go), `hard: true` also a "
        "no-go on its own",
    )
    min_score: float = Field(
        8, ge=0, le=10, description="the score named checks must reach (default 8 of 10)"
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

    def named_checks(self) -> list[NamedCheck]:
        return [c for c in self.checks if isinstance(c, NamedCheck)]

    def hard_checks(self) -> list[CheckSpec]:
        return [c for c in self.checks if not isinstance(c, NamedCheck)]

    def scored(self) -> bool:
        return any(c.weight > 0 for c in self.named_checks())

    @model_validator(mode="after")
    def _decides_something(self) -> GoNoGo:
        if not self.checks and self.approvers == 0:
            raise ValueError("a go/no-go needs `checks`, `approvers`, or both")
        _check_named(self.named_checks())
        return self


class ScoredChecks(CheckSpec):
    """The go/no-go's named checks as one gate, ``PHASE/gate:go-no-go-score``: each named
    check is evaluated, the score is the weighted share passing (on 0-10, the same arithmetic
    as ``ready.checks``: engine/readiness.py), a failing hard one or a score under
    ``min_score`` is a no-go. The loader builds it (never written in a plan); the engine
    evaluates it (engine/work.py), so its own ``evaluate`` only says so."""

    kind: ClassVar[str] = "go-no-go score"

    checks: list[NamedCheck] = Field(default_factory=list)
    min_score: float = 8

    def describe(self) -> str:
        return self.name or f"go/no-go score of {', '.join(c.name for c in self.checks)}"

    def expectation(self) -> str:
        hard = [c.name for c in self.checks if c.hard]
        words = f"score >= {self.min_score:g} (weighted share of named checks passing, 0-10)"
        return words + (f"; hard: {', '.join(hard)}" if hard else "")

    async def evaluate(self, ctx: PluginContext) -> Observation:
        return Observation("error", None, "a go/no-go score is evaluated by the engine")


def no_go_action(phase: Any, gate_id: str) -> str | None:
    """The failure action of a go/no-go gate of ``phase`` (None: not one)."""
    decision = getattr(phase, "go_no_go", None)
    if decision is None or not gate_id.startswith(GO_NO_GO):
        return None
    return NO_GO_ACTIONS[decision.on_no_go]


def is_program(phase: Any) -> bool:
    return getattr(phase, "run_plan", None) is not None


def child_plan_path(plan_file: str, run_plan: str) -> Path:
    """A child plan's path: relative to the program's plan file (``~`` expanded)."""
    path = Path(run_plan).expanduser()
    return path if path.is_absolute() else Path(plan_file).resolve().parent / path
