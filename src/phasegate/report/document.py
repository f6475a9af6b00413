"""The report document's shape: what ``report/data.py`` builds and every view reads.

``status --json``, ``report --format json``, the md/html renderers, the REST API and the
dashboard all read this one document, so its keys are typed here once (``TypedDict``s: the
document is plain JSON-able dicts at run time, and ``report_version`` numbers its shape).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from phasegate.report.fleet_hosts import FleetHostsView
from phasegate.report.fleet_strata import StrataView
from phasegate.report.monitoring import MonitoringView
from phasegate.run.record import JsonDict, JsonValue, Number
from phasegate.run.records import (
    BudgetRecord,
    DecisionRecord,
    FailureRecord,
    LaneRecord,
    Measurement,
    MetricTally,
    MonitorRecord,
    ParentRecord,
    PauseRecord,
    PromotedRecord,
    QueueRecord,
    ReadinessRecord,
    RollbackFailure,
    TriggerRecord,
    WaitEnded,
    WaitRecord,
    WarningRecord,
)

__all__ = ["Measurement", "MetricTally"]  # re-exported for readers of analyses' rows


class ApprovalsView(TypedDict):
    by: list[str]
    required: int


class ChoiceView(TypedDict):
    var: str
    options: list[str]
    chosen: str | None


class ItemView(TypedDict, total=False):
    """One item of a phase or of the rollback; a not-run one has key, kind, name, status."""

    key: str
    kind: str
    name: str
    status: str
    attempt: int
    exit_code: int | None
    started_at: Number | None
    finished_at: Number | None
    duration: Number | None
    command: str | None
    message: str | None
    expectation: str | None
    observed: JsonValue  # what the check saw
    severity: str | None
    attempts: int | None
    outputs: JsonDict | None  # the step's outputs, as its command wrote them
    log: str | None
    operator: str | None  # skipped | marked done
    unknown_count: int | None
    waiting: str | None
    until: Number | None
    approvals: ApprovalsView
    choice: ChoiceView
    host: str | None  # a fleet phase's (host, step)


class PhaseView(TypedDict):
    id: str
    name: str | None
    needs: list[str]
    status: str
    started_at: Number | None
    finished_at: Number | None
    duration: Number | None
    items: list[ItemView]


class DetectionView(TypedDict):
    detection_latency: Number | None
    detected_at: Number | None
    detected_by: str | None
    baseline_at: Number | None


class RollbackView(DetectionView):
    reason: str | None
    by: str | None
    status: str | None
    started_at: Number | None
    finished_at: Number | None
    duration: Number | None
    budget: Number | None
    overrun: bool
    actions: list[ItemView]
    verify: list[ItemView]
    failures: list[RollbackFailure]


class TrafficChangeView(TypedDict):
    at: Number
    weights: dict[str, int]  # what the router confirmed
    asked: dict[str, int] | None
    by: str | None
    reason: str | None
    duration: Number | None
    detected_at: Number | None
    detection_latency: Number | None
    detected_by: str | None
    canary_weight: NotRequired[int | None]


class TrafficView(TypedDict):
    backends: list[str]
    router: str | None
    weights: dict[str, int] | None
    canary_weight: int | None
    promoted: PromotedRecord | None
    history: list[TrafficChangeView]


class MetricRow(TypedDict):
    name: str
    phase: str | None
    reason: str | None
    message: str | None
    measurements: int
    counts: dict[str, int]
    last: list[Measurement]
    success: NotRequired[str | None]
    failure: NotRequired[str | None]
    warning: NotRequired[str | None]
    count: NotRequired[int | None]
    failure_limit: NotRequired[int]


class AnalysisView(TypedDict):
    key: str
    phase: str | None
    name: str
    background: bool
    analysis: str | None  # the plan's analysis by name, "inline", None: not known
    status: str
    message: str | None
    verdict: str | None
    reason: str | None
    score: Number | None
    metric: str | None
    detected_at: Number | None
    inconclusive: bool
    approved_by: list[str]
    started_at: Number | None
    finished_at: Number | None
    metrics: list[MetricRow]


class ChildView(TypedDict, total=False):
    phase: str
    run: str
    plan: str | None
    linked_at: Number
    status: str | None
    ended_at: Number


class ProgramView(TypedDict):
    parent: ParentRecord | None  # from the journal, or the run's options (the same keys)
    children: list[ChildView]
    readiness: dict[str, ReadinessRecord]


class RunView(TypedDict):
    id: str
    status: str
    exit_code: int | None
    plan: str
    plan_path: str
    plan_sha256: str
    markdown_sha256: str | None
    lock: str
    idempotency_key: str | None
    require_checked: bool
    created_at: Number | None
    started_at: Number | None
    finished_at: Number | None
    duration: Number | None  # work time: human waits removed (docs/budgets.md)
    wall_time: Number | None
    waited: Number
    user: str | None
    host: str | None
    pid: int | None
    cwd: str | None
    review: JsonDict | None
    events: int
    # status and the API add who executes the run now (report/owner.py); None: nobody.
    owner: NotRequired[dict[str, object] | None]


class MonitorView(MonitorRecord):
    key: str


class WaitView(WaitRecord, total=False):
    next_open_utc: str | None
    next_open_text: str | None


class BudgetView(TypedDict):
    duration: Number | None
    rollback: Number | None


class ReportDoc(TypedDict):
    report_version: int
    run: RunView
    vars: JsonDict | None  # the plan's variables as resolved (secrets masked); None: stored null
    phases: list[PhaseView]
    monitors: list[MonitorView]
    triggers: dict[str, TriggerRecord]
    traffic: TrafficView | None
    analyses: list[AnalysisView]
    failure: FailureRecord | None
    pause: PauseRecord | None
    wait: WaitView | None
    waits: list[WaitEnded]
    monitoring: MonitoringView | None  # report/monitoring.py (run/postmonitor.py's record)
    queue: QueueRecord | None
    lane: LaneRecord | None
    budgets: dict[str, BudgetRecord]
    rollback: RollbackView | None
    warnings: list[WarningRecord]
    approvals: dict[str, list[str]]
    decisions: list[DecisionRecord]
    resumes: list[JsonDict]  # run.resumed as stored, with "at"
    notifications: list[JsonDict]  # notification.sent / .failed as stored, with at, status
    program: ProgramView | None
    # a sampled fleet phase's per-stratum outcomes and projections (report/fleet_strata.py)
    fleet_strata: list[StrataView]
    # fleet phases host by host: batch, step and gate statuses, outcome (report/fleet_hosts.py)
    fleet_hosts: list[FleetHostsView]
    budget: BudgetView
