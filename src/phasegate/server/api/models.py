"""Request and response bodies, as the OpenAPI document describes them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from phasegate.lanes.model import MAX_PRIORITY, MIN_PRIORITY
from phasegate.server.passthrough import ApiJson

# The documents below (a preview, a run's status document, an event's data) are the JSON the
# CLI's `--json` prints; their inner objects are described field by field in the docs, and
# the API passes them through as built (`ApiJson`: JSON, not re-validated).


class PlanSource(BaseModel):
    """A plan given inline (YAML text) or by a path under the server's plan root."""

    model_config = ConfigDict(extra="forbid")

    plan: str | None = Field(None, max_length=1_000_000, description="the plan's YAML text")
    plan_path: str | None = Field(
        None, max_length=4096, description="a plan file under the server's --plan-root"
    )
    vars: dict[str, str] = Field(default_factory=dict, description="variable overrides")
    require_checked: bool = Field(
        False, description="an unchecked manual check fails its gate instead of pausing"
    )

    @field_validator("plan_path")
    @classmethod
    def _no_nul_in_path(cls, value: str | None) -> str | None:
        # No file name holds a NUL byte, and the OS refuses one with an exception that used
        # to surface as a 500 and a reset connection (issue 10 §1.6).
        if value is not None and "\x00" in value:
            raise ValueError("a file path cannot contain a NUL byte")
        return value

    @field_validator("vars")
    @classmethod
    def _no_nul_in_vars(cls, value: dict[str, str]) -> dict[str, str]:
        # Variables become environment variables, which cannot hold a NUL byte either.
        if any("\x00" in k or "\x00" in v for k, v in value.items()):
            raise ValueError("a variable's name or value cannot contain a NUL byte")
        return value


class StartRequest(PlanSource):
    max_parallel: int | None = Field(None, ge=1, le=256)
    priority: StrictInt | None = Field(
        None,
        ge=MIN_PRIORITY,
        le=MAX_PRIORITY,
        description="the run's place in its lanes' queues, as `phasegate run --priority`: each "
        "unit is a minute of head start over runs queued at the same time (default: the plan's "
        "`priority:`, else 0; docs/lanes.md); recorded with the run, so a resume keeps it",
    )
    override_policies: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        description="soft policies of the server's pack to run despite (the admin role; "
        "with override_reason); hard policies cannot be overridden",
    )
    override_reason: str = Field(
        "", max_length=2000, description="why the overridden policies do not apply (journalled)"
    )


class ProblemOut(BaseModel):
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    hint: str | None = None


class BlockerOut(BaseModel):
    """What keeps a valid plan from running as written (a ``needs_binding`` mark)."""

    field: str = Field(description="where, as a dotted path")
    line: int | None = Field(description="the plan's line; null: unknown")
    needs_binding: str = Field(description="what to bind")


class ValidationResult(BaseModel):
    valid: bool
    executable: bool = False
    plan: str | None = None
    phases: int = 0
    steps: int = 0
    gates: int = 0
    triggers: int = 0
    problems: list[ProblemOut] = Field(default_factory=list)
    blockers: list[BlockerOut] = Field(default_factory=list)
    warnings: list[ProblemOut] = Field(default_factory=list)
    not_executable: list[str] = Field(
        default_factory=list,
        description="a Markdown document: the import's reasons it is not executable as written",
    )


class Preview(BaseModel):
    """What a run would do, in order (``phasegate plan --json``); secret values masked."""

    model_config = ConfigDict(extra="allow")

    name: str
    file: str
    sha256: str
    vars: ApiJson
    waves: list[list[str]]
    phases: list[ApiJson]
    triggers: list[ApiJson]
    on_failure: str
    budget: ApiJson
    require_checked: bool


class RunSummary(BaseModel):
    id: str
    plan: str
    status: str
    created_at: float
    updated_at: float
    finished_at: float | None
    idempotency_key: str | None
    started_by: str | None
    worker: Literal["queued", "executing", "elsewhere"] | None = Field(
        None, description="queued or executing in this server's pool, or owned elsewhere"
    )


