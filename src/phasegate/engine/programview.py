"""What ``phasegate next`` (and ``GET /api/v1/programs/{run}/next``) answers: the facts
gathered (the plan, the run's journal when there is one, each child's readiness evaluated
now, never a cached answer, each phase's change window at the instant asked about) and handed
to the pure decision in engine/nextchild.py."""

from __future__ import annotations

import asyncio
import os
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import NotRequired, TypedDict

from phasegate.engine.nextchild import Node, next_children
from phasegate.engine.readiness import evaluate
from phasegate.engine.session import reload_plan
from phasegate.engine.waiting import opening_text
from phasegate.engine.windowing import Verdicts, approved
from phasegate.executors.local import LocalExecutor
from phasegate.masking import Masker
from phasegate.plan.loader import LoadedPlan, load_plan
from phasegate.plan.model import Plan
from phasegate.plan.variables import VariableError, resolve
from phasegate.plugin import PluginContext
from phasegate.run.state import TERMINAL, RunState
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord
from phasegate.windows import next_open


class ReadinessView(TypedDict):
    """A child's readiness as ``next`` shows it (evaluated for this answer)."""

    ready: bool
    verdict: str | None
    score: float | None
    min_score: float | None
    blockers: list[str]
    evidence: str | None
    sha256: str | None


class NextEntry(TypedDict):
    """A program phase in ``next``'s answer: its child plan, readiness and closed window."""

    phase: str
    run_plan: str | None
    readiness: NotRequired[ReadinessView]
    window: NotRequired[dict[str, object]]  # the window verdict (engine/windowing.py), next_open


class BlockedEntry(NextEntry):
    blockers: list[str]


class NextAnswer(TypedDict):
    """``next --json``: the program's phases in dependency order, what is actionable now and
    what blocks the others (``--blocked``)."""

    program: str
    run: str | None
    at: str
    order: list[str]
    status: dict[str, str]
    actionable: list[NextEntry]
    blocked: NotRequired[list[BlockedEntry]]


def next_for_plan(
    store: JournalStore | None,
    path: Path,
    overrides: dict[str, str],
    at: datetime | None = None,
) -> NextAnswer:
    """Before a run (plan + evidence), or during the plan's unfinished run (its journal)."""
    loaded = load_plan(path)
    record = _unfinished_run(store, loaded) if store is not None else None
    return answer(store, loaded, record, overrides, at)


def next_for_run(
    store: JournalStore, run_ref: str, overrides: dict[str, str], at: datetime | None = None
) -> NextAnswer:
    record = store.get_run(run_ref)
    return answer(store, reload_plan(record), record, overrides, at)


