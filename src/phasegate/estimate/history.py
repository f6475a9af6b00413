"""What past runs of a plan took, read from their journals: work time, human waits removed.

A run's journal says when each step, phase and the run started and finished; between those,
time spent waiting for a human is not the plan's duration and is subtracted:

- a pause: from ``run.paused`` (or ``run.interrupted``: stopped until someone resumes) to the
  next ``run.resumed`` or ``run.finished``; a crash (no event says so) from the last event
  before a ``run.resumed`` that follows no pause;
- an approval: from an item's ``awaiting_approval`` to its ``approval.granted`` /
  ``approval.rejected`` (or the item's next event);
- a change window (issue 13 §1): from ``run.waiting`` to ``run.wait_ended`` (or the next
  ``phase.started``/``run.resumed``/``run.finished``). The hook is by type name: this
  version's vocabulary has no such event yet, so nothing matches until the windows work
  journals it, and then nothing here changes.

Only units that *succeeded* give a duration (a failed step's time says nothing about a good
run's); the whole run's duration only from a succeeded run. Pure over the events given; reading
a plan's history from a store is ``digest.read_history`` (through the ``JournalStore``
contract, from the runs' durations digests).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from phasegate.run import events as ev
from phasegate.run.record import JsonDict
from phasegate.store.records import RunRecord, StoredEvent

# Event type names, read once: a pydantic class attribute costs ~0.3 µs a look-up, and a
# history of 10,000 runs is ~350,000 events (bench/estimate.py).
RUN_STARTED, RUN_RESUMED, RUN_FINISHED = ev.RunStarted.type, ev.RunResumed.type, ev.RunFinished.type
RUN_PAUSED, RUN_INTERRUPTED = ev.RunPaused.type, ev.RunInterrupted.type
PHASE_STARTED, PHASE_FINISHED = ev.PhaseStarted.type, ev.PhaseFinished.type
ITEM_STARTED, ITEM_FINISHED = ev.ItemStarted.type, ev.ItemFinished.type
# Post-rollout monitoring is not the rollout: a run's duration ends where it began.
MONITORING_STARTED = ev.MonitoringStarted.type
WINDOW_WAIT = "run.waiting"  # the hook: a window-closed wait starts
WINDOW_WAIT_ENDED = "run.wait_ended"
_WINDOW_WAIT_ENDS = {WINDOW_WAIT_ENDED, PHASE_STARTED, RUN_RESUMED}
_STOPS = {RUN_PAUSED, RUN_INTERRUPTED}
# Journal writes made *during* a wait by someone else than the run's owner: not work.
_NOT_WORK = {
    ev.ApprovalGranted.type,
    ev.ApprovalRejected.type,
    ev.RunAbortRequested.type,
    ev.NotificationSent.type,
    ev.NotificationFailed.type,
    ev.Note.type,
}
Interval = tuple[float, float]


@dataclass(frozen=True)
class RunDurations:
    """One past run: its facts for the calibration rule and what its units took (seconds)."""

    run_id: str
    plan: str
    status: str
    created_at: float
    vars: JsonDict  # as run.started journalled them
    steps: dict[str, float] = field(default_factory=dict)  # "phase/step" -> seconds
    phases: dict[str, float] = field(default_factory=dict)
    total: float | None = None  # the whole run, when it succeeded
    waited: float = 0.0  # human waits subtracted from the run
    # The numeric outputs of succeeded steps ("phase/step" -> name -> value): what resource
    # budgets count (estimate/resources.py), e.g. tokens.
    amounts: dict[str, dict[str, float]] = field(default_factory=dict)


def human_waits(events: Sequence[StoredEvent], *, until: float | None = None) -> list[Interval]:
    """The intervals in which the run waited for a human (or a window), merged, in order.
    ``until`` (a live run: now) ends the waits still open; without it they are left out."""
    return WaitFold().fold(events).intervals(until)


@dataclass
class WaitFold:
    """``human_waits`` as a fold: events are folded in order, any number at a time (a live
    view keeps one and folds only the events appended since, docs/performance.md); the
    intervals are the same as the whole journal's folded at once."""

    found: list[Interval] = field(default_factory=list)
    stopped: float | None = None  # a pause or interruption, until resumed or finished
    window: float | None = None
    approvals: dict[str, float] = field(default_factory=dict)  # item key -> awaiting since
    last_work: float | None = None

    def fold(self, events: Iterable[StoredEvent]) -> WaitFold:
        found, approvals = self.found, self.approvals
        stopped, window, last_work = self.stopped, self.window, self.last_work
        for event in events:
            kind, data = event.type, event.data
            if kind in _STOPS:
                stopped = event.ts if stopped is None else stopped
            elif kind == RUN_RESUMED:
                began = stopped if stopped is not None else last_work  # a crash: since last work
                if began is not None:
                    found.append((began, event.ts))
                stopped = None
            elif kind == RUN_FINISHED and stopped is not None:
                found.append((stopped, event.ts))
                stopped = None
            if kind == WINDOW_WAIT:
                window = event.ts if window is None else window
            elif kind in _WINDOW_WAIT_ENDS and window is not None:
                found.append((window, event.ts))
                window = None
            if approvals or kind == ITEM_FINISHED:  # most runs never wait for an approval
                key = data.get("key")
                if not isinstance(key, str):
                    pass
                elif kind == ITEM_FINISHED and data.get("status") == "awaiting_approval":
                    approvals.setdefault(key, event.ts)
                elif key in approvals:
                    found.append((approvals.pop(key), event.ts))
            if kind not in _NOT_WORK:
                last_work = event.ts
        self.stopped, self.window, self.last_work = stopped, window, last_work
        return self

    def copy(self) -> WaitFold:
        """An independent copy (its containers copied; what they hold is immutable)."""
        return WaitFold(
            list(self.found), self.stopped, self.window, dict(self.approvals), self.last_work
        )

    def intervals(self, until: float | None = None) -> list[Interval]:
        found = list(self.found)
        if until is not None:
            found += [(since, until) for since in (self.stopped, self.window) if since is not None]
            found += [(since, until) for since in self.approvals.values()]
        return merge(found)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def overlap(start: float, end: float, waits: Sequence[Interval]) -> float:
    """Seconds of ``[start, end]`` spent in ``waits``."""
    total = 0.0
    for w_start, w_end in waits:
        if w_start >= end:
            break
        total += max(0.0, min(end, w_end) - max(start, w_start))
    return total


