"""The typed sub-records of a run's state (issue 12 §1): what ``apply`` keeps about a failure,
a pause, a rollback, the traffic, a promotion, warnings and decisions.

They are ``TypedDict``s: plain dicts at run time, so the state's JSON (``summary()``, the
materialized rows, the API) is exactly what it was and old journals fold the same, while
mypy checks every key a reader or the fold uses (a misspelled ``state.pause["reson"]`` is a
type error, where ``dict[str, Any]`` let it through).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from phasegate.run.record import JsonDict, JsonObject, JsonValue

Number = int | float


class ItemKey(TypedDict):
    """Which item an event is about (``phase`` is None for a run-level one, e.g. the return
    to the baseline); a fleet phase's own item names itself differently per event."""

    key: str
    kind: str
    phase: str | None


class ItemBase(ItemKey):
    """What every ``item.started`` / ``item.finished`` the engine journals begins with: which
    item, and its label."""

    name: str


class HostRecord(TypedDict):
    """A host of a fleet phase as its first ``item.started`` journals it (``hosts``): the name
    and the labels a selector and the batches read (private ones left out)."""

    name: str
    labels: JsonDict


class FailureRecord(TypedDict):
    """Why the forward path stopped: the first failure (later ones are the items' own)."""

    # step | gate | analysis | trigger | rejected | aborted
    reason: str
    item: str | None  # None: the whole run (an abort)
    message: str
    action: str | None  # the on_failure that applies: rollback | pause | abort (None: plan's)
    detected_at: NotRequired[Number]


class PauseRecord(TypedDict):
    # approval | failure | unknown | traffic | canary | … (engine/runner.py says why)
    reason: str
    items: list[str]  # what the run waits for
    at: Number
    message: str


class RollbackFailure(TypedDict):
    item: str
    message: str | None


class RollbackRecord(TypedDict):
    reason: str
    by: str | None
    order: list[dict[str, Any]]  # run.events.RollbackEntry.to_json(), newest first
    started_at: Number
    attempt_started_at: Number
    budget: Number | None
    failures: list[RollbackFailure]
    detection_latency: NotRequired[Number]
    finished_at: NotRequired[Number]
    status: NotRequired[str]
    duration: NotRequired[Number | None]
    overrun: NotRequired[bool]


class TrafficChange(TypedDict):
    at: Number
    weights: dict[str, int]
    by: str | None
    reason: str | None


class TrafficRecord(TypedDict, total=False):
    """The weights the router last confirmed, and every change."""

    weights: dict[str, int]
    history: list[TrafficChange]


class PromotedRecord(TypedDict):
    by: str | None
    at: Number


class WarningRecord(TypedDict):
    item: str | None
    message: str


class DecisionRecord(TypedDict):
    """One approval or rejection, in order: the audit trail of go/no-go decisions."""

    key: str
    decision: Literal["approved", "rejected"]
    by: str
    comment: str
    at: Number
    choice: NotRequired[str]


# -- what apply keeps about waits, lanes, budgets, monitors, triggers, analyses, programs ----
class ProcessRecord(TypedDict):
    """Where a started command runs: a resume finds its process group by (pid, start)."""

    pid: int | None
    pgid: int | None
    start: str | None
    attempt: int | None


class WaitRecord(TypedDict, total=False):
    """A closed change window holding the run: run.waiting's fields as given, and since when
    and in which mode (forward, rollback) the run waits."""

    phase: str | None
    risk: str | None
    rule: str | None
    reason: str | None
    why: str
    next_open: Number | None
    timezone: str | None
    admission: bool
    since: Number
    mode: str


class WaitEnded(TypedDict):
    """A wait that ended: human time an estimate subtracts."""

    phase: str | None
    rule: str | None
    since: Number | None
    until: Number
    how: str  # opened | break_glass | failure | interrupted | resumed | …
    by: NotRequired[str]


class QueueRecord(TypedDict, total=False):
    """While the run waits for a lane slot: run.queued's fields as given, and since when."""

    lane: str
    cap: int | None
    position: int | None
    phase: str | None  # the phase whose `lane:` the run waits for (None: the plan's lane)
    reason: str | None  # "lane deploy full (2/2)"
    since: Number


class LaneRecord(TypedDict):
    """The lane slot the run holds."""

    lane: str
    granted_at: Number | None
    waited: Number | None


class BudgetRecord(TypedDict, total=False):
    """A budget watched while the run works: runway thresholds passed (each said once), the
    projection that passed the last one, and when the budget was overrun."""

    crossed: list[Number]
    projected: Number | None
    runway: Number | None
    limit: Number | None
    used: Number | None
    at: Number
    overrun: Number


