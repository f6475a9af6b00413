"""Lanes as the store keeps them (``JournalStore`` "lanes"; lanes/ has the values and the
scheduler): one row per lane setting, one per change (the audit trail: who set what), and one
ticket (table ``lane_slots``) per run and phase that asked for a slot: ``phase`` "" for the
plan's lane, held for the whole run; a phase id for a phase's ``lane:``, held while it runs.

The grant is the one write that must be atomic across servers: ``lane_request`` enqueues the
run's ticket, drops stale tickets, asks ``lanes.scheduler.grants`` and marks the granted
tickets, all in one transaction that excludes every other grant (SQLite: ``BEGIN IMMEDIATE``,
its single writer; PostgreSQL: a transaction-scoped advisory lock, ``LANES_KEY``; memory: the
store's mutex). Whoever asks grants for everybody: a run granted by another process's
transaction finds its ticket granted on its next ask.

A ticket is *stale* (its slot reclaimed, or its place in the queue dropped) when its run has
ended (also removed in the transaction that journals the end), or no live process owns it:
released unfinished (a paused run gives its slot back and queues again when resumed) or its
owner is dead, judged as ``abandoned`` judges owners (SQLite, memory: a dead pid on this host;
PostgreSQL: no session holds the run's ownership lock). One exception: a run ``queued`` that
no process owns was **parked** by a server's worker (engine/laning.py ``park``): its ticket
keeps its place, and once granted its slot, until a server resumes the run (server/workers.py
``resume_queued``), which is how a queued run gives its worker back without losing its turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phasegate.errors import UsageError
from phasegate.lanes.model import (
    DEFAULT_WEIGHT,
    MAX_PRIORITY,
    MIN_PRIORITY,
    Lane,
    LaneChange,
    Ticket,
    rank_of,
    valid_lane_name,
)
from phasegate.lanes.scheduler import grants
from phasegate.run.state import TERMINAL
from phasegate.store.process import Owner

LANE_COLUMNS = "name, cap, weight, updated_at, updated_by"
CHANGE_COLUMNS = "lane, cap, weight, previous_cap, previous_weight, changed_by, changed_at"
TICKET_COLUMNS = "run_id, lane, enqueued_at, granted_at, phase, priority"


def lane_from_row(row: tuple[Any, ...]) -> Lane:
    return Lane(
        name=str(row[0]),
        cap=None if row[1] is None else int(row[1]),
        weight=float(row[2]),
        updated_at=None if row[3] is None else float(row[3]),
        updated_by=None if row[4] is None else str(row[4]),
    )


def change_from_row(row: tuple[Any, ...]) -> LaneChange:
    return LaneChange(
        lane=str(row[0]),
        cap=None if row[1] is None else int(row[1]),
        weight=float(row[2]),
        previous_cap=None if row[3] is None else int(row[3]),
        previous_weight=None if row[4] is None else float(row[4]),
        by=str(row[5]),
        at=float(row[6]),
    )


def ticket_from_row(row: tuple[Any, ...]) -> Ticket:
    """A row of ``TICKET_COLUMNS``."""
    return Ticket(
        run_id=str(row[0]),
        lane=str(row[1]),
        enqueued_at=float(row[2]),
        granted_at=None if row[3] is None else float(row[3]),
        phase=str(row[4]),
        priority=int(row[5]),
    )


def check_priority(priority: int) -> None:
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise UsageError(f"a run's priority is {MIN_PRIORITY} to {MAX_PRIORITY}, not {priority}")


def new_setting(
    previous: Lane | None, name: str, cap: int | None, weight: float | None, by: str, ts: float
) -> tuple[Lane, LaneChange]:
    """The lane after ``set_lane`` and the change to record: a weight not given keeps the
    lane's (1 for a new lane)."""
    if weight is None:
        weight = previous.weight if previous is not None else DEFAULT_WEIGHT
    lane = Lane(name, cap, weight, ts, by)
    change = LaneChange(
        lane=name,
        cap=cap,
        weight=weight,
        previous_cap=None if previous is None else previous.cap,
        previous_weight=None if previous is None else previous.weight,
        by=by,
        at=ts,
    )
    return lane, change


def grant_time(ts: float | None) -> float:
    """The instant of a grant: the caller's (tests), or now, read once the grant's lock is
    held and the slots are read, so that grant times of processes that waited for one another
    are in grant order and never precede the end of the run whose slot they took (an end
    commits without the grant's lock on PostgreSQL: postgres/lanes.py ``_grant``)."""
    return time.time() if ts is None else ts


# A cap beyond any machine's runs; also what a SQLite INTEGER (and a PostgreSQL integer) holds.
MAX_CAP = 1_000_000


def check_setting(name: str, cap: int | None, weight: float | None) -> None:
    """What every back end refuses before writing (the CLI and the API check first, with
    their own messages; this keeps the store's rows sane whoever calls)."""
    if not valid_lane_name(name, pool=True):
        raise UsageError(
            f"{name!r} is not a lane name",
            hint="letters, digits, '_', '.', '-' (or '*' for all lanes together)",
        )
    if cap is not None and not 0 <= cap <= MAX_CAP:
        raise UsageError(f"lane {name}: a cap is 0 to {MAX_CAP:,}, not {cap}")
    if weight is not None and not weight > 0:
        raise UsageError(f"lane {name}: a weight is more than 0, not {weight}")


