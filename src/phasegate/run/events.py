"""The run's vocabulary: one frozen class per journal event (``phasegate.run.events``).

A run's journal is a list of events; ``run/state.py`` folds them into the run's state. Each
event type is a class here (``ItemFinished`` is ``"item.finished"``), built by the engine where
the event happens and read back by the store, ``apply``, reports, metrics and notifications, so
nobody guesses a dict's keys.

The stored shape is the JSON object each event was stored as before these classes existed:
``to_json()`` gives exactly the fields that were *given* (``exclude_unset``), so an event built
with ``exit_code=None`` stores ``"exit_code": null`` and one built without it stores no key, as
the hand-built dicts did; ``from_stored(type, data)`` reads it back, and
``from_stored(t, d).to_json() == d`` for every event a journal holds
(tests/engine/test_events.py checks it on a journal written before this module, committed in
tests/fixtures/journal-v1/). Fields a newer phasegate adds are kept (``extra="allow"``) and
written back unchanged; an event *type* this version does not know is refused with
``UnknownEventType``, never guessed at. Constructors are checked by mypy (the pydantic plugin with
``init_forbid_extra``): a misspelled field is a type error, not a silently stored key.

``EVENT_SCHEMA_VERSION`` numbers the stored shape; a change that old journals cannot be read
with bumps it and comes with a migration (store/migrations.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypedDict, Unpack

from pydantic import Field, ValidationError

from phasegate.errors import EventUnreadable, UnknownEventType
from phasegate.run.outline import PlanOutline
from phasegate.run.record import JsonDict, JsonObject, Number, Record, Weights
from phasegate.run.records import HostRecord, ItemBase, ItemKey, ShellChange

# 2: run.created records the plan's outline (run/outline.py); a version-1 journal has none and
# its readers fall back to the plan text the run stored.
EVENT_SCHEMA_VERSION = 2


class Event(Record):
    """One journal entry; ``type`` is its stored name."""

    type: ClassVar[str]


# -- the run ---------------------------------------------------------------------------------
class RunCreated(Event):
    type: ClassVar[str] = "run.created"
    phases: tuple[str, ...] = ()
    needs: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # What views need of the plan (names, item order, check kinds); None before version 2.
    outline: PlanOutline | None = None


class RunStarted(Event):
    """Who runs it, where, with what: the audit trail's first entry."""

    type: ClassVar[str] = "run.started"
    pid: int | None = None
    host: str | None = None
    user: str | None = None
    plan_path: str | None = None
    vars: JsonDict | None = None  # the plan's variables as resolved (secrets masked)
    cwd: str | None = None
    review: JsonDict | None = None  # a Markdown import's review: how, by, sha256


class RunResumed(Event):
    type: ClassVar[str] = "run.resumed"
    pid: int | None = None
    host: str | None = None
    after: str | None = None  # the status resumed from, or "crashed", or "parked"
    purpose: str | None = Field(None, alias="for")  # promote | abort | reject
    retry: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    mark_done: tuple[str, ...] = ()
    clear_failure: bool = False


class RunPaused(Event):
    type: ClassVar[str] = "run.paused"
    reason: str
    items: tuple[str, ...] = ()
    message: str = ""


class RunInterrupted(Event):
    type: ClassVar[str] = "run.interrupted"
    signal: int | None = None
    name: str | None = None
    grace: Number | None = None
    killed: tuple[str, ...] = ()


class RunFinished(Event):
    type: ClassVar[str] = "run.finished"
    status: str


class RunAbortRequested(Event):
    type: ClassVar[str] = "run.abort_requested"
    by: str | None = None
    reason: str | None = None
    force: bool = False
    grace: Number | None = None
    ending: tuple[str, ...] = ()
    request: int | None = None  # the operator request this answers


class RunPromoted(Event):
    type: ClassVar[str] = "run.promoted"
    by: str | None = None
    full: bool = False


class RunWaiting(Event):
    """A closed change window holds the run (docs/windows.md): nothing new starts until the
    window opens, or a break-glass approval lets the held phase start. A wait, never a
    failure: the run continues by itself."""

    type: ClassVar[str] = "run.waiting"
    phase: str | None = None  # the phase held; None: the rollback (windows: rollback: respect)
    risk: str | None = None  # the change risk the window was read for
    rule: str | None = None  # the deciding rule ("deny[0]"), None when no allow rule matched
    reason: str | None = None  # that rule's `reason`
    why: str = ""  # "deny[0] (stand-up) denies"
    next_open: Number | None = None  # epoch seconds; None: not within 400 days
    timezone: str | None = None  # the windows' timezone, for showing next_open as people read it
    admission: bool = False  # no phase had started: the run waits to be admitted


