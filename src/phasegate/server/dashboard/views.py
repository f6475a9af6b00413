"""What the dashboard's templates show, computed from the run document (the same document as
``phasegate status --json`` and the report), so the pages never disagree with the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypedDict, cast, final

from markupsafe import Markup

from phasegate.durations import format_duration
from phasegate.report.document import (
    AnalysisView,
    ChoiceView,
    DetectionView,
    ItemView,
    MonitorView,
    ProgramView,
    ReportDoc,
    RollbackView,
    RunView,
    TrafficView,
    WaitView,
)
from phasegate.report.fleet_hosts import FleetHostsView
from phasegate.report.fleet_strata import StrataView
from phasegate.report.monitoring import MonitoringView
from phasegate.report.weight_chart import chart_svg
from phasegate.run.record import Number
from phasegate.run.records import (
    DecisionRecord,
    FailureRecord,
    LaneRecord,
    PauseRecord,
    QueueRecord,
    RollbackFailure,
    TriggerRecord,
    WarningRecord,
)
from phasegate.run.state import ITEM_DONE, TERMINAL
from phasegate.server.dashboard.dag import dag_svg, waves
from phasegate.server.dashboard.fields import observed_fields

LOG_TAIL_BYTES = 4096
LogTail = Callable[[str], str]  # item key -> the last LOG_TAIL_BYTES of its log
# A phase of thousands of steps is shown as a window: what needs attention, the latest
# finished, the next ones; the rest is counted. Every watcher receives the page on every
# change, so its size must not grow with the plan.
WINDOW = 40
WINDOW_DONE = 12
WINDOW_NEXT = 8
ATTENTION = (
    "running",
    "retrying",
    "failed",
    "error",
    "awaiting_approval",
    "unknown",
    "interrupted",  # ended by phasegate at a signal: resume re-runs it
)
LOG_TAIL_LINES = 40
COMMANDS = ("step", "undo", "rollback")  # the items that run a command and write a log
ACTIVE = (
    "running",
    "rolling_back",
    "pending",
    "paused",
    "interrupted",
    "waiting",
    "monitoring",
    "queued",
)


@final  # so that `"gap" not in entry` tells mypy the entry is an item
class Gap(TypedDict):
    """Hidden items between shown ones on a long phase's card: how many."""

    gap: int


class ApproveForm(TypedDict):
    """One Approve form of the run page: the item, and the decision's option field if any."""

    key: str
    name: str
    choice: ChoiceView | None


class BudgetBar(TypedDict):
    """The rollback's duration against its budget (100 %), as the run page draws it."""

    duration: str
    budget: str | None
    percent: float | None
    over: bool
    detection: Number | None


class ShownItem(ItemView, total=False):
    """An item as its card shows it: with its observed fields and its approvals in words."""

    fields: list[tuple[str, str]]
    details: list[tuple[str, str]]
    approval_text: str


ShownEntry = ShownItem | Gap


class ShownPhase(TypedDict):
    """A phase's card: the phase, its items windowed (``window``)."""

    id: str
    name: str | None
    needs: list[str]
    status: str
    started_at: Number | None
    finished_at: Number | None
    duration: Number | None
    items: list[ShownEntry]


class ShownRollback(DetectionView):
    """The rollback's card: its actions and verification shown as items are."""

    reason: str | None
    by: str | None
    status: str | None
    started_at: Number | None
    finished_at: Number | None
    duration: Number | None
    budget: Number | None
    overrun: bool
    actions: list[ShownEntry]
    verify: list[ShownEntry]
    failures: list[RollbackFailure]


class Progress(TypedDict):
    done: int
    total: int
    percent: int


class MonitorLog(MonitorView):
    """A phase monitor with the last lines of its log."""

    lines: list[str]
    running: bool


class LogView(TypedDict):
    """The last lines of one item's log on the run page."""

    key: str
    name: str | None
    lines: list[str]
    running: bool


class RunPage(TypedDict):
    """What the run page's template is given."""

    run: RunView
    phases: list[ShownPhase]
    waves: list[list[ShownPhase]]
    dag: Markup | None
    progress: Progress
    failure: FailureRecord | None
    pause: PauseRecord | None
    wait: WaitView | None
    monitoring: MonitoringView | None
    queue: QueueRecord | None
    lane: LaneRecord | None
    program: ProgramView | None
    fleet_strata: list[StrataView]
    fleet_hosts: list[FleetHostsView]
    rollback: ShownRollback | None
    rollback_bar: BudgetBar | None
    triggers: dict[str, TriggerRecord]
    analyses: list[AnalysisView]
    traffic: TrafficView | None
    weights_chart: Markup | None
    warnings: list[WarningRecord]
    approvals: dict[str, list[str]]
    decisions: list[DecisionRecord]
    monitors: list[MonitorLog]
    log: LogView | None
    active: bool
    awaiting: list[str]
    approve_forms: list[ApproveForm]
    operations: list[str]
    now: float


