"""Post-rollout monitoring (``monitor:`` on a plan, issue 13 §3): what is checked after the
forward path succeeded, on which piecewise schedule, and what a failure does.

Not the phases' background ``monitors:`` (plan/monitor.py, commands beside a phase's steps):
this block keeps a successful run ``monitoring`` until its schedule ends. The schedule is a
list of segments, each ``{every, for}``: checks fall every ``every`` seconds within the
segment, whose own length is ``for``; segments follow each other. Durations may be a
``${VAR}`` (expanded with the run's variables when the run is created), so an example can run
a 24-hour schedule compressed to seconds (docs/monitoring.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SerializeAsAny, WithJsonSchema, model_validator

from phasegate.checks.base import CheckSpec
from phasegate.durations import DurationError, parse_duration
from phasegate.options import Identifier, Model

MonitorAction = Literal["rollback", "pause", "alert"]
LockChoice = Literal["release", "keep"]
# A bound on one run's evaluations: a schedule of 5s for 30 days is 518,400 slots; past this
# a typo (every: 1ms) is more likely than intent.
MAX_SLOTS = 1_000_000


def _duration_or_reference(value: Any) -> float | str:
    if isinstance(value, str) and "${" in value:
        return value  # expanded with the run's variables (``expand_schedule``)
    return parse_duration(value)


ScheduleDuration = Annotated[
    float | str,
    BeforeValidator(_duration_or_reference),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string"},
            ],
            "description": "seconds, a duration such as 30s, 5m, 1h, or a ${VAR} holding one",
        }
    ),
]


class Segment(Model):
    """One piece of the schedule: a check every ``every`` for ``for``."""

    every: ScheduleDuration = Field(description="the interval between two checks")
    for_: ScheduleDuration = Field(
        alias="for",
        description="the segment's own length; the next segment starts where this one ends",
    )

    @model_validator(mode="after")
    def _positive(self) -> Segment:
        if isinstance(self.every, float) and self.every <= 0:
            raise ValueError("`every` must be more than 0 (e.g. 5m)")
        every, length = self.every, self.for_
        if isinstance(every, float) and isinstance(length, float) and length < every:
            raise ValueError(
                f"`for` ({length:g}s) is shorter than `every` ({every:g}s): "
                "the segment would have no check"
            )
        return self


class PostMonitor(Model):
    """``monitor:``: checks kept running on a schedule after the rollout succeeded."""

    checks: list[SerializeAsAny[CheckSpec]] = Field(
        default_factory=list,
        description="checks (any kind a gate takes) evaluated at each scheduled time",
    )
    triggers: list[Identifier] = Field(
        default_factory=list,
        description="names of the plan's `triggers:` whose checks are evaluated too",
    )
    schedule: list[Segment] = Field(
        min_length=1,
        description="piecewise: `[{every: 5m, for: 1h}, {every: 1h, for: 23h}]` checks every "
        "5 minutes for an hour, then hourly for 23 hours (24 hours in all)",
    )
    on_failure: MonitorAction = Field(
        "rollback",
        description="rollback: the whole run rolls back; pause: the run pauses for a human "
        "(resume continues monitoring); alert: a `monitor.failed` notification, monitoring "
        "goes on",
    )
    fail_after: int = Field(
        1, ge=1, le=1000, description="consecutive failed evaluations that take the action"
    )
    lock: LockChoice = Field(
        "keep",
        description="keep: the plan's lock stays held until monitoring ends (no second run of "
        "the plan meanwhile); release: a new run of the plan may start while this one monitors",
    )

    @model_validator(mode="after")
    def _something_to_check(self) -> PostMonitor:
        if not self.checks and not self.triggers:
            raise ValueError(
                "a monitor needs `checks:` (e.g. `- http: http://127.0.0.1:8080/healthz`) or "
                "`triggers:` naming the plan's triggers"
            )
        return self


def expand_schedule(
    schedule: Sequence[Segment], expand: Callable[[str], str]
) -> list[tuple[float, float]]:
    """The schedule in seconds, ``(every, for)`` per segment, with ``${VAR}`` durations
    expanded by ``expand`` (the run's ``Variables.expand``). Raises ``ValueError`` naming the
    segment when a value is not a duration, or the schedule is empty or too long."""
    out: list[tuple[float, float]] = []
    for index, segment in enumerate(schedule):
        values: list[float] = []
        for name, raw in (("every", segment.every), ("for", segment.for_)):
            text = expand(raw) if isinstance(raw, str) else raw
            try:
                values.append(parse_duration(text))
            except DurationError as exc:
                raise ValueError(f"monitor.schedule[{index}].{name}: {exc}") from None
        every, length = values
        if every <= 0:
            raise ValueError(f"monitor.schedule[{index}].every: must be more than 0")
        if length < every:
            raise ValueError(
                f"monitor.schedule[{index}]: `for` ({length:g}s) is shorter than `every` "
                f"({every:g}s)"
            )
        out.append((every, length))
    if sum(math.floor(length / every + 1e-9) for every, length in out) > MAX_SLOTS:
        raise ValueError(f"monitor.schedule has more than {MAX_SLOTS:,} checks")
    return out


def as_json(schedule: Sequence[tuple[float, float]]) -> list[dict[str, float]]:
    return [{"every": every, "for": length} for every, length in schedule]