class RunWaitEnded(Event):
    """The wait is over: the window opened, a break-glass approval, or the run is failing
    (rollback ignores windows unless the plan says otherwise)."""

    type: ClassVar[str] = "run.wait_ended"
    how: str  # opened | break_glass | failure
    by: str | None = None  # break_glass: who approved


class RunQueued(Event):
    """The run's lane is full (docs/lanes.md): it waits for a slot (status ``queued``), never
    fails for it, and continues by itself once one is granted."""

    type: ClassVar[str] = "run.queued"
    lane: str
    cap: int | None = None  # the lane's cap when the run was queued
    position: int | None = None  # 1: next in its lane
    phase: str | None = None  # the phase whose `lane:` it waits for; None: the plan's lane
    reason: str | None = None  # "lane deploy full (2/2)"


class RunDequeued(Event):
    """The wait for a slot is over: ``granted`` (the run holds a slot of ``lane`` from
    ``granted_at``, the store's grant time, until it ends), ``abort`` or ``interrupted``."""

    type: ClassVar[str] = "run.dequeued"
    lane: str
    how: str  # granted | abort | interrupted | failure (a trigger tripped while it waited)
    granted_at: Number | None = None
    waited: Number | None = None  # seconds since the run was queued
    phase: str | None = None  # the phase whose slot it waited for; None: the plan's lane


class LaneGranted(Event):
    """A slot of ``lane`` granted to a run that found room at once (never queued): for the
    whole run, or for ``phase`` until it ends."""

    type: ClassVar[str] = "lane.granted"
    lane: str
    granted_at: Number
    phase: str | None = None


# -- phases and items ------------------------------------------------------------------------
class PhaseStarted(Event):
    type: ClassVar[str] = "phase.started"
    phase: str


class PhaseFinished(Event):
    type: ClassVar[str] = "phase.finished"
    phase: str
    status: str


class ItemRef(Record):
    """What names an item in every item event: its key, kind, phase and label."""

    key: str
    kind: str  # step | gate | undo | rollback | verify | traffic | analysis
    phase: str | None = None
    name: str | None = None


class ItemStarted(ItemRef, Event):
    """Durable before the command spawns (docs/crash-safety.md)."""

    type: ClassVar[str] = "item.started"
    attempt: int | None = None
    command: str | None = None
    description: str | None = None
    expectation: str | None = None
    # A fleet phase's first start: the hosts it resolved ({name, labels}), so that resume and
    # rollback address exactly these hosts whatever the inventory says later.
    hosts: tuple[dict[str, Any], ...] | None = None  # HostRecord; read back as journalled
    order_seed: str | None = None  # `batch.order: shuffle`: the seed that ordered `hosts`


class Killed(Record):
    """A command phasegate itself ended: at what (abort, a signal) and with which signals."""

    by: str = "phasegate"
    on: str | None = None
    signals: tuple[str, ...] = ()


class ItemFinished(ItemRef, Event):
    """An item's outcome (or a retry, a wait for approval): the most frequent event."""

    type: ClassVar[str] = "item.finished"
    status: str
    attempt: int | None = None
    exit_code: int | None = None
    duration: Number | None = None
    started_at: Number | None = None
    message: str | None = None
    log: str | None = None
    outputs: JsonDict | None = None
    delay: Number | None = None  # before the next attempt (retrying)
    tolerated: bool = False  # continue_on_error: a failure that fails nothing
    action: str | None = None  # on_failure of its phase: rollback | pause | abort
    shell: JsonDict | None = None  # a shell_session change (engine/shellstate.py)
    killed: Killed | None = None
    # A check's outcome (gates, verification, analyses).
    observed: Any = None
    expectation: str | None = None
    description: str | None = None
    attempts: int | None = None
    severity: str | None = None
    inconclusive: bool = False
    detected_at: Number | None = None
    choice: str | None = None  # the option chosen at a decision
    # Recovered after a crash from the command's supervisor record (engine/orphans.py).
    recovered: str | None = None
    ended_at: Number | None = None
    # A step on one host of a fleet phase (key ``phase/step@host``).
    host: str | None = None
    unreachable: bool = False  # the host could not be reached: nothing ran


class StartDetails(TypedDict, total=False):
    """What an ``item.started`` holds besides its item (:class:`ItemStarted`'s fields)."""

    attempt: int | None
    command: str | None
    description: str | None
    expectation: str | None
    hosts: tuple[HostRecord, ...] | None
    order_seed: str | None


