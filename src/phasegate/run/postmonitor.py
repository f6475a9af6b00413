"""Post-rollout monitoring in the run's vocabulary: the schedule's arithmetic and the fold of
``monitoring.started`` / ``monitoring.checked`` into ``RunState.monitoring``.

Pure functions. The schedule is a list of ``(every, for)`` segments in seconds; check ``n``
(1-based) is due ``offsets(schedule)[n - 1]`` seconds after monitoring started. Because the
anchor (``monitoring.started``'s ``at``) and the last slot evaluated are journalled, a
resumed run finds the next due time here, never from zero (docs/monitoring.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from phasegate.run import events as ev

if TYPE_CHECKING:
    from phasegate.run.records import MonitoringEvaluation
    from phasegate.run.state import RunState

# The evaluations ``RunState.monitoring["recent"]`` keeps (the journal has every one).
RECENT_KEPT = 20


def offsets(schedule: Sequence[tuple[float, float]]) -> list[float]:
    """When each check falls, in seconds after monitoring started: ``every``, ``2*every``, …
    up to each segment's end, segment after segment. Strictly increasing."""
    out: list[float] = []
    start = 0.0
    for every, length in schedule:
        count = math.floor(length / every + 1e-9)
        out.extend(round(start + every * n, 6) for n in range(1, count + 1))
        start += length
    return out


def total(schedule: Sequence[tuple[float, float]]) -> float:
    return sum(length for _, length in schedule)


def from_json(data: Sequence[Mapping[str, Any]]) -> list[tuple[float, float]]:
    return [(float(seg["every"]), float(seg["for"])) for seg in data]


@functools.lru_cache(maxsize=16)
def _cached_offsets(schedule: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    return tuple(offsets(schedule))


def due_offsets(data: Sequence[Mapping[str, Any]]) -> Sequence[float]:
    """``offsets`` of a journalled schedule, computed once per schedule: ``decide`` asks at
    every poll (0.2 s), and a long schedule has many slots."""
    return _cached_offsets(tuple(from_json(data)))


def next_slot(
    due: Sequence[float], start: float, last: int, now: float
) -> tuple[int, int, float] | None:
    """The slot to evaluate next, after slot ``last`` (0: none yet): ``(slot, missed, due)``;
    None when the schedule is done. Slots whose time has passed are not run one after another
    (an engine that was down for an hour would hammer the service): the latest slot due by
    ``now`` is the next, and the ones before it count as missed."""
    candidate = last + 1
    if candidate > len(due):
        return None
    # The number of slots due by now (due is increasing): slots 1..passed.
    low, high = candidate - 1, len(due)
    while low < high:
        middle = (low + high) // 2
        if start + due[middle] <= now:
            low = middle + 1
        else:
            high = middle
    slot = max(candidate, low)
    return slot, slot - candidate, start + due[slot - 1]


def active(state: RunState) -> bool:
    """Monitoring is where the run is: it started and the run has neither rolled back nor
    finished. (A run paused by its monitor resumes to ``monitoring``.)"""
    return state.monitoring is not None and state.mode == "forward" and not state.terminal


def releases_lock(state: RunState) -> bool:
    """``lock: release`` while monitoring and nothing failed: a new run of the plan may
    start. A failure (the monitor's rollback, an abort) needs the lock back."""
    monitoring = state.monitoring
    return (
        monitoring is not None
        and monitoring.get("lock") == "release"
        and active(state)
        and state.failure is None
    )


def started(state: RunState, d: ev.MonitoringStarted, ts: float) -> None:
    state.status = "monitoring"
    state.monitoring = {
        "started_at": d.at,
        "ends_at": d.ends_at,
        "schedule": [dict(segment) for segment in d.schedule],
        "checks": list(d.checks),
        "slots": d.slots,
        "on_failure": d.on_failure,
        "fail_after": d.fail_after,
        "lock": d.lock,
        "slot": 0,  # the last slot evaluated
        "evaluations": 0,
        "failures": 0,  # failed evaluations
        "missed": 0,
        "consecutive": 0,
        "next_due": d.next_due,
        "last": None,
        "recent": [],
        "actions": [],  # failures that acted: slot, action, message
    }


def checked(state: RunState, d: ev.MonitoringChecked) -> None:
    monitoring = state.monitoring
    assert monitoring is not None  # the run is monitoring: monitoring.started set it
    failing = [r.check for r in d.results if r.status != "passed"]
    evaluation: MonitoringEvaluation = {
        "slot": d.slot,
        "at": d.at,
        "status": d.status,
        "failing": failing,
        "message": d.message,
        "action": d.action,
    }
    monitoring["slot"] = d.slot
    monitoring["evaluations"] += 1
    monitoring["missed"] += d.missed
    monitoring["consecutive"] = d.consecutive
    monitoring["next_due"] = d.next_due
    monitoring["last"] = {**evaluation, "results": [r.to_json() for r in d.results]}
    monitoring["recent"].append(evaluation)
    del monitoring["recent"][:-RECENT_KEPT]
    if d.status != "passed":
        monitoring["failures"] += 1
    if d.action is None:
        return
    message = f"monitor failed at check {d.slot}: {d.message or ', '.join(failing)}"
    monitoring["actions"].append({"slot": d.slot, "at": d.at, "action": d.action})
    if d.action == "alert":
        state.warnings.append({"item": "monitor", "message": message})
    elif d.action == "rollback" and state.failure is None:
        state.failure = {
            "reason": "monitor",
            "item": f"monitor:{failing[0]}" if failing else "monitor",
            "message": message,
            "action": "rollback",
            "detected_at": d.at,
        }