def run_vars(events: Sequence[StoredEvent]) -> JsonDict:
    """The run's variables as ``run.started`` journalled them (the last start: a resume with
    ``--var`` may change them)."""
    found: JsonDict = {}
    for event in events:
        if event.type == RUN_STARTED and isinstance(event.data.get("vars"), dict):
            found = dict(event.data["vars"])
    return found


def durations(record: RunRecord, events: Sequence[StoredEvent]) -> RunDurations:
    """What the run's succeeded steps and phases, and the run itself, took, waits removed."""
    return durations_of(record.id, record.plan_name, record.status, record.created_at, events)


def durations_of(
    run_id: str, plan: str, status: str, created_at: float, events: Sequence[StoredEvent]
) -> RunDurations:
    """``durations`` from the few columns of the run it needs (a history row has them)."""
    waits = human_waits(events)
    step_start: dict[str, float] = {}
    phase_start: dict[str, float] = {}
    steps: dict[str, float] = {}
    phases: dict[str, float] = {}
    amounts: dict[str, dict[str, float]] = {}
    started: float | None = None
    rollout_end: float | None = None
    total: float | None = None
    for event in events:
        kind, data, ts = event.type, event.data, event.ts
        if kind == ITEM_STARTED and data.get("kind") == "step":
            step_start.setdefault(data["key"], ts)  # the first attempt: retries are work
        elif kind == ITEM_FINISHED and data.get("kind") == "step":
            key = data["key"]
            if data.get("status") == "succeeded" and key in step_start:
                steps[key] = ts - step_start[key] - overlap(step_start[key], ts, waits)
            if data.get("status") == "succeeded" and data.get("outputs"):
                numbers = numeric_outputs(data["outputs"])
                if numbers:
                    amounts[key] = numbers
        elif kind == PHASE_STARTED:
            phase_start.setdefault(data["phase"], ts)
        elif kind == PHASE_FINISHED:
            phase = data["phase"]
            if data.get("status") == "succeeded" and phase in phase_start:
                since = phase_start[phase]
                phases[phase] = ts - since - overlap(since, ts, waits)
        elif kind == RUN_STARTED and started is None:
            started = ts
        elif kind == MONITORING_STARTED:
            rollout_end = ts
        elif kind == RUN_FINISHED and data.get("status") == "succeeded" and started is not None:
            end = ts if rollout_end is None else rollout_end
            total = end - started - overlap(started, end, waits)
    return RunDurations(
        run_id=run_id,
        plan=plan,
        status=status,
        created_at=created_at,
        vars=run_vars(events),
        steps=steps,
        phases=phases,
        total=total,
        waited=sum(end - start for start, end in waits),
        amounts=amounts,
    )


def work_time(
    events: Sequence[StoredEvent], start: float | None, end: float | None
) -> tuple[float | None, float]:
    """(the run's work seconds from ``start`` to ``end``, human waits removed and ending where
    post-rollout monitoring began; the seconds of human waits in that span). What the duration
    budget counts and the report calls the run's duration (the wall time is beside it)."""
    if start is None or end is None:
        return None, 0.0
    for event in events:
        if event.type == MONITORING_STARTED and start <= event.ts < end:
            end = event.ts
            break
    waited = overlap(start, end, human_waits(events, until=end))
    return end - start - waited, waited


def numeric_outputs(outputs: Any) -> dict[str, float]:
    """A step's outputs that are numbers (``tokens=1234``; outputs are text), by name."""
    found: dict[str, float] = {}
    if not isinstance(outputs, dict):
        return found
    for name, value in outputs.items():
        try:
            number = float(str(value).replace(",", "").replace("_", "").strip())
        except ValueError:
            continue
        if math.isfinite(number):
            found[str(name)] = number
    return found