class FinishDetails(TypedDict, total=False):
    """What an ``item.finished`` holds besides its item and status (:class:`ItemFinished`'s
    fields): the engine gathers them as an item runs (a command's outcome, a gate's
    observation), then journals them with :func:`item_finished`."""

    attempt: int | None
    exit_code: int | None
    duration: Number | None
    started_at: Number | None
    message: str | None
    log: str | None
    outputs: Mapping[str, object] | None  # what the step wrote (key=value lines), weights …
    delay: Number | None
    tolerated: bool
    action: str | None
    shell: ShellChange | None
    killed: Killed | None
    observed: Any  # a check's observed value, whatever its kind observes
    expectation: str | None
    description: str | None
    attempts: int | None
    severity: str | None
    inconclusive: bool
    detected_at: Number | None
    choice: str | None
    recovered: str | None
    ended_at: Number | None
    host: str | None
    unreachable: bool


class ItemRecord(ItemBase, FinishDetails):
    """An item and what is known of its outcome so far (the status comes last)."""


def item_record(item: ItemBase, **details: Unpack[FinishDetails]) -> ItemRecord:
    """``item`` with what is known of its outcome so far, for :func:`item_finished` later."""
    return {**item, **details}


def item_started(item: ItemKey, **details: Unpack[StartDetails]) -> ItemStarted:
    """The ``item.started`` of ``item``: mypy checks every field given."""
    return ItemStarted.model_validate({**item, **details})


def item_finished(record: ItemKey, status: str, **details: Unpack[FinishDetails]) -> ItemFinished:
    """The ``item.finished`` of ``record`` (an :class:`ItemRecord`, or just the item) with
    ``status``; ``details`` add to the record's fields or replace them (as
    ``{**record, "status": status, **details}`` did). Only the fields given are stored
    (``Record.to_json``)."""
    return ItemFinished.model_validate({**record, "status": status, **details})


class ItemSpawned(Event):
    """Where a started command runs: a resume finds its process group by (pid, start)."""

    type: ClassVar[str] = "item.spawned"
    key: str
    attempt: int | None = None
    pid: int | None = None
    pgid: int | None = None
    start: str | None = None


class ItemUnknown(Event):
    """A step found started-but-unfinished after a crash."""

    type: ClassVar[str] = "item.unknown"
    key: str
    idempotent: bool = False
    reason: str | None = None


class ItemWaiting(Event):
    """A canary hold (bake, pause) until ``until``: a resumed run waits only the rest."""

    type: ClassVar[str] = "item.waiting"
    key: str
    until: Number
    what: str = "pause"


# -- triggers, approvals, analyses, traffic --------------------------------------------------
class Observation(Record):
    status: str | None = None
    message: str | None = None
    observed: Any = None


class TriggerState(Event):
    type: ClassVar[str] = "trigger.state"
    trigger: str
    status: str | None = None  # healthy | failing | tripped
    evaluations: int | None = None
    failures: int | None = None
    consecutive: int | None = None
    last: Observation | None = None
    failing_since: Number | None = None
    watching: bool | None = None


class TriggerTripped(TriggerState):
    type: ClassVar[str] = "trigger.tripped"
    action: str = "rollback"  # rollback | pause | alert
    message: str = ""
    detected_at: Number | None = None


class ApprovalGranted(Event):
    type: ClassVar[str] = "approval.granted"
    key: str
    by: str
    required: int = 1
    comment: str | None = None
    var: str | None = None  # a decision (`approve --choose`): the variable and its option
    choice: str | None = None
    # The operator request this answers: one delivered again (a crash between journalling
    # it and consuming the request) is answered once.
    request: int | None = None


class ApprovalRejected(Event):
    type: ClassVar[str] = "approval.rejected"
    key: str
    by: str
    comment: str | None = None
    kind: str = "gate"
    phase: str | None = None
    name: str | None = None
    # What the no-go does (a program's go/no-go `on_no_go`); None: roll back.
    action: str | None = None


class AnalysisMeasured(Event):
    type: ClassVar[str] = "analysis.measured"
    key: str
    metric: str
    status: str
    value: Number | None = None
    at: Number | None = None
    message: str | None = None
    verdict: str | None = None  # once the analysis has decided


class TrafficChanged(Event):
    type: ClassVar[str] = "traffic.changed"
    weights: Weights | None = None  # asked for
    applied: Weights | None = None  # what the router confirmed
    by: str | None = None
    reason: str | None = None
    duration: Number | None = None
    detection_latency: Number | None = None  # failure detected -> canary at 0 (rollback)
    detected_at: Number | None = None
    detected_by: str | None = None

    @property
    def confirmed(self) -> Weights | None:
        """The weights now live: what the router applied, else (older journals) what was asked."""
        return self.applied or self.weights


