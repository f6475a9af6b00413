"""What ``decide`` asks the runner to do, and what ``respond`` asks for an operator's input:
one frozen class per command.

``decide(plan, state, inflight)`` is pure and returns a list of these; the runner (and the
tests' simulators) ``match`` on the classes. Each carries exactly the fields its handling
needs, so a command is never a bag of keys read with ``.get``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from phasegate.run.events import Event
from phasegate.run.records import ItemBase

# An item the runner executes as a task of its own (it may take a while).
ItemWork = Literal[
    "run_step",
    "run_gate",
    "run_undo",
    "run_verify",
    "finish_analysis",
    "promote_full",
    "run_fleet",
]


@dataclass(frozen=True, slots=True)
class StartPhase:
    phase: str


@dataclass(frozen=True, slots=True)
class FinishPhase:
    phase: str
    status: str = "succeeded"  # succeeded | failed | stopped (closed by a failing run)


@dataclass(frozen=True, slots=True)
class RunItem:
    """Execute an item: a step, a gate, an undo, a verification, a background analysis's
    conclusion, or ``promote --full``'s move of all traffic."""

    work: ItemWork
    key: str
    phase: str | None = None


@dataclass(frozen=True, slots=True)
class SkipStep:
    """``promote --full``: a canary step (or a background analysis) left is skipped."""

    key: str
    phase: str


@dataclass(frozen=True, slots=True)
class StartRollback:
    order: tuple[ItemBase, ...]  # newest first


@dataclass(frozen=True, slots=True)
class FinishRollback:
    status: str  # rolled_back | rollback_failed


@dataclass(frozen=True, slots=True)
class Pause:
    reason: str  # failure | unknown | approval | blocked
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finish:
    status: str


@dataclass(frozen=True, slots=True)
class Wait:
    """A closed change window holds ``phase`` (None: the rollback): the run waits, it does not
    fail (engine/windowing.py)."""

    phase: str | None
    risk: str
    rule: str | None
    reason: str | None
    why: str
    next_open: float | None  # epoch seconds; None: not within 400 days
    timezone: str
    admission: bool = False


@dataclass(frozen=True, slots=True)
class EndWait:
    how: str  # opened | break_glass | failure
    by: str | None = None


@dataclass(frozen=True, slots=True)
class StartMonitoring:
    """The forward path succeeded and the plan has ``monitor:``: the run is ``monitoring``."""


@dataclass(frozen=True, slots=True)
class CheckMonitor:
    """Evaluate the monitor's checks for ``slot`` of the schedule (``missed`` slots passed
    over before it)."""

    slot: int
    missed: int
    due: float


Command: TypeAlias = (
    StartPhase
    | FinishPhase
    | RunItem
    | SkipStep
    | StartRollback
    | FinishRollback
    | Pause
    | Finish
    | Wait
    | EndWait
    | StartMonitoring
    | CheckMonitor
)


# -- what ``respond`` (engine/respond.py) asks for an operator's input ---------------------


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Journal ``event`` (``durable``: committed before anything else happens)."""

    event: Event
    durable: bool = False


@dataclass(frozen=True, slots=True)
class StopCommands:
    """End the commands running now: SIGTERM, then SIGKILL ``grace`` seconds later."""

    reason: str
    grace: float


@dataclass(frozen=True, slots=True)
class CutShort:
    """Nothing waits any more for a bake, a pause or an analysis (a full promote)."""

    why: str


@dataclass(frozen=True, slots=True)
class ReleaseHolds:
    """End the canary holds in progress (a promote without ``--full``)."""

    by: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """The input does not apply to the run as it is; nothing changes. ``why`` is said."""

    why: str


@dataclass(frozen=True, slots=True)
class Say:
    """Tell whoever watches the run what the input did."""

    text: str
    color: str | None = None


Response: TypeAlias = RecordEvent | StopCommands | CutShort | ReleaseHolds | Refuse | Say
