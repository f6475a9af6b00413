"""A run's state and the one function that changes it: ``apply(state, event)``.

The journal is the list of events; the state is their fold. ``apply`` does no I/O and refuses
events that are not a valid next step of the run (``InvalidTransition``), which is how
``phasegate check`` proves that every stored run followed a legal path. It mutates the state it
is given (copying a 5,000-step state per event would make runs quadratic) and returns the keys
of the rows that changed, which the store materializes in the same transaction.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from phasegate.errors import InvalidTransition
from phasegate.run import events as ev
from phasegate.run import postmonitor
from phasegate.run.record import Record
from phasegate.run.records import (
    AnalysisRecord,
    BudgetRecord,
    ChildRecord,
    DecisionRecord,
    FailureRecord,
    LaneRecord,
    Measurement,
    MonitoringRecord,
    MonitorRecord,
    ParentRecord,
    PauseRecord,
    ProcessRecord,
    PromotedRecord,
    QueueRecord,
    ReadinessRecord,
    RollbackRecord,
    ShellSession,
    TrafficRecord,
    TriggerRecord,
    WaitEnded,
    WaitRecord,
    WarningRecord,
)

# In run.created's needs of a phase with `needs_mode: any`, before the phase ids.
NEEDS_ANY = "*"
TERMINAL = ("succeeded", "failed", "rolled_back", "rollback_failed")
RESUMABLE = (
    "paused",
    "interrupted",
    "running",
    "rolling_back",
    "pending",
    "waiting",
    "monitoring",
    "queued",
)
# Live statuses: a process executes the run (waiting: for a change window to open;
# monitoring: the forward path succeeded, the plan's ``monitor:`` checks run on a schedule;
# queued: for a lane slot).
EXECUTING = ("running", "rolling_back", "waiting", "monitoring", "queued")
EXIT_CODES = {
    "succeeded": 0,
    "failed": 1,
    "rolled_back": 1,
    "rollback_failed": 3,
    "paused": 4,
    "interrupted": 130,
}
ITEM_DONE = ("succeeded", "failed", "skipped", "passed", "warned", "error")


@dataclass
class Item:
    key: str
    kind: str  # step | gate | undo | rollback | verify | traffic
    phase: str | None
    name: str
    status: str = "pending"
    attempt: int = 0
    exit_code: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class PhaseState:
    id: str
    status: str = "pending"  # pending | running | succeeded | failed
    started_at: float | None = None
    finished_at: float | None = None
    start_seq: int | None = None
    end_seq: int | None = None


@dataclass
class RunState:
    run_id: str
    status: str = "pending"
    mode: str = "forward"  # forward | rollback
    seq: int = 0
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    phases: dict[str, PhaseState] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    failure: FailureRecord | None = None
    pause: PauseRecord | None = None
    rollback: RollbackRecord | None = None
    approvals: dict[str, list[str]] = field(default_factory=dict)
    # Every approval and rejection in order, with who, when and the comment given (the audit
    # trail of go/no-go decisions; ``approvals`` above only counts distinct approvers).
    decisions: list[DecisionRecord] = field(default_factory=list)
    answered_requests: set[int] = field(default_factory=set)  # approvals' request ids
    # Choices made with an approval (`approve --choose`): variable -> option. They override the
    # plan's value of that variable for every `when:` after the decision (plan/model.py
    # PauseChoice); journalled, so a resume after a crash sees the same choice.
    choices: dict[str, str] = field(default_factory=dict)
    warnings: list[WarningRecord] = field(default_factory=list)
    triggers: dict[str, TriggerRecord] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # items whose outcome a crash hid
    # The weights the router last confirmed, and every change: {"weights", "history"}.
    traffic: TrafficRecord = field(default_factory=TrafficRecord)
    # Per analysis item (a step, or a phase's background analysis): counts, the latest
    # measurements of each metric and the verdict so far.
    analysis: dict[str, AnalysisRecord] = field(default_factory=dict)
    promoted: PromotedRecord | None = None  # `promote --full`: who, when
    # Deliveries per notification channel: {"sent": n, "failed": n} (the journal has each).
    notifications: dict[str, dict[str, int]] = field(default_factory=dict)
    # shell_session: the terminal the succeeded commands left, in the journal's order
    # ({"vars": {name: entry | None}, "cwd": entry}; engine/shellstate.py).
    shell: ShellSession = field(default_factory=ShellSession)
    # Phases' background monitors by key (``PHASE/monitor:NAME``): status (running, stopped,
    # exited, error), attempt, process (pid, pgid, start), log (engine/monitors.py).
    monitors: dict[str, MonitorRecord] = field(default_factory=dict)
    # The phase DAG as run.created recorded it, and what it implies now: kept up to date here
    # so that deciding the next step costs the same for a 5-phase and a 5,000-phase plan.
    order: dict[str, int] = field(default_factory=dict)
    dependents: dict[str, list[str]] = field(default_factory=dict)
    unmet: dict[str, int] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)  # pending phases whose needs succeeded
    running: list[str] = field(default_factory=list)  # in plan order
    # A closed change window holding the run (status ``waiting``): the phase held (None: the
    # rollback), the rule that closed it and why, the next opening, since when
    # (engine/windowing.py). ``waits``: every wait that ended, with how (opened, break_glass,
    # failure, resumed, …) and by whom: human time an estimate subtracts.
    wait: WaitRecord | None = None
    waits: list[WaitEnded] = field(default_factory=list)
    # Budgets watched while the run works (docs/budgets.md), by name (duration, a resource):
    # the runway thresholds passed (each said once, also after a resume) and the latest
    # projection that passed one ({"crossed": [...], "projected", "runway", "at"}).
    budgets: dict[str, BudgetRecord] = field(default_factory=dict)
    # Post-rollout monitoring (plan ``monitor:``, run/postmonitor.py): the schedule, where it
    # is (last slot evaluated, next due), counts and recent evaluations. None: not monitored.
    monitoring: MonitoringRecord | None = None
    # Lanes (docs/lanes.md): ``queue`` while the run waits for a slot (lane, since, cap,
    # position); ``lane`` once it holds one (lane, granted_at, waited).
    queue: QueueRecord | None = None
    lane: LaneRecord | None = None
    # A program's child runs by phase: run id (journalled before the child starts), plan,
    # and once it ended, its status (engine/program.py). A child run's parent: run, phase.
    children: dict[str, ChildRecord] = field(default_factory=dict)
    parent: ParentRecord | None = None
    # The last readiness evaluation of each program phase (readiness.evaluated).
    readiness: dict[str, ReadinessRecord] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def holds_lock(self) -> bool:
        """Whether the run keeps its plan's lock: until it finishes, except while it monitors
        with ``lock: release`` (a failing monitor's rollback takes it again first)."""
        if self.terminal:
            return False
        return not postmonitor.releases_lock(self)

    def summary(self) -> dict[str, Any]:
        """The run-level row: everything except phases and items."""
        # Not asdict(self), nor copies: this is serialized at once, and copying every item on
        # every event would make long runs quadratic.
        return {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name not in _DERIVED
        }


# Rows of their own (phases, items) or pure functions of run.created and phase events; and
# the approvals' request ids, which only the fold (``load_state`` replays the events) reads.
_DERIVED = (
    "phases",
    "items",
    "order",
    "dependents",
    "unmet",
    "ready",
    "running",
    "answered_requests",
)


def _refuse(state: RunState, etype: str, why: str) -> InvalidTransition:
    return InvalidTransition(
        f"run {state.run_id}: event #{state.seq + 1} {etype!r} is invalid: {why}"
    )


def apply(state: RunState, event: ev.Event, ts: float) -> set[str]:
    """Fold one event into the state; return changed row keys ("run", "phase:X", "item:K")."""
    et = event.type
    if state.seq == 0 and not isinstance(event, ev.RunCreated):
        raise _refuse(state, et, "a run's first event is run.created")
    changed = _fold(state, event, ts, et)
    state.seq += 1
    changed.add("run")
    return changed


def apply_stored(state: RunState, etype: str, data: dict[str, Any], ts: float) -> set[str]:
    """``apply`` for an event as a journal row holds it (type, JSON object)."""
    return apply(state, ev.from_stored(etype, data), ts)


def _fold(s: RunState, event: ev.Event, ts: float, et: str) -> set[str]:
    match event:
        case ev.RunCreated():
            return _created(s, event, ts, et)
        case ev.RunStarted():
            _need(s, et, "pending")
            s.status, s.started_at = "running", ts
            return set()
        case ev.RunResumed():
            return _resumed(s, event, ts, et)
        case ev.RunPaused():
            return _paused(s, event, ts, et)
        case ev.RunInterrupted():
            _need(s, et, "running", "rolling_back", "paused", "waiting", "monitoring", "queued")
            _end_wait(s, ts, "interrupted")
            s.queue = None  # its place in the queue is dropped with its process
            s.status = "interrupted"
            return set()
        case ev.RunWaiting():
            return _waiting_for_window(s, event, ts, et)
        case ev.RunWaitEnded():
            _need(s, et, "waiting")
            _end_wait(s, ts, event.how, event.by)
            s.status = "running" if s.mode == "forward" else "rolling_back"
            return set()
        case ev.RunQueued():
            _need(s, et, "running")
            s.status = "queued"
            s.queue = cast(QueueRecord, {**event.to_json(), "since": ts})
            return set()
        case ev.RunDequeued():
            return _dequeued(s, event, ts, et)
        case ev.LaneGranted():
            _need(s, et, "running")
            if event.phase is None:  # a phase's slot is the phase's: ``lane`` is the run's
                s.lane = {"lane": event.lane, "granted_at": event.granted_at, "waited": 0}
            return set()
        case ev.RunFinished():
            return _finished(s, event, ts, et)
        case ev.RunAbortRequested():
            return _abort(s, event, ts, et)
        case ev.RunPromoted():
            return _promoted(s, event, ts, et)
        case ev.PhaseStarted():
            return _phase_started(s, event, ts, et)
        case ev.PhaseFinished():
            return _phase_finished(s, event, ts, et)
        case ev.ItemStarted():
            return _item_started(s, event, ts, et)
        case ev.ItemFinished():
            return _item_finished(s, event, ts, et)
        case ev.ItemSpawned():
            return _item_spawned(s, event, et)
        case ev.ItemUnknown():
            return _item_unknown(s, event, et)
        case ev.ItemWaiting():
            return _waiting(s, event, et)
        case ev.TriggerState():  # and TriggerTripped, its subclass
            return _trigger(s, event, et)
        case ev.ApprovalGranted():
            return _approval(s, event, ts, et)
        case ev.ApprovalRejected():
            return _rejected(s, event, ts, et)
        case ev.AnalysisMeasured():
            return _measured(s, event, et)
        case ev.TrafficChanged():
            return _traffic_changed(s, event, ts, et)
        case ev.RollbackStarted():
            return _rollback_started(s, event, ts, et)
        case ev.RollbackFinished():
            return _rollback_finished(s, event, ts, et)
        case ev.Warning():
            s.warnings.append({"item": event.item, "message": event.message})
            if event.budget and event.budget != "rollback":  # said once per run, resumes too
                s.budgets.setdefault(event.budget, {"crossed": []})["overrun"] = ts
            return set()
        case ev.BudgetRunway():
            return _runway(s, event, ts, et)
        case ev.NotificationSent():  # and NotificationFailed
            # A delivery's outcome; in any state, since the last ones follow run.finished.
            counts = s.notifications.setdefault(event.channel, {"sent": 0, "failed": 0})
            counts["failed" if isinstance(event, ev.NotificationFailed) else "sent"] += 1
            return set()
        case ev.Note():
            return set()
        case ev.ChildLinked():
            entry = s.children.setdefault(event.phase, {})
            entry.update({"run": event.run, "plan": event.plan, "linked_at": ts})
            return set()
        case ev.ChildEnded():
            entry = s.children.setdefault(event.phase, {"run": event.run})
            entry.update({"status": event.status, "ended_at": ts})
            return set()
        case ev.ParentLinked():
            s.parent = {"run": event.run, "phase": event.phase, "plan": event.plan}
            return set()
        case ev.ReadinessEvaluated():
            s.readiness[event.phase] = cast(ReadinessRecord, event.to_json())
            return set()
        case ev.MonitorStarted():
            return _monitor_started(s, event, ts, et)
        case ev.MonitorSpawned():
            return _monitor_spawned(s, event, et)
        case ev.MonitorFinished():
            return _monitor_finished(s, event, ts, et)
        case ev.MonitoringStarted():
            _need(s, et, "running")
            postmonitor.started(s, event, ts)
            return set()
        case ev.MonitoringChecked():
            _need(s, et, "monitoring")
            postmonitor.checked(s, event)
            return set()
    raise _refuse(s, et, "unknown event type")  # pragma: no cover: every class is matched


def _need(state: RunState, etype: str, *statuses: str) -> None:
    if state.status not in statuses:
        raise _refuse(state, etype, f"run is {state.status}, expected {' or '.join(statuses)}")


def _given(event: Record, name: str) -> bool:
    """Whether the event carried the field (a hand-built dict had the key), even as null."""
    return name in event.model_fields_set


def _created(s: RunState, d: ev.RunCreated, ts: float, et: str) -> set[str]:
    if s.seq != 0:
        raise _refuse(s, et, "a run is created once")
    s.created_at = ts
    for position, phase_id in enumerate(d.phases):
        s.phases[phase_id] = PhaseState(phase_id)
        s.order[phase_id] = position
        s.dependents.setdefault(phase_id, [])
    for phase_id in s.phases:
        given = d.needs.get(phase_id, ())
        wanted = [n for n in given if n in s.phases]
        # `needs_mode: any` (recorded as NEEDS_ANY before the needs): one success is enough;
        # the count then goes below zero as the others succeed, which readies nothing twice.
        s.unmet[phase_id] = min(1, len(wanted)) if given[:1] == (NEEDS_ANY,) else len(wanted)
        for need in wanted:
            s.dependents[need].append(phase_id)
    s.ready = [p for p in s.phases if s.unmet[p] == 0]
    return {f"phase:{p}" for p in s.phases}


def _resumed(s: RunState, d: ev.RunResumed, ts: float, et: str) -> set[str]:
    _need(
        s, et, "paused", "interrupted", "running", "rolling_back", "waiting", "monitoring", "queued"
    )
    # A run that was queued asks for a slot again (its ticket kept its place if it is still
    # there). A run that was waiting (its process died, or an operator verb takes it over)
    # asks its window again: the engine journals a new wait if it is still closed.
    _end_wait(s, ts, "resumed")
    # A run parked while queued (no process owned it: engine/laning.py ``parkable``) is
    # resumed still queued, in its place: ``run.dequeued`` ends the wait, as for a run that
    # waited in its process.
    parked = s.queue if s.status == "queued" and d.after == "parked" else None
    s.queue = None
    changed: set[str] = set()
    for key in d.retry:
        item = _item(s, et, key)
        if item.status not in ("unknown", "failed", "error", "awaiting_approval", "interrupted"):
            raise _refuse(s, et, f"{key} is {item.status}; only unknown or failed items retry")
        item.status = "pending"
        changed.add(f"item:{key}")
    for key in d.skip:
        item = _item(s, et, key)
        if item.status not in (
            "unknown",
            "failed",
            "error",
            "pending",
            "awaiting_approval",
            "interrupted",
        ):
            raise _refuse(s, et, f"{key} is {item.status}; it cannot be skipped")
        item.status = "skipped"
        item.data["skipped_by_operator"] = True
        changed.add(f"item:{key}")
    for key in d.mark_done:
        item = _item(s, et, key)
        if item.status != "unknown":
            raise _refuse(s, et, f"{key} is {item.status}; only unknown items can be marked done")
        item.status = "succeeded"
        item.data["marked_done_by_operator"] = True
        if item.kind == "step":
            s.completed.append(key)
        changed.add(f"item:{key}")
    if d.clear_failure:
        s.failure = None
    s.unknown = [k for k in s.unknown if s.items[k].status == "unknown"]
    s.pause = None
    s.status = "running" if s.mode == "forward" else "rolling_back"
    if postmonitor.active(s):
        s.status = "monitoring"  # the schedule continues where the journal left it
    if parked is not None:
        s.status, s.queue = "queued", parked
    return changed


def _item(s: RunState, et: str, key: str) -> Item:
    item = s.items.get(key)
    if item is None:
        raise _refuse(s, et, f"no item {key!r} in this run")
    return item


def _phase_started(s: RunState, d: ev.PhaseStarted, ts: float, et: str) -> set[str]:
    _need(s, et, "running")
    phase = s.phases.get(d.phase)
    if phase is None or phase.status != "pending":
        raise _refuse(s, et, f"phase {d.phase!r} cannot start")
    phase.status, phase.started_at, phase.start_seq = "running", ts, s.seq + 1
    if phase.id in s.ready:
        s.ready.remove(phase.id)
    bisect.insort(s.running, phase.id, key=s.order.__getitem__)
    return {f"phase:{phase.id}"}


def _phase_finished(s: RunState, d: ev.PhaseFinished, ts: float, et: str) -> set[str]:
    phase = s.phases.get(d.phase)
    if phase is None or phase.status != "running":
        raise _refuse(s, et, f"phase {d.phase!r} is not running")
    phase.status, phase.finished_at, phase.end_seq = d.status, ts, s.seq + 1
    s.running.remove(phase.id)
    if phase.status == "succeeded":
        for dependent in s.dependents.get(phase.id, []):
            s.unmet[dependent] -= 1
            if s.unmet[dependent] == 0 and s.phases[dependent].status == "pending":
                bisect.insort(s.ready, dependent, key=s.order.__getitem__)
    return {f"phase:{phase.id}"}


def _new_item(d: ev.ItemRef | ev.RollbackEntry) -> Item:
    return Item(key=d.key, kind=d.kind, phase=d.phase, name=d.name if d.name is not None else d.key)


def _item_started(s: RunState, d: ev.ItemStarted, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "rolling_back")
    key = d.key
    item = s.items.get(key)
    if item is None:
        item = s.items[key] = _new_item(d)
    elif item.status not in ("pending", "retrying", "interrupted"):
        raise _refuse(s, et, f"{key} is {item.status}; it cannot start")
    item.status = "running"
    item.attempt = d.attempt if d.attempt is not None else item.attempt + 1
    item.started_at = ts
    item.finished_at = None
    given = d.to_json()
    for name in ("command", "description", "expectation", "hosts"):
        if name in given:
            item.data[name] = given[name]
    return {f"item:{key}"}


# What an item's row keeps of its outcome (item.data), when the event carries it.
_ITEM_DATA = (
    "message",
    "observed",
    "expectation",
    "duration",
    "outputs",
    "severity",
    "attempts",
    "description",
    "log",
    "inconclusive",
    "detected_at",
    "killed",
    "host",
    "unreachable",
)


def _item_finished(s: RunState, d: ev.ItemFinished, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "rolling_back")
    key, status = d.key, d.status
    item = s.items.get(key)
    if item is None:
        # Items that never journal a start (gates, skipped steps) appear on finishing.
        item = s.items[key] = _new_item(d)
        item.started_at = d.started_at if _given(d, "started_at") else ts
    elif item.status not in ("running", "pending", "retrying") and not (
        item.status == "awaiting_approval" and status == "skipped"
    ):
        raise _refuse(s, et, f"{key} is {item.status}; it cannot finish again")
    # interrupted: phasegate ended the command at a signal to itself; it runs again on resume.
    if status not in (*ITEM_DONE, "retrying", "awaiting_approval", "interrupted"):
        raise _refuse(s, et, f"unknown item status {status!r}")
    item.status = status
    item.finished_at = ts
    item.exit_code = d.exit_code
    if d.attempt is not None:
        item.attempt = d.attempt
    given = d.to_json()
    for name in _ITEM_DATA:
        if name in given:
            item.data[name] = given[name]
    if status == "succeeded" and item.kind == "step":
        s.completed.append(key)
    if status == "succeeded" and d.shell:
        fold_shell(s.shell, d.shell)
    message = (d.message or "") if _given(d, "message") else ""
    if status == "warned":
        s.warnings.append({"item": key, "message": message})
    if s.mode == "rollback" and status in ("failed", "error") and s.rollback is not None:
        s.rollback["failures"].append({"item": key, "message": d.message})
    elif status in ("failed", "error") and not d.tolerated and s.failure is None:
        failure = FailureRecord(
            reason=item.kind if item.kind in ("gate", "analysis") else "step",
            item=key,
            message=message,
            action=d.action,
        )
        if d.detected_at is not None:
            failure["detected_at"] = d.detected_at
        s.failure = failure
    return {f"item:{key}"}


def _process(d: ev.ItemSpawned | ev.MonitorSpawned) -> ProcessRecord:
    return {"pid": d.pid, "pgid": d.pgid, "start": d.start, "attempt": d.attempt}


def _item_spawned(s: RunState, d: ev.ItemSpawned, et: str) -> set[str]:
    """Where a started command runs: its pid, process group and the pid's start time."""
    item = _item(s, et, d.key)
    if item.status != "running":
        raise _refuse(s, et, f"{item.key} is {item.status}, not running")
    item.data["process"] = _process(d)
    return {f"item:{item.key}"}


def _item_unknown(s: RunState, d: ev.ItemUnknown, et: str) -> set[str]:
    item = _item(s, et, d.key)
    if item.status != "running":
        raise _refuse(s, et, f"{item.key} is {item.status}, not running")
    item.data["unknown_count"] = item.data.get("unknown_count", 0) + 1
    if d.reason:
        item.data["unknown_reason"] = d.reason
    item.status = "pending" if d.idempotent else "unknown"
    if item.status == "unknown":
        s.unknown.append(item.key)
    return {f"item:{item.key}"}


def _waiting(s: RunState, d: ev.ItemWaiting, et: str) -> set[str]:
    """A canary step holds (bake, pause): until when, so a resumed run waits only the rest."""
    _need(s, et, "running")
    item = _item(s, et, d.key)
    if item.status != "running":
        raise _refuse(s, et, f"{item.key} is {item.status}, not running")
    item.data["until"] = d.until
    item.data["waiting"] = d.what
    return {f"item:{item.key}"}


MEASUREMENTS_KEPT = 20


def _measured(s: RunState, d: ev.AnalysisMeasured, et: str) -> set[str]:
    _need(s, et, "running", "paused", "rolling_back")
    info = s.analysis.setdefault(d.key, {"metrics": {}})
    metric = info["metrics"].setdefault(d.metric, {"counts": {}, "last": []})
    metric["counts"][d.status] = metric["counts"].get(d.status, 0) + 1
    given = d.to_json()
    kept = {k: given[k] for k in ("at", "status", "value", "message") if k in given}
    metric["last"].append(cast(Measurement, kept))
    del metric["last"][:-MEASUREMENTS_KEPT]
    if _given(d, "verdict"):
        info["verdict"] = d.verdict
    return set()


def _promoted(s: RunState, d: ev.RunPromoted, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "paused", "interrupted", "waiting")
    if s.mode != "forward":
        raise _refuse(s, et, "a rolling-back run cannot be promoted")
    s.promoted = {"by": d.by, "at": ts}
    return set()


def _trigger(s: RunState, d: ev.TriggerState, et: str) -> set[str]:
    # Triggers keep watching while the run waits for a window or a phase's lane slot: a
    # half-done rollout is live.
    _need(s, et, "running", "rolling_back", "paused", "waiting", "queued")
    info = s.triggers.setdefault(d.trigger, {})
    info.update(cast(TriggerRecord, {k: v for k, v in d.to_json().items() if k != "trigger"}))
    if isinstance(d, ev.TriggerTripped) and s.mode == "forward":
        message = f"trigger {d.trigger} tripped: {d.message}"
        if d.action == "alert":
            s.warnings.append({"item": f"trigger:{d.trigger}", "message": message})
        elif s.failure is None:
            s.failure = {
                "reason": "trigger",
                "item": f"trigger:{d.trigger}",
                "message": message,
                "action": d.action,
            }
            if d.detected_at is not None:
                s.failure["detected_at"] = d.detected_at
    return set()


def _traffic_changed(s: RunState, d: ev.TrafficChanged, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "rolling_back")
    applied = d.confirmed
    if applied is None:
        raise _refuse(s, et, "a traffic change names the weights applied")
    s.traffic["weights"] = dict(applied)
    if d.detection_latency is not None and s.rollback is not None:
        s.rollback["detection_latency"] = d.detection_latency
    s.traffic.setdefault("history", []).append(
        {"at": ts, "weights": dict(applied), "by": d.by, "reason": d.reason}
    )
    return set()


def _approval(s: RunState, d: ev.ApprovalGranted, ts: float, et: str) -> set[str]:
    if s.terminal:
        raise _refuse(s, et, "the run has finished")
    if d.request is not None:
        s.answered_requests.add(d.request)
    who = s.approvals.setdefault(d.key, [])
    if d.by not in who:
        who.append(d.by)
    s.decisions.append(_decision("approved", d, ts))
    if d.var and d.choice is not None:
        s.choices[d.var] = d.choice
    changed: set[str] = set()
    item = s.items.get(d.key)
    if item is not None and item.status == "awaiting_approval" and len(who) >= d.required:
        item.status = "pending"
        changed.add(f"item:{item.key}")
    return changed


def _decision(
    decision: Literal["approved", "rejected"],
    d: ev.ApprovalGranted | ev.ApprovalRejected,
    ts: float,
) -> DecisionRecord:
    record = DecisionRecord(key=d.key, decision=decision, by=d.by, comment=d.comment or "", at=ts)
    choice = d.choice if isinstance(d, ev.ApprovalGranted) else None
    if choice is not None:
        record["choice"] = choice
    return record


def _rejected(s: RunState, d: ev.ApprovalRejected, ts: float, et: str) -> set[str]:
    """A no-go (``phasegate reject``): the gate fails and the run rolls back, whatever its
    ``on_failure`` says, because a person decided it must not go on."""
    _need(s, et, "running", "paused", "interrupted", "waiting")
    if s.mode != "forward":
        raise _refuse(s, et, "a rolling-back run has nothing left to reject")
    key = d.key
    item = s.items.get(key)
    if item is None:  # rejected before the run reached it
        item = Item(key=key, kind=d.kind, phase=d.phase, name=d.name or key)
        item.started_at = ts
        s.items[key] = item
    elif item.status not in ("pending", "awaiting_approval"):
        raise _refuse(s, et, f"{key} is {item.status}; only a waiting item can be rejected")
    comment = d.comment or ""
    message = f"rejected by {d.by}" + (f": {comment}" if comment else "")
    item.status = "failed"
    item.finished_at = ts
    item.data["message"] = message
    item.data["rejected"] = {"by": d.by, "comment": comment}
    s.decisions.append(_decision("rejected", d, ts))
    if s.failure is None:
        s.failure = {
            "reason": "rejected",
            "item": key,
            "message": message,
            "action": d.action or "rollback",
            "detected_at": ts,
        }
    return {f"item:{key}"}


def _abort(s: RunState, d: ev.RunAbortRequested, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "paused", "interrupted", "pending", "waiting", "monitoring", "queued")
    by = d.by if _given(d, "by") else "operator"
    s.failure = {
        "reason": "aborted",
        "item": None,
        "action": "rollback",
        "message": f"aborted by {by}: {d.reason or ''}".strip(),
        "detected_at": ts,
    }
    return set()


def _waiting_for_window(s: RunState, d: ev.RunWaiting, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "rolling_back")
    s.status = "waiting"
    s.wait = cast(WaitRecord, {**d.to_json(), "since": ts, "mode": s.mode})
    return set()


def _dequeued(s: RunState, d: ev.RunDequeued, ts: float, et: str) -> set[str]:
    _need(s, et, "queued")
    s.status = "running"
    s.queue = None
    if d.how == "granted" and d.phase is None:
        s.lane = {"lane": d.lane, "granted_at": d.granted_at, "waited": d.waited}
    return set()


def _end_wait(s: RunState, ts: float, how: str, by: str | None = None) -> None:
    """Close the current wait (if any) into ``waits``: who ended it, how, and when."""
    if s.wait is None:
        return
    ended: WaitEnded = {
        "phase": s.wait.get("phase"),
        "rule": s.wait.get("rule"),
        "since": s.wait.get("since"),
        "until": ts,
        "how": how,
    }
    if by is not None:
        ended["by"] = by
    s.waits.append(ended)
    s.wait = None


def _runway(s: RunState, d: ev.BudgetRunway, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "paused", "waiting")
    budget = s.budgets.setdefault(d.budget, {"crossed": []})
    if d.threshold in budget["crossed"]:
        raise _refuse(s, et, f"runway threshold {d.threshold:g} of {d.budget} was passed already")
    budget["crossed"].append(d.threshold)
    budget.update(
        {"projected": d.projected, "runway": d.runway, "limit": d.limit, "used": d.used, "at": ts}
    )
    return set()


def _paused(s: RunState, d: ev.RunPaused, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "rolling_back", "monitoring")
    s.status = "paused"
    s.pause = {"reason": d.reason, "items": list(d.items), "at": ts, "message": d.message}
    return set()


def _rollback_started(s: RunState, d: ev.RollbackStarted, ts: float, et: str) -> set[str]:
    _need(
        s,
        et,
        "running",
        "succeeded",
        "failed",
        "rollback_failed",
        "paused",
        "interrupted",
        "waiting",
        "monitoring",
    )
    _end_wait(s, ts, "rollback")
    changed: set[str] = set()
    retry = s.status == "rollback_failed"
    s.mode, s.status = "rollback", "rolling_back"
    started_at = s.rollback["started_at"] if retry and s.rollback is not None else ts
    s.rollback = {
        "reason": d.reason,
        "by": d.by,
        "order": [entry.to_json() for entry in d.order],
        "started_at": started_at,
        "attempt_started_at": ts,
        "budget": d.budget,
        "failures": [],
    }
    if retry:  # verification runs again after the retried actions
        for key in [k for k in s.items if k.startswith("verify:")]:
            del s.items[key]
            changed.add(f"item:{key}")
    for entry in d.order:
        item = s.items.get(entry.key)
        if item is None or (retry and item.status in ("failed", "error")):
            s.items[entry.key] = _new_item(entry)
            changed.add(f"item:{entry.key}")
    s.finished_at = None
    return changed


def _rollback_finished(s: RunState, d: ev.RollbackFinished, ts: float, et: str) -> set[str]:
    _need(s, et, "rolling_back")
    assert s.rollback is not None
    s.rollback.update(
        {"finished_at": ts, "status": d.status, "duration": d.duration, "overrun": d.overrun}
    )
    return set()


def _finished(s: RunState, d: ev.RunFinished, ts: float, et: str) -> set[str]:
    _need(s, et, "running", "rolling_back", "paused", "monitoring")
    if d.status not in TERMINAL:
        raise _refuse(s, et, f"{d.status!r} is not a final status")
    s.status = d.status
    s.finished_at = ts
    s.pause = None
    return set()


def _monitor_started(s: RunState, d: ev.MonitorStarted, ts: float, et: str) -> set[str]:
    _need(s, et, "running")
    previous = s.monitors.get(d.key)
    if previous is not None and previous["status"] == "running":
        raise _refuse(s, et, f"monitor {d.key} is running already")
    s.monitors[d.key] = {
        "phase": d.phase,
        "name": d.name,
        "attempt": d.attempt,
        "command": d.command,
        "log": d.log,
        "status": "running",
        "started_at": ts,
    }
    return set()


def _monitor_spawned(s: RunState, d: ev.MonitorSpawned, et: str) -> set[str]:
    monitor = s.monitors.get(d.key)
    if monitor is None or monitor["status"] != "running":
        raise _refuse(s, et, f"monitor {d.key} is not running")
    monitor["process"] = _process(d)
    return set()


def _monitor_finished(s: RunState, d: ev.MonitorFinished, ts: float, et: str) -> set[str]:
    """A monitor ended: stopped by phasegate, exited by itself, or never started. Observation
    only: in any run status (the last ones follow the run's end), and never a failure."""
    monitor = s.monitors.get(d.key)
    if monitor is None or monitor["status"] != "running":
        raise _refuse(s, et, f"monitor {d.key} is not running")
    if d.status not in ("stopped", "exited", "error"):
        raise _refuse(s, et, f"unknown monitor status {d.status!r}")
    monitor["finished_at"] = ts
    given = d.to_json()
    names = ("status", "exit_code", "signal", "message", "on", "signals", "duration")
    monitor.update(cast(MonitorRecord, {name: given[name] for name in names if name in given}))
    return set()


EVENT_TYPES = ev.EVENT_TYPES


def replay(run_id: str, events: list[tuple[str, dict[str, Any], float]]) -> RunState:
    """The state stored events (type, JSON object, time) fold into."""
    state = RunState(run_id=run_id)
    for etype, data, ts in events:
        apply_stored(state, etype, data, ts)
    return state


def fold_shell(session: ShellSession, change: Mapping[str, Any]) -> None:
    """Apply one succeeded command's change to the session state (``RunState.shell``)."""
    variables = session.setdefault("vars", {})
    for name, entry in (change.get("set") or {}).items():
        variables[name] = entry
    for name in change.get("unset") or ():
        variables[name] = None  # removed, even if the environment had it
    if change.get("cwd") is not None:
        session["cwd"] = change["cwd"]