# -- rollback --------------------------------------------------------------------------------
class RollbackEntry(Record):
    """One action of a rollback, newest first."""

    key: str
    kind: str
    phase: str | None = None
    name: str | None = None


class RollbackStarted(Event):
    type: ClassVar[str] = "rollback.started"
    order: tuple[RollbackEntry, ...]
    reason: str = ""
    by: str | None = None
    budget: Number | None = None


class RollbackFinished(Event):
    type: ClassVar[str] = "rollback.finished"
    status: str
    duration: Number | None = None
    budget: Number | None = None
    overrun: bool = False


# -- observations of the run -----------------------------------------------------------------
class Warning(Event):
    type: ClassVar[str] = "warning"
    message: str
    item: str | None = None
    budget: str | None = None  # duration | rollback | a resource's name: a budget overrun


class BudgetRunway(Event):
    """A budget's runway (what is left of it once the projected remaining work is spent) fell
    below one of its thresholds (docs/budgets.md): said once per threshold and run."""

    type: ClassVar[str] = "budget.runway"
    budget: str  # duration | a resource's name from budget.resources
    threshold: Number  # the runway threshold passed (seconds, or the resource's unit)
    index: int = 0  # its place in `runway:`, largest first
    severity: str = "warning"  # warning; critical for the last threshold
    limit: Number  # the budget
    used: Number  # work seconds so far (human waits excluded), or the resource used so far
    projected: Number  # used + the projected rest (the budget's basis: p50 or p90)
    projected_p50: Number | None = None
    projected_p90: Number | None = None
    runway: Number  # limit - projected
    basis: str = "p50"
    unit: str | None = None


class NotificationSent(Event):
    type: ClassVar[str] = "notification.sent"
    channel: str
    kind: str | None = None
    event: str | None = None
    attempts: int | None = None
    status_code: int | None = None
    error: str | None = None


class NotificationFailed(NotificationSent):
    type: ClassVar[str] = "notification.failed"


class Note(Event):
    type: ClassVar[str] = "note"


class FleetBatch(Note):
    """A fleet phase starts a batch: which hosts, in which order (docs/fleet.md)."""

    type: ClassVar[str] = "fleet.batch"
    phase: str
    batch: int  # 1-based
    of: int
    hosts: tuple[str, ...]


class StratumDrawn(Record):
    """One stratum of a fleet sample: the hosts drawn from it of its size."""

    stratum: str
    picked: int
    size: int


class FleetSample(Note):
    """A phase's representative sample (docs/fleet.md): the size it settled on, its coverage,
    each stratum's picked/size, and the strata still missing at the cap."""

    type: ClassVar[str] = "fleet.sample"
    phase: str
    pct: Number
    coverage: Number
    required: Number
    strata: tuple[StratumDrawn, ...] = ()
    missing: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()


class FleetProjection(Note):
    """A sampled phase's outcome per stratum, its projections to the whole fleet (each
    {metric, estimate, low, high, measured, budget, over}) and its risk score
    (docs/fleet.md)."""

    type: ClassVar[str] = "fleet.projection"
    phase: str
    hosts: int  # the fleet the sample stands for
    strata: tuple[JsonObject, ...] = ()  # fleet/projection.py stratum_rows
    projections: tuple[JsonObject, ...] = ()
    risk: Number | None = None
    risk_max: Number | None = None


class PolicyOverridden(Note):
    """A soft policy's violations let through at admission (``run --override-policy``):
    who, why, and what. A note to the run's state machine (it changes no status)."""

    type: ClassVar[str] = "policy.overridden"
    policy: str
    by: str
    reason: str
    violations: tuple[str, ...] = ()


class MonitorStarted(Event):
    type: ClassVar[str] = "monitor.started"
    key: str
    phase: str | None = None
    name: str | None = None
    attempt: int | None = None
    command: str | None = None
    log: str | None = None


class MonitorSpawned(Event):
    type: ClassVar[str] = "monitor.spawned"
    key: str
    attempt: int | None = None
    pid: int | None = None
    pgid: int | None = None
    start: str | None = None


class MonitorFinished(Event):
    type: ClassVar[str] = "monitor.finished"
    key: str
    status: str  # stopped | exited | error
    exit_code: int | None = None
    signal: int | None = None
    duration: Number | None = None
    message: str | None = None
    on: str | None = None  # what stopped it
    signals: tuple[str, ...] = ()


