"""``phasegate next``: the first dependency-satisfied child of a program whose readiness
passes (engine/nextchild.py decides; this module gathers the facts: the plan, the run's
journal when there is one, and each child's readiness evaluated now)."""

from __future__ import annotations

import asyncio
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from phasegate.cli.common import emit_json, open_store, parse_vars, var_option

if TYPE_CHECKING:
    from phasegate.plan.loader import LoadedPlan
    from phasegate.run.state import RunState
    from phasegate.store.contract import JournalStore


@click.command("next")
@click.argument("program")
@click.option("--all", "show_all", is_flag=True, help="Every actionable child, not only the first.")
@click.option("--blocked", is_flag=True, help="Also each blocked child with its blockers.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@var_option
@click.pass_context
def next_cmd(
    ctx: click.Context,
    program: str,
    show_all: bool,
    blocked: bool,
    as_json: bool,
    variables: tuple[str, ...],
) -> None:
    """The next actionable child of PROGRAM (a plan file, or a run id): the first, in
    dependency order, whose needs have succeeded and whose readiness passes now.

    Before any run it reads the plan and the evidence; with an unfinished run of the plan (or
    a run id) it reads the phases' progress from the journal. Readiness is evaluated now,
    never taken from an earlier evaluation."""
    data = next_report(ctx, program, parse_vars(variables))
    if as_json:
        if not show_all:
            data["actionable"] = data["actionable"][:1]
        if not blocked:
            data.pop("blocked")
        emit_json(data)
        return
    where = f"run {data['run']}" if data["run"] else "before any run"
    actionable = data["actionable"] if show_all else data["actionable"][:1]
    if not actionable:
        click.echo(f"program {data['program']} ({where}): no child is actionable now")
    for entry in actionable:
        plan = f"  ({entry['run_plan']})" if entry.get("run_plan") else ""
        click.echo(f"{entry['phase']}{plan}")
    if blocked:
        for entry in data["blocked"]:
            click.echo(f"blocked {entry['phase']}: {'; '.join(entry['blockers'])}")


def next_report(ctx: click.Context, program: str, overrides: dict[str, str]) -> dict[str, Any]:
    """What ``next --json`` prints, before filtering (the API serves the same)."""
    from phasegate.cli import state_dir
    from phasegate.engine.nextchild import Node, next_children
    from phasegate.engine.session import reload_plan
    from phasegate.plan.loader import load_plan

    store = _store(ctx)
    state = None
    run_id = None
    if Path(program).is_file():
        loaded = load_plan(Path(program))
        record = _unfinished_run(store, loaded) if store is not None else None
    else:
        if store is None:
            from phasegate.errors import RunNotFound

            raise RunNotFound(
                f"{program!r} is neither a plan file nor a run (no journal in {state_dir(ctx)})",
                hint="give the program's plan file, or a run id from `phasegate history`",
            )
        record = store.get_run(program)
        loaded = reload_plan(record)
    if record is not None and store is not None:
        state = store.load_state(record.id)
        run_id = record.id
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
    answer = next_children(nodes, status, {k: v["blockers"] for k, v in evaluated.items()})

    def entry(phase_id: str) -> dict[str, Any]:
        phase = plan.phase(phase_id)
        out: dict[str, Any] = {"phase": phase_id, "run_plan": phase.run_plan}
        if phase_id in evaluated:
            out["readiness"] = evaluated[phase_id]
        return out

    return {
        "program": plan.name,
        "run": run_id,
        "order": answer.order,
        "status": {p.id: status.get(p.id, "pending") for p in plan.phases},
        "actionable": [entry(p) for p in answer.actionable],
        "blocked": [{**entry(b.phase), "blockers": list(b.blockers)} for b in answer.blocked],
    }


def _store(ctx: click.Context) -> JournalStore | None:
    from phasegate.errors import PhasegateError

    try:
        return open_store(ctx, readonly=True)
    except PhasegateError:
        return None  # no journal yet: before any run


def _unfinished_run(store: JournalStore, loaded: LoadedPlan) -> Any:
    from phasegate.run.state import TERMINAL

    for record in store.list_runs(plan=loaded.plan.name, limit=20):
        if record.status not in TERMINAL and Path(record.plan_path) == loaded.path:
            return record
    return None


def _readiness(
    loaded: LoadedPlan,
    status: dict[str, str],
    overrides: dict[str, str],
    state: RunState | None,
) -> dict[str, dict[str, Any]]:
    """Each pending program phase's readiness, evaluated now."""
    from phasegate.engine.readiness import evaluate
    from phasegate.executors.local import LocalExecutor
    from phasegate.masking import Masker
    from phasegate.plan.variables import VariableError, resolve
    from phasegate.plugin import PluginContext

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
        variables = None
    expand = variables.expand if variables is not None else (lambda text: text)
    values = variables.values if variables is not None else {}
    context = PluginContext(
        executor=LocalExecutor(),
        masker=Masker(variables.secret_values() if variables is not None else []),
        plan_dir=str(loaded.plan_dir),
        env={**os.environ, **values},
        expand=expand,
        shell=shlex.split(plan.defaults.shell),
    )
    out: dict[str, dict[str, Any]] = {}
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