class RunPage(BaseModel):
    runs: list[RunSummary]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class RunInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    plan: str
    exit_code: int | None = None
    user: str | None = None


class RunDocument(BaseModel):
    """The run as ``phasegate status RUN --json`` shows it."""

    model_config = ConfigDict(extra="allow")

    report_version: int
    run: RunInfo
    vars: ApiJson
    phases: list[ApiJson]
    failure: ApiJson | None = None
    pause: ApiJson | None = None
    rollback: ApiJson | None = None
    warnings: list[Any] = Field(default_factory=list)  # texts or objects, as journalled
    approvals: dict[str, list[str]] = Field(default_factory=dict)
    decisions: list[ApiJson] = Field(
        default_factory=list,
        description="every approval and rejection in order: key, decision, by, comment, at",
    )
    wait: ApiJson | None = Field(
        None,
        description="status waiting: the change window holding the run: phase (null: the "
        "rollback), risk, rule, reason, why, next_open (epoch seconds; null: not within 400 "
        "days), next_open_utc, next_open_text, since, admission",
    )
    waits: list[ApiJson] = Field(
        default_factory=list,
        description="the waits that ended: phase, rule, since, until, how (opened, "
        "break_glass, failure, resumed, …), by",
    )
    monitoring: ApiJson | None = Field(
        None,
        description="post-rollout monitoring (plan monitor:; null: none): state (monitoring, "
        "paused, interrupted, completed, rolled back), done, slots, remaining, failures, "
        "missed, next_due (epoch seconds) and next_due_utc, started_at, ends_at, schedule, "
        "checks, on_failure, lock, last (with each check's result), recent, actions",
    )


class Event(BaseModel):
    seq: int
    ts: float
    type: str
    data: ApiJson


class EventPage(BaseModel):
    events: list[Event]
    last_seq: int = Field(description="pass as ?after= to get only newer events")


class LogEntry(BaseModel):
    key: str
    status: str
    exit_code: int | None = None
    text: str


class FinishMonitoringRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        ..., min_length=1, max_length=2000, description="why; journalled with who ended it"
    )


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check: str | None = Field(None, max_length=500, description="default: all awaiting")
    comment: str = Field("", max_length=2000, description="why; journalled with the approval")
    choose: str | None = Field(
        None, max_length=80, description="for a decision: the option that runs (required there)"
    )
    break_glass: bool = Field(
        False,
        description="the run waits for a change window: let the phase it waits for (or its "
        "rollback) start outside it now; `comment` (why) is required",
    )


SECRET_VARS: Any = Field(
    default_factory=dict,
    description="the secret variables the run was started with (never stored; needed only "
    "when a worker must execute the run again)",
)


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vars: dict[str, str] = SECRET_VARS


class AbortRequest(RollbackRequest):
    reason: str = Field("", max_length=2000)
    grace: float = Field(
        10.0, ge=0, le=3600, description="seconds between SIGTERM and SIGKILL of running steps"
    )
    force: bool = Field(False, description="SIGKILL the running steps at once")


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retry: list[str] = Field(default_factory=list, max_length=100)
    skip: list[str] = Field(default_factory=list, max_length=100)
    mark_done: list[str] = Field(default_factory=list, max_length=100)
    vars: dict[str, str] = SECRET_VARS


class PromoteRequest(RollbackRequest):
    full: bool = Field(
        False,
        description="skip every canary step left and promote now (`phasegate promote --full`); "
        "false: end the current pause or bake",
    )


class RejectRequest(RollbackRequest):
    check: str | None = Field(
        None, max_length=500, description="the item to reject; default: every one awaiting"
    )
    comment: str = Field(
        min_length=1, max_length=2000, description="why not; journalled with who rejected"
    )