# -- post-rollout monitoring (docs/monitoring.md) --------------------------------------------
class MonitoringStarted(Event):
    """The forward path succeeded and the plan has ``monitor:``: the run is ``monitoring``
    until its schedule ends. ``at`` (the engine clock's epoch seconds) anchors the schedule,
    so a resumed run finds each check's due time here, not from its own start."""

    type: ClassVar[str] = "monitoring.started"
    at: Number
    schedule: tuple[dict[str, Number], ...]  # {every, for} in seconds, ${VAR}s expanded
    checks: tuple[str, ...]  # what each evaluation looks at: check ids, trigger:NAME
    slots: int  # evaluations the schedule holds
    ends_at: Number
    next_due: Number | None = None
    on_failure: str = "rollback"  # rollback | pause | alert
    fail_after: int = 1
    lock: str = "keep"  # keep | release


class MonitorResult(Record):
    """One check's outcome in one monitoring evaluation."""

    check: str
    status: str  # passed | failed | error
    message: str | None = None
    observed: Any = None


class MonitoringChecked(Event):
    """One scheduled evaluation of the monitor's checks: which slot of the schedule (so a
    resume continues after it), what each check saw, and what a failure does."""

    type: ClassVar[str] = "monitoring.checked"
    slot: int  # 1-based place in the schedule
    at: Number
    status: str  # passed | failed
    results: tuple[MonitorResult, ...] = ()
    missed: int = 0  # slots passed over since the previous evaluation (engine down or late)
    consecutive: int = 0  # failed evaluations in a row, this one included
    action: str | None = None  # rollback | pause | alert: the failure acts; None: it does not
    message: str | None = None
    next_due: Number | None = None  # the next slot's due time; None: this was the last


# -- programs (engine/program.py) -----------------------------------------------------------
class ChildLinked(Event):
    """A program phase's child run: its id, journalled durably before the child starts, so
    a resume re-attaches to it instead of starting another."""

    type: ClassVar[str] = "child.linked"
    phase: str
    run: str
    plan: str | None = None


class ChildEnded(Event):
    type: ClassVar[str] = "child.ended"
    phase: str
    run: str
    status: str


class ParentLinked(Event):
    """In a child run's journal: the program run (and its phase) that started it."""

    type: ClassVar[str] = "parent.linked"
    run: str
    phase: str
    plan: str | None = None


class ReadinessEvaluated(Event):
    """A child's readiness, evaluated right before it starts: the inputs and the verdict."""

    type: ClassVar[str] = "readiness.evaluated"
    phase: str
    ready: bool
    verdict: str | None = None
    score: Number | None = None
    min_score: Number | None = None
    blockers: tuple[str, ...] = ()
    evidence: str | None = None
    sha256: str | None = None
    checks: tuple[JsonObject, ...] = ()


EVENT_CLASSES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        RunCreated,
        RunStarted,
        RunResumed,
        RunPaused,
        RunInterrupted,
        RunFinished,
        RunAbortRequested,
        PhaseStarted,
        PhaseFinished,
        ItemStarted,
        ItemFinished,
        ItemSpawned,
        ItemUnknown,
        TriggerState,
        TriggerTripped,
        ApprovalGranted,
        ApprovalRejected,
        ItemWaiting,
        AnalysisMeasured,
        RunPromoted,
        TrafficChanged,
        RollbackStarted,
        RollbackFinished,
        Warning,
        NotificationSent,
        NotificationFailed,
        Note,
        FleetBatch,
        FleetSample,
        FleetProjection,
        PolicyOverridden,
        MonitorStarted,
        MonitorSpawned,
        MonitorFinished,
        RunWaiting,
        RunWaitEnded,
        BudgetRunway,
        MonitoringStarted,
        MonitoringChecked,
        RunQueued,
        RunDequeued,
        LaneGranted,
        ChildLinked,
        ChildEnded,
        ParentLinked,
        ReadinessEvaluated,
    )
}
EVENT_TYPES = tuple(EVENT_CLASSES)


def from_stored(etype: str, data: JsonObject) -> Event:
    """The event a journal row holds; ``UnknownEventType`` or ``EventUnreadable`` when it cannot be
    read (a newer phasegate's event type, a field of the wrong type)."""
    cls = EVENT_CLASSES.get(etype)
    if cls is None:
        raise UnknownEventType(
            f"journal event type {etype!r} is unknown to this phasegate",
            hint="a newer phasegate wrote this journal: upgrade phasegate to read it",
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(event)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise EventUnreadable(f"journal event {etype!r} cannot be read: {problems}") from None