def run_view(doc: ReportDoc, tail: LogTail | None = None) -> RunPage:
    run = doc["run"]
    phases = doc["phases"]
    items = [item for phase in phases for item in phase["items"]]
    done = [i for i in items if i.get("status") in ITEM_DONE]
    rollback = doc["rollback"]
    shown: list[ShownPhase] = [
        {**phase, "items": [_shown(i) for i in window(phase["items"])]} for phase in phases
    ]
    shown_rollback: ShownRollback | None = None
    if rollback:
        shown_rollback = {
            **rollback,
            "actions": [_shown(i) for i in rollback["actions"]],
            "verify": [_shown(i) for i in rollback["verify"]],
        }
    columns = waves(shown)
    return {
        "run": run,
        "phases": shown,
        "waves": columns,
        "dag": dag_svg(columns),
        "progress": progress(len(done), len(items)),
        "failure": doc.get("failure"),
        "pause": doc.get("pause"),
        "wait": doc.get("wait"),  # a change window holding the run: rule, next opening
        "monitoring": doc.get("monitoring"),  # post-rollout monitoring: checks done, next due
        "queue": doc.get("queue"),  # a lane slot the run waits for (docs/lanes.md)
        "lane": doc.get("lane"),  # the lane slot it holds
        "program": doc.get("program"),  # a program's children, a child's parent (links)
        "fleet_strata": doc.get("fleet_strata") or [],  # sampled fleet phases (docs/fleet.md)
        "fleet_hosts": doc.get("fleet_hosts") or [],  # fleet phases host by host
        "rollback": shown_rollback,
        "rollback_bar": budget_bar(rollback),
        "triggers": doc.get("triggers") or {},
        "analyses": doc.get("analyses") or [],
        "traffic": doc.get("traffic"),
        "weights_chart": chart_svg(doc),
        "warnings": doc.get("warnings") or [],
        "approvals": doc.get("approvals") or {},
        "decisions": doc.get("decisions") or [],
        "monitors": monitor_logs(doc, tail),
        "log": log_tail(items + (rollback["actions"] if rollback else []), tail),
        "active": run.get("status") in ACTIVE,
        "awaiting": [i["key"] for i in items if i.get("status") == "awaiting_approval"],
        "approve_forms": approve_forms(items),
        "operations": operations(doc),
        "now": time.time(),
    }


def _shown(item: ItemView | Gap) -> ShownEntry:
    """An item with what the card shows: labelled observed fields, the approvals so far."""
    if "gap" in item:
        return cast(Gap, item)  # an item never has `gap`; mypy narrows only the other way
    said: _ApprovalText = {}
    approvals = item.get("approvals")
    if approvals:
        by = approvals["by"]
        text = f"{len(by)}/{approvals['required']} approvals"
        said["approval_text"] = text + (f" (by {', '.join(by)})" if by else "")
    return {**item, **observed_fields(item), **said}


class _ApprovalText(TypedDict, total=False):
    approval_text: str


def approve_forms(items: list[ItemView]) -> list[ApproveForm]:
    """One Approve form per waiting item when a decision waits among them: a decision is
    approved only with one of its options (the engine refuses a plain approval of it), so
    its form offers the options, and the other waiting items get their own plain form.
    Empty when no decision waits: the single Approve approves everything waiting."""
    waiting = [i for i in items if i.get("status") == "awaiting_approval"]
    if not any(i.get("choice") for i in waiting):
        return []
    return [
        {"key": i["key"], "name": i.get("name") or i["key"], "choice": i.get("choice")}
        for i in waiting
    ]