def answer(
    store: JournalStore | None,
    loaded: LoadedPlan,
    record: RunRecord | None,
    overrides: dict[str, str],
    at: datetime | None = None,
) -> NextAnswer:
    """``next --json`` before its --all/--blocked filters; windows judged at ``at`` (now)."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    state = store.load_state(record.id) if record is not None and store is not None else None
    plan = loaded.plan
    status = {p.id: p.status for p in state.phases.values()} if state is not None else {}
    if state is not None:
        for phase in plan.phases:
            # A program phase whose child never started (it waits, e.g. not ready) is still
            # a candidate: its child is what `next` is about.
            started = phase.id in state.children
            if phase.run_plan and status.get(phase.id) == "running" and not started:
                status[phase.id] = "pending"
    nodes = [Node(p.id, tuple(p.needs), p.needs_mode == "any") for p in plan.phases]
    evaluated = _readiness(loaded, status, overrides, state)
    closed = closed_windows(plan, status, state, at)
    blockers = {k: list(v["blockers"]) for k, v in evaluated.items()}
    for phase_id, window in closed.items():
        blockers.setdefault(phase_id, []).append(str(window["blocker"]))
    decided = next_children(nodes, status, blockers)

    def entry(phase_id: str) -> NextEntry:
        phase = plan.phase(phase_id)
        out: NextEntry = {"phase": phase_id, "run_plan": phase.run_plan}
        if phase_id in evaluated:
            out["readiness"] = evaluated[phase_id]
        if phase_id in closed:
            out["window"] = {k: v for k, v in closed[phase_id].items() if k != "blocker"}
        return out

    return {
        "program": plan.name,
        "run": record.id if record is not None else None,
        "at": at.isoformat(),
        "order": decided.order,
        "status": {p.id: status.get(p.id, "pending") for p in plan.phases},
        "actionable": [entry(p) for p in decided.actionable],
        "blocked": [{**entry(b.phase), "blockers": list(b.blockers)} for b in decided.blocked],
    }


def closed_windows(
    plan: Plan, status: dict[str, str], state: RunState | None, at: datetime
) -> dict[str, dict[str, object]]:
    """Each not-started phase whose change window (its ``risk:``) is closed at ``at``, as the
    engine would hold it (engine/windowing.py): the deciding rule, why, the next opening. A
    break-glass approval of the phase (``window:PHASE``) opens it, as in the engine."""
    windows = plan.windows
    if windows is None:
        return {}
    verdicts = Verdicts(windows, at)
    opens: dict[str, datetime | None] = {}
    out: dict[str, dict[str, object]] = {}
    for phase in plan.phases:
        if status.get(phase.id, "pending") != "pending":
            continue
        if state is not None and approved(state, phase.id) is not None:
            continue
        verdict = verdicts(phase.risk)
        if verdict.open:
            continue
        if verdict.risk not in opens:
            opens[verdict.risk] = next_open(windows, at, verdict.risk)
        when = opens[verdict.risk]
        stamp = when.timestamp() if when is not None else None
        out[phase.id] = {
            **verdict.as_dict(),
            "next_open": when.astimezone(UTC).isoformat() if when is not None else None,
            "blocker": f"window closed for {verdict.risk}-risk changes ({verdict.why}); "
            f"opens {opening_text(stamp, windows.timezone)}",
        }
    return out


def _unfinished_run(store: JournalStore, loaded: LoadedPlan) -> RunRecord | None:
    for record in store.list_runs(plan=loaded.plan.name, limit=20):
        if record.status not in TERMINAL and Path(record.plan_path) == loaded.path:
            return record
    return None


def _readiness(
    loaded: LoadedPlan,
    status: dict[str, str],
    overrides: dict[str, str],
    state: RunState | None,
) -> dict[str, ReadinessView]:
    """Each not-started program phase's readiness, evaluated now (hard checks included)."""
    plan = loaded.plan
    builtins = {
        "RUN_ID": state.run_id if state is not None else "",
        "RUN_DIR": "",
        "PLAN_DIR": str(loaded.plan_dir),
        "PLAN_NAME": plan.name,
        "STATE_DIR": "",
    }
    try:
        variables = resolve(plan, overrides, builtins)
    except VariableError:
        variables = None  # an unset environment variable: field paths are read as written

    def expand(text: str) -> str:
        return variables.expand(text) if variables is not None else text

    values = variables.values if variables is not None else {}
    context = PluginContext(
        executor=LocalExecutor(),
        masker=Masker(variables.secret_values() if variables is not None else []),
        plan_dir=str(loaded.plan_dir),
        env={**os.environ, **values},
        expand=expand,
        shell=shlex.split(plan.defaults.shell),
    )
    out: dict[str, ReadinessView] = {}
    for phase in plan.phases:
        if phase.ready is None or status.get(phase.id, "pending") != "pending":
            continue
        result = asyncio.run(
            evaluate(
                phase.ready,
                plan_file=loaded.path,
                shell=plan.defaults.shell,
                expand=expand,
                check_context=context,
            )
        )
        out[phase.id] = {
            "ready": result.ready,
            "verdict": result.verdict,
            "score": result.score,
            "min_score": result.min_score,
            "blockers": list(result.blockers),
            "evidence": result.evidence,
            "sha256": result.sha256,
        }
    return out