class Measurement(TypedDict, total=False):
    at: Number | None
    status: str
    value: Number | None
    message: str | None


class MetricTally(TypedDict):
    counts: dict[str, int]  # measurement status -> how many
    last: list[Measurement]  # the latest ones, oldest first


class AnalysisRecord(TypedDict):
    """Per analysis item: each metric's tally and the verdict once the analysis decided."""

    metrics: dict[str, MetricTally]
    verdict: NotRequired[str | None]


class ObservationRecord(TypedDict, total=False):
    """A check's evaluation as a trigger keeps it (run.events.Observation)."""

    status: str | None
    message: str | None
    observed: JsonValue  # what the check saw: a status code, a JSON body, a value


class TriggerRecord(TypedDict, total=False):
    """A trigger's latest state: trigger.state's (or trigger.tripped's) fields as given."""

    status: str | None  # healthy | failing | tripped
    evaluations: int | None
    failures: int | None
    consecutive: int | None
    last: ObservationRecord | None
    failing_since: Number | None
    watching: bool | None
    action: str
    message: str
    detected_at: Number | None


class MonitorRecord(TypedDict, total=False):
    """A phase's background monitor (engine/monitors.py)."""

    phase: str | None
    name: str | None
    attempt: int | None
    command: str | None
    log: str | None
    status: str  # running | stopped | exited | error
    started_at: Number
    process: ProcessRecord
    finished_at: Number
    exit_code: int | None
    signal: int | None
    message: str | None
    on: str | None
    signals: list[str]
    duration: Number | None


class ChildRecord(TypedDict, total=False):
    """A program's child run of one phase: linked before it starts, ended with a status."""

    run: str
    plan: str | None
    linked_at: Number
    status: str
    ended_at: Number


class ParentRecord(TypedDict):
    run: str
    phase: str
    plan: str | None


class ReadinessRecord(TypedDict, total=False):
    """A program phase's last readiness evaluation: readiness.evaluated's fields as given."""

    phase: str
    ready: bool
    verdict: str | None
    score: Number | None
    min_score: Number | None
    blockers: list[str]
    evidence: str | None
    sha256: str | None
    checks: list[JsonDict]  # the evidence file's checks, as the child's owners wrote them


class SecretRef(TypedDict):
    secret: str  # a secret variable's name: its value is never journalled


class ShellValue(TypedDict, total=False):
    """A value of the shell session as the journal keeps it: literal, or parts with the
    run's secrets as references (engine/shellstate.py)."""

    value: str
    parts: list[str | SecretRef]
    export: bool


class MonitoringEvaluation(TypedDict):
    """One scheduled evaluation of post-rollout monitoring (``monitoring.checked``)."""

    slot: int
    at: Number
    status: str  # passed | failed
    failing: list[str]  # the checks that did not pass
    message: str | None
    action: str | None  # rollback | pause | alert: what the failure did; None: nothing


class MonitoringLast(MonitoringEvaluation):
    """The latest evaluation, with what each check saw (``MonitorResult.to_json()``)."""

    results: list[JsonObject]


class MonitoringAction(TypedDict):
    slot: int
    at: Number
    action: str


class MonitoringRecord(TypedDict):
    """Post-rollout monitoring as ``apply`` keeps it (run/postmonitor.py): the schedule from
    ``monitoring.started``, then where it stands after each ``monitoring.checked``."""

    started_at: Number
    ends_at: Number
    schedule: list[dict[str, Number]]  # {every, for} in seconds
    checks: list[str]
    slots: int  # evaluations the schedule holds
    on_failure: str  # rollback | pause | alert
    fail_after: int
    lock: str  # keep | release
    slot: int  # the last slot evaluated
    evaluations: int
    failures: int  # failed evaluations
    missed: int
    consecutive: int
    next_due: Number | None
    last: MonitoringLast | None
    recent: list[MonitoringEvaluation]  # the latest RECENT_KEPT (the journal has all)
    actions: list[MonitoringAction]  # failures that acted


class ShellChange(TypedDict, total=False):
    """What one succeeded command changed in the session, as its ``item.finished`` journals
    it (``shell``): variables set, variables unset, and a ``cd``."""

    set: dict[str, ShellValue]
    unset: list[str]
    cwd: ShellValue


class ShellSession(TypedDict, total=False):
    """The terminal the succeeded commands left (``shell_session``): variables set (None:
    unset, even if the environment had it) and the last ``cd``."""

    vars: dict[str, ShellValue | None]
    cwd: ShellValue