# What one grant reads: every granted ticket and, per lane, the oldest CANDIDATES queued
# ones (the scheduler grants a lane at most its free slots, by rank), each with its run's
# status and owner, through the index on (lane, granted_at, rank, run_id, phase). So a grant
# reads the same few rows with 10 or 10,000 runs queued; a lane with more free slots than
# that gets the rest at the next grant.
CANDIDATES = 16
_WITH_OWNERS = (
    "SELECT t.run_id, t.lane, t.enqueued_at, t.granted_at, t.phase, t.priority, r.status,"
    " r.owner_pid, r.owner_host, r.owner_start FROM lane_slots t LEFT JOIN runs r"
    " ON r.id = t.run_id"
)
GRANTED_WITH_OWNERS = _WITH_OWNERS + " WHERE t.granted_at IS NOT NULL"
QUEUED_LANES = "SELECT DISTINCT lane FROM lane_slots WHERE granted_at IS NULL"
QUEUE_HEAD = (
    _WITH_OWNERS + " WHERE t.lane = {p} AND t.granted_at IS NULL"
    f" ORDER BY t.rank, t.run_id, t.phase LIMIT {CANDIDATES}"
)
INSERT_TICKET = (
    "INSERT INTO lane_slots (run_id, phase, lane, priority, rank, enqueued_at)"
    " VALUES ({p},{p},{p},{p},{p},{p}) ON CONFLICT (run_id, phase) DO NOTHING"
)
SELECT_TICKET = f"SELECT {TICKET_COLUMNS} FROM lane_slots WHERE run_id = {{p}} AND phase = {{p}}"


def insert_args(
    run_id: str, phase: str, lane: str, priority: int, ts: float
) -> tuple[str, str, str, int, float, float]:
    return (run_id, phase, lane, priority, rank_of(ts, priority), ts)


def read_candidates(query: Callable[..., list[tuple[Any, ...]]], p: str) -> list[Held]:
    """The tickets one grant decides over (``query(sql, args)`` runs a statement in the
    grant's transaction; ``p`` is the driver's placeholder)."""
    rows = list(query(GRANTED_WITH_OWNERS, ()))
    for (lane,) in query(QUEUED_LANES, ()):
        rows += query(QUEUE_HEAD.format(p=p), (lane,))
    return [held_from_row(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Held:
    """A ticket and what judges it stale: its run's status and recorded owner."""

    ticket: Ticket
    status: str | None  # None: no such run
    owner: Owner | None


def held_from_row(row: tuple[Any, ...]) -> Held:
    """A row of ``_WITH_OWNERS``."""
    owner = None if row[7] is None else Owner(int(row[7]), str(row[8]), row[9])
    return Held(ticket_from_row(row[:6]), None if row[6] is None else str(row[6]), owner)


def settle(
    settings: Mapping[str, Lane],
    held: Sequence[Held],
    *,
    keep: str,
    dead: Callable[[Held], bool],
) -> tuple[list[str], list[str]]:
    """``(granted, stale)``: the grants to make and the tickets to drop, in one decision.

    Stale tickets are looked for only where they matter, so a grant costs the same with 10 or
    1,000 runs queued: every granted ticket (a stale one holds a slot), and each ticket the
    scheduler would grant (a stale one would waste the slot; it is dropped and the decision
    made again). A stale ticket deeper in the queue is dropped when it comes up.
    ``dead(held)`` asks the back end about a live-looking owner (a pid on this host, a
    session lock); ``keep`` (the asking run: its tickets; "" for ``lane_grant``, which asks
    for nobody) is never stale; a parked run's (``queued``, no owner) is not either. Both lists hold
    ticket ids (``Ticket.id``)."""

    def is_stale(h: Held) -> bool:
        if h.ticket.run_id == keep:
            return False
        if h.status is None or h.status in TERMINAL:
            return True
        if h.owner is None:
            return h.status != "queued"  # parked by a server's worker: not stale
        return dead(h)

    by_id = {h.ticket.id: h for h in held}
    stale = [h.ticket.id for h in held if h.ticket.granted and is_stale(h)]
    live = {key: h.ticket for key, h in by_id.items() if key not in set(stale)}
    while True:
        granted = grants(settings, list(live.values()))
        bad = [key for key in granted if is_stale(by_id[key])]
        if not bad:
            return granted, stale
        stale += bad
        for key in bad:
            del live[key]


def ticket_keys(held: Sequence[Held], ids: Sequence[str]) -> list[tuple[str, str]]:
    """``(run_id, phase)`` of the tickets ``ids`` names (from ``settle``)."""
    by_id = {h.ticket.id: h.ticket for h in held}
    return [(by_id[key].run_id, by_id[key].phase) for key in ids]


# The place of a ticket in its lane's queue (``lane_place``), one indexed count of the
# tickets ranked before it (``_order`` in lanes/scheduler.py: rank, then run id, then phase).
PLACE = (
    "SELECT COUNT(*) FROM lane_slots WHERE lane = {p} AND granted_at IS NULL"
    " AND (rank < {p} OR (rank = {p} AND (run_id < {p} OR (run_id = {p} AND phase < {p}))))"
)


def place_args(ticket: Ticket) -> tuple[str, float, float, str, str, str]:
    rank = ticket.rank
    return (ticket.lane, rank, rank, ticket.run_id, ticket.run_id, ticket.phase)
