"""The report's data: one JSON-able document per run, built from the journal only.

``status --json``, ``report --format json`` and the md/html renderers all read this document,
so every view of a run says the same thing.
"""

from __future__ import annotations

import contextlib
import socket
from datetime import UTC, datetime
from typing import cast

from phasegate.engine.outline import outline
from phasegate.engine.session import reload_plan
from phasegate.engine.waiting import opening_text
from phasegate.errors import PhasegateError
from phasegate.estimate.history import work_time
from phasegate.report import canary
from phasegate.report.document import (
    ChildView,
    ItemView,
    PhaseView,
    ProgramView,
    ReportDoc,
    RollbackView,
    TrafficChangeView,
    WaitView,
)
from phasegate.report.fleet_hosts import hosts_view
from phasegate.report.fleet_strata import strata_view
from phasegate.report.monitoring import monitoring_view
from phasegate.run.events import (
    NotificationSent,
    RunCreated,
    RunResumed,
    RunStarted,
    TrafficChanged,
    from_stored,
)
from phasegate.run.outline import PlanOutline
from phasegate.run.record import JsonDict
from phasegate.run.records import ParentRecord, WaitRecord
from phasegate.run.state import EXIT_CODES, Item, RunState, apply
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord

REPORT_VERSION = 1


def _duration(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(end - start, 6)


def _round(seconds: float | None) -> float | None:
    return round(seconds, 6) if seconds is not None else None


def _item(item: Item | None, key: str, kind: str, name: str) -> ItemView:
    if item is None:
        return {"key": key, "kind": kind, "name": name, "status": "not_run"}
    data = item.data
    return {
        "key": key,
        "kind": item.kind,
        "name": item.name or name,
        "status": item.status,
        "attempt": item.attempt,
        "exit_code": item.exit_code,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        "duration": data.get("duration", _duration(item.started_at, item.finished_at)),
        "command": data.get("command"),
        "message": data.get("message"),
        "expectation": data.get("expectation"),
        "observed": data.get("observed"),
        "severity": data.get("severity"),
        "attempts": data.get("attempts"),
        "outputs": data.get("outputs"),
        "log": data.get("log"),
        "operator": "skipped"
        if data.get("skipped_by_operator")
        else ("marked done" if data.get("marked_done_by_operator") else None),
        "unknown_count": data.get("unknown_count"),
        # A bake or timed pause in progress holds until ``until`` (epoch seconds, from the
        # journal's ``item.waiting``), so a view can count down without guessing.
        "waiting": data.get("waiting"),
        "until": data.get("until"),
    }


def wait_view(wait: WaitRecord | None) -> WaitView | None:
    if wait is None:
        return None
    opens = wait.get("next_open")
    utc = (
        datetime.fromtimestamp(float(opens), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(opens, int | float)
        else None
    )
    return {
        **wait,
        "next_open_utc": utc,
        "next_open_text": opening_text(opens, wait.get("timezone")),
    }


def _given(started: RunStarted | None, name: str) -> bool:
    """Whether run.started stored the field (a null stored is shown as null)."""
    return started is not None and name in started.model_fields_set


def _outline(record: RunRecord, created: PlanOutline | None) -> PlanOutline | None:
    """What the run's readers need of its plan: recorded in run.created since event-schema
    version 2; for an older journal, derived from the plan the run stored (None when that
    no longer loads)."""
    if created is not None:
        return created
    try:
        return outline(reload_plan(record).plan)
    except PhasegateError:
        return None


def program_view(store: JournalStore, record: RunRecord, state: RunState) -> ProgramView | None:
    """A program's child runs (each with its status now, from its own journal) and a child's
    parent; None for a plain run."""
    # A child run's options name its parent before parent.linked is journalled.
    parent = state.parent or cast(ParentRecord | None, record.options.get("parent"))
    if not state.children and parent is None:
        return None
    children: list[ChildView] = []
    for phase_id, linked in state.children.items():
        status = linked.get("status")
        with contextlib.suppress(PhasegateError):
            status = store.get_run(str(linked["run"])).status
        children.append({"phase": phase_id, **linked, "status": status})
    return {"parent": parent, "children": children, "readiness": state.readiness}


def build(store: JournalStore, run_ref: str) -> ReportDoc:
    record = store.get_run(run_ref)
    events = store.events(record.id)
    state = RunState(run_id=record.id)

    started: RunStarted | None = None
    resumes: list[JsonDict] = []
    changes: list[TrafficChangeView] = []
    notifications: list[JsonDict] = []
    created: PlanOutline | None = None
    for _, ts, etype, data in events:
        event = from_stored(etype, data)
        apply(state, event, ts)
        match event:
            case RunCreated():
                created = event.outline
            case RunStarted():
                started = event
            case RunResumed():
                resumes.append({"at": ts, **event.to_json()})
            case TrafficChanged():
                changes.append(canary.traffic_change(ts, event))
            case NotificationSent():  # and NotificationFailed
                status = etype.partition(".")[2]
                notifications.append({"at": ts, "status": status, **event.to_json()})
    plan = _outline(record, created)
    phases: list[PhaseView] = []
    for phase_id, pstate in state.phases.items():
        items: list[ItemView] = []
        # A run-time policy's hold on the phase comes before the phase's own items.
        held = state.items.get(f"{phase_id}/policy")
        if held is not None:
            items.append(_item(held, held.key, held.kind, held.name))
        phase = plan.phase(phase_id) if plan is not None else None
        if phase is not None:
            for spec in phase.items:
                key = spec.key
                entry = _item(state.items.get(key), key, spec.kind, spec.name)
                if spec.approvals is not None and (
                    key in state.approvals or entry["status"] == "awaiting_approval"
                ):
                    # Who approved so far, from the journal: the item's own message was
                    # written when it paused ("0/2 approvals") and goes stale.
                    entry["approvals"] = {
                        "by": state.approvals.get(key, []),
                        "required": spec.approvals,
                    }
                if spec.choice is not None:
                    # A decision's options and the one chosen so far (None before the
                    # approval that chooses), so a view offers them instead of Approve.
                    var = spec.choice.var
                    entry["choice"] = {
                        "var": var,
                        "options": list(spec.choice.options),
                        "chosen": state.choices.get(var),
                    }
                items.append(entry)
                if spec.kind == "fleet":
                    # Each (host, step) of a fleet phase, in the order they started.
                    items += [
                        {**_item(i, i.key, i.kind, i.name), "host": i.data.get("host")}
                        for i in state.items.values()
                        if i.phase == phase_id and i.kind == "step" and "@" in i.key
                    ]
        else:
            items += [
                _item(i, i.key, i.kind, i.name)
                for i in state.items.values()
                if i.phase == phase_id and i.kind in ("step", "gate", "analysis") and i is not held
            ]
        phases.append(
            {
                "id": phase_id,
                "name": phase.name if phase is not None else None,
                "needs": list(phase.needs) if phase is not None else [],
                "status": pstate.status,
                "started_at": pstate.started_at,
                "finished_at": pstate.finished_at,
                "duration": _duration(pstate.started_at, pstate.finished_at),
                "items": items,
            }
        )
    rollback: RollbackView | None = None
    if state.rollback is not None:
        rb = state.rollback
        actions = [
            _item(state.items.get(e["key"]), e["key"], e["kind"], e.get("name", ""))
            for e in rb["order"]
        ]
        verify = [
            _item(i, k, "verify", i.name) for k, i in state.items.items() if k.startswith("verify:")
        ]
        rollback = {
            "reason": rb.get("reason"),
            "by": rb.get("by"),
            "status": rb.get("status"),
            "started_at": rb.get("started_at"),
            "finished_at": rb.get("finished_at"),
            "duration": rb.get("duration"),
            "budget": rb.get("budget"),
            "overrun": rb.get("overrun", False),
            **canary.detection(rb, changes),
            "actions": actions,
            "verify": verify,
            "failures": rb.get("failures", []),
        }
    end = state.finished_at
    work, waited = work_time(events, state.started_at, end)
    return {
        "report_version": REPORT_VERSION,
        "run": {
            "id": record.id,
            "status": state.status,
            "exit_code": EXIT_CODES.get(state.status),
            "plan": record.plan_name,
            "plan_path": record.plan_path,
            "plan_sha256": record.options.get("source_sha256", record.plan_sha256),
            "markdown_sha256": record.options.get("markdown_sha256"),
            "lock": record.lock_name,
            "idempotency_key": record.idempotency_key,
            "require_checked": bool(record.options.get("require_checked")),
            "created_at": state.created_at,
            "started_at": state.started_at,
            "finished_at": end,
            # Work time (docs/budgets.md): human waits (pauses, approvals, windows) removed,
            # post-rollout monitoring not counted; the wall time beside it.
            "duration": _round(work),
            "wall_time": _duration(state.started_at, end),
            "waited": round(waited, 6),
            "user": started.user if started else None,
            "host": started.host if started and _given(started, "host") else socket.gethostname(),
            "pid": started.pid if started else None,
            "cwd": started.cwd if started else None,
            # A Markdown import's review: who vouched for those bytes, or "unreviewed".
            "review": started.review if started else None,
            "events": len(events),
        },
        # A null stored is shown as null (as the stored JSON said).
        "vars": started.vars if started and _given(started, "vars") else {},
        "phases": phases,
        # Background monitors (engine/monitors.py), in the order they first started.
        "monitors": [{"key": key, **monitor} for key, monitor in state.monitors.items()],
        "triggers": state.triggers,
        "traffic": canary.traffic(state, changes, plan),
        "analyses": canary.analyses(state, plan),
        "failure": state.failure,
        "pause": state.pause,
        # A change window holding the run (status waiting): the phase, the rule that closed
        # it and why, the next opening (epoch seconds and as text); and every wait that ended.
        "wait": wait_view(state.wait),
        "waits": state.waits,
        # Post-rollout monitoring (plan monitor:): checks done, next due, failures, actions.
        "monitoring": monitoring_view(state.monitoring, state.status),
        # Sampled fleet phases: per-stratum outcomes, projections, risk (docs/fleet.md).
        "fleet_strata": strata_view(events),
        # Fleet phases host by host: batch, each step's and gate's status, outcome.
        "fleet_hosts": hosts_view(events),
        # Lanes (docs/lanes.md): the slot the run waits for (lane, since, cap, position) while
        # it is queued, and the one it holds (lane, granted_at, waited).
        "queue": state.queue,
        "lane": state.lane,
        # Budgets watched (docs/budgets.md): runway thresholds passed, the projection then.
        "budgets": state.budgets,
        "rollback": rollback,
        "warnings": state.warnings,
        "approvals": state.approvals,
        "decisions": state.decisions,
        "resumes": resumes,
        "notifications": notifications,
        "program": program_view(store, record, state),
        "budget": {
            "duration": plan.budget_duration if plan else None,
            "rollback": plan.budget_rollback if plan else None,
        },
    }