class ActionResult(BaseModel):
    run: RunSummary
    action: Literal[
        "approve", "abort", "rollback", "resume", "promote", "reject", "finish_monitoring"
    ]
    outcome: Literal["approved", "requested", "queued"] = Field(
        description="approved: recorded; requested: the live worker acts on it; "
        "queued: a worker will execute it"
    )
    keys: list[str] = Field(default_factory=list, description="the approved or rejected items")


class Me(BaseModel):
    name: str
    role: str
    actor: str


class HealthCheck(BaseModel):
    ok: bool
    message: str


class Health(BaseModel):
    status: Literal["ok"]
    checks: dict[str, HealthCheck]


class Interval(BaseModel):
    """A duration estimate in seconds: the median and the 90 % credible interval."""

    p50: float
    low: float = Field(description="5th percentile")
    high: float = Field(description="95th percentile")
    level: float = 0.9
    runs: int = Field(description="past durations behind it (0: the plan's hints or a prior)")
    source: str = Field(description="history | hint | default | steps | phases")


class RunRunway(BaseModel):
    """The duration budget's runway (docs/budgets.md): work time so far plus the remaining
    time's projection, against the budget."""

    budget: float = Field(description="the duration budget, seconds of work")
    used: float = Field(description="work so far in seconds, human waits removed")
    projected_p50: float = Field(description="used + the median of the remaining time")
    projected_p90: float = Field(description="used + the 90th percentile of the remaining time")
    basis: Literal["p50", "p90"] = Field(description="the projection thresholds are read on")
    remaining: float = Field(description="the runway: budget - projected (basis), seconds")
    thresholds: list[float] = Field(description="the plan's runway thresholds, largest first")
    passed: list[float] = Field(description="thresholds the run passed (budget.runway events)")
    pause_above: float | None = Field(description="the pause bound, a ratio of the budget")
    hold: str | None = Field(
        description="the pause bound's hold: awaiting_approval, succeeded (approved), failed"
        " (rejected); null: never held"
    )
    over: bool = Field(description="work so far is over the budget")
    state: Literal["ok", "warning", "critical", "paused"] = Field(
        description="as the run journalled it (the dashboard's runway panel shows the same):"
        " paused while the pause bound holds the run for an approval; critical once used is"
        " over the budget or the last of two or more thresholds was passed; warning once"
        " another threshold was passed; else ok"
    )
    low: float = Field(
        description="the projected total's 90 % interval, low end: used + the remaining"
        " part's 5th percentile"
    )
    high: float = Field(
        description="the projected total's 90 % interval, high end: used + the remaining"
        " part's 95th percentile"
    )


class RunResourceRunway(RunRunway):
    """A resource budget's runway (docs/budgets.md): what the run's finished steps reported
    of the output plus what the steps left will use, learned from history, against the limit.
    ``budget``, ``used``, ``projected_*``, ``remaining`` and ``thresholds`` are amounts in
    ``unit``, not seconds."""

    name: str = Field(description="the resource budget's name (`budget.resources` key)")
    unit: str = Field(description="the unit amounts are in (the plan's `unit`, or the output)")
    unprojected: list[str] = Field(
        description="steps left that no admitted run reported the output for: counted as 0"
    )


class RunEstimate(BaseModel):
    """A run's remaining time (``phasegate estimate``'s model, conditioned on its journal)."""

    run_id: str
    plan: str
    status: str
    remaining: Interval = Field(description="seconds still needed; 0 for a finished run")
    total: Interval = Field(description="the plan's whole-run estimate, before it started")
    elapsed: float = Field(description="work so far in seconds, human waits removed")
    waited: float = Field(description="seconds spent waiting for a human or a window")
    phases: dict[str, Literal["done", "running", "pending"]]
    overdue: list[str] = Field(description="phases or steps running past their 95th percentile")
    admitted: int = Field(description="past runs of the plan its calibration rule admitted")
    runway: RunRunway | None = Field(
        None, description="the duration budget's runway; null: the plan has no duration budget"
    )
    resources: list[RunResourceRunway] = Field(
        default_factory=list, description="each resource budget's runway, in plan order"
    )
