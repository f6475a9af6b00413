"""What the store keeps of lanes: each lane's cap and weight, the history of changes (who set
what), and one ticket per run that asked for a slot (queued until ``granted_at`` is set)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The pseudo-lane ``*``: its cap bounds all lanes' running runs together (the capacity the
# lanes share, which the weights divide). No plan names it (``valid_lane_name``).
POOL = "*"
DEFAULT_WEIGHT = 1.0

# A run's priority (``run --priority N``, the plan's ``priority:``) is a head start in its
# lane's queue: each unit counts as this many seconds of waiting. Aging still works: a run
# is passed only by runs queued less than ``(their priority - its priority) * PRIORITY_SECONDS``
# after it, so nothing starves.
PRIORITY_SECONDS = 60.0
MIN_PRIORITY, MAX_PRIORITY = -100, 100

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def valid_lane_name(name: str, *, pool: bool = False) -> bool:
    """A lane is a word of letters, digits, ``_ . -`` (``Code-API``); ``*`` when ``pool``."""
    return (pool and name == POOL) or _NAME.match(name) is not None


@dataclass(frozen=True, slots=True)
class Lane:
    """A lane's settings. ``cap`` None: no cap set (the lane never makes a run wait)."""

    name: str
    cap: int | None = None
    weight: float = DEFAULT_WEIGHT
    updated_at: float | None = None
    updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class LaneChange:
    """One ``lane set``: the audit trail of caps (who, when, from what to what)."""

    lane: str
    cap: int | None
    weight: float
    previous_cap: int | None
    previous_weight: float | None
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class Ticket:
    """A run's place in a lane: queued since ``enqueued_at``; holding a slot once
    ``granted_at`` is set, until the run ends (or its owner is found dead). ``phase`` "" is
    the plan's lane (held for the whole run); a phase id, that phase's lane (held while the
    phase runs). A run has at most one ticket per phase (and one for the plan)."""

    run_id: str
    lane: str
    enqueued_at: float
    granted_at: float | None = None
    phase: str = ""
    priority: int = 0

    @property
    def granted(self) -> bool:
        return self.granted_at is not None

    @property
    def id(self) -> str:
        """The ticket's identity: the run id for the plan's lane, ``RUN/PHASE`` for a
        phase's (run ids hold no "/")."""
        return ticket_id(self.run_id, self.phase)

    @property
    def rank(self) -> float:
        """Its order in the queue (smaller first): the time it was queued, less its
        priority's head start."""
        return rank_of(self.enqueued_at, self.priority)


def ticket_id(run_id: str, phase: str = "") -> str:
    return f"{run_id}/{phase}" if phase else run_id


def rank_of(enqueued_at: float, priority: int) -> float:
    return enqueued_at - priority * PRIORITY_SECONDS