def operations(doc: ReportDoc) -> list[str]:
    """The operator buttons that make sense for the run now, in the order they are shown.

    Like GitHub's deployment review (Approve only while a review is pending) and Argo
    Rollouts (Promote only on a paused canary): an operation that the engine would refuse
    is not offered. Promote ends the current canary pause or bake; Promote full skips the
    canary steps left; both only while a canary step holds."""
    status = doc["run"].get("status")
    if status in TERMINAL:
        # A finished run can still be rolled back (undo a release that went out), unless
        # that already happened.
        return ["rollback"] if status in ("succeeded", "failed", "rollback_failed") else []
    items = [i for p in doc.get("phases", []) for i in p.get("items", [])]
    rolling_back = doc.get("rollback") is not None or status == "rolling_back"
    found: list[str] = []
    if status == "waiting":
        found.append("break_glass")  # start outside the window, with a reason
    if any(i.get("status") == "awaiting_approval" for i in items) and not rolling_back:
        found += ["approve", "reject"]  # GitHub environments: approve, or reject with why
    holding = any(
        i.get("status") == "awaiting_approval"
        or (i.get("status") == "running" and i.get("until") is not None)
        for i in items
    )
    traffic = doc.get("traffic")
    if traffic is not None and holding and not rolling_back:
        found.append("promote")
        if not traffic.get("promoted"):
            found.append("promote_full")
    awaiting = any(i.get("status") == "awaiting_approval" for i in items)
    # Resuming a run that waits for approvals would only pause it again: Approve it instead.
    if status == "interrupted" or (status == "paused" and not awaiting):
        found.append("resume")
    if not rolling_back:
        found.append("abort")
    if status in ("paused", "interrupted"):
        found.append("rollback")
    return found


def window(items: list[ItemView]) -> list[ItemView | Gap]:
    """At most about WINDOW items: every one needing attention, the last finished, the next
    pending; each run of hidden items becomes ``{"gap": count}``."""
    if len(items) <= WINDOW:
        return list(items)
    keep = {i for i, item in enumerate(items) if item.get("status") in ATTENTION}
    finished = [i for i, item in enumerate(items) if item.get("status") in ITEM_DONE]
    waiting = [i for i, item in enumerate(items) if item.get("status") not in ITEM_DONE]
    keep.update(finished[-WINDOW_DONE:])
    keep.update(waiting[:WINDOW_NEXT])
    out: list[ItemView | Gap] = []
    hidden = 0
    for index, item in enumerate(items):
        if index in keep:
            if hidden:
                out.append({"gap": hidden})
                hidden = 0
            out.append(item)
        else:
            hidden += 1
    if hidden:
        out.append({"gap": hidden})
    return out


def progress(done: int, total: int) -> Progress:
    percent = round(100 * done / total) if total else 100
    return {"done": done, "total": total, "percent": percent}


def budget_bar(rollback: RollbackView | None) -> BudgetBar | None:
    """Rollback duration against its budget, as a bar: the budget is 100 %."""
    if not rollback:
        return None
    duration = rollback["duration"]
    started = rollback["started_at"]
    if duration is None and started:
        duration = time.time() - float(started)
    budget = rollback["budget"]
    if duration is None:
        return None
    percent = min(100.0, 100.0 * duration / budget) if budget else None
    return {
        "duration": format_duration(duration),
        "budget": format_duration(budget) if budget else None,
        "percent": round(percent, 1) if percent is not None else None,
        "over": budget is not None and duration > float(budget),
        "detection": rollback["detection_latency"],
    }


def log_tail(items: list[ItemView], tail: LogTail | None = None) -> LogView | None:
    """The last lines of the log of the step running now, else of the last one that ran.

    Read from the store (``tail(key)``: the end of the item's log, ``read_log``), wherever
    the engine runs; the hub re-renders a live run's page every interval, so new lines
    reach every watcher over the page's SSE stream without a reload."""
    if tail is None:
        return None
    running = [i for i in items if i.get("status") == "running" and i.get("kind") in COMMANDS]
    item: ItemView | None = None
    text = ""
    if running:
        item = running[-1]
        text = tail(str(item["key"]))
        if not text:  # a canary step (set_weight, bake) runs no command
            item = None
    if item is None:
        with_logs = [i for i in items if i.get("log")]
        if with_logs:
            item = max(with_logs, key=lambda i: i.get("started_at") or 0)
            text = tail(str(item["key"]))
    if item is None:
        return None
    return {
        "key": item["key"],
        "name": item.get("name"),
        "lines": text.splitlines()[-LOG_TAIL_LINES:],
        "running": item.get("status") == "running",
    }


MONITOR_TAIL_LINES = 8


def monitor_logs(doc: ReportDoc, tail: LogTail | None = None) -> list[MonitorLog]:
    """Each phase monitor (engine/monitors.py) with how it stands and the last lines of its
    log, read from the store: a running monitor's lines reach every watcher on the hub's
    next re-render, as a running step's do."""
    shown: list[MonitorLog] = []
    for monitor in doc.get("monitors") or []:
        text = tail(str(monitor["key"])) if tail is not None else ""
        shown.append(
            {
                **monitor,
                "lines": text.splitlines()[-MONITOR_TAIL_LINES:],
                "running": monitor.get("status") == "running",
            }
        )
    return shown
