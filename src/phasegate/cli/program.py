"""``phasegate next``: the first dependency-satisfied child of a program whose readiness
passes (engine/programview.py gathers the facts, engine/nextchild.py decides)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from phasegate.cli.common import emit_json, open_store, parse_vars, var_option

if TYPE_CHECKING:
    from phasegate.engine.programview import NextAnswer
    from phasegate.store.contract import JournalStore


@click.command("next")
@click.argument("program")
@click.option("--all", "show_all", is_flag=True, help="Every actionable child, not only the first.")
@click.option("--blocked", is_flag=True, help="Also each blocked child with its blockers.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    help="Judge the change windows at this ISO 8601 time with an offset (default: now).",
)
@var_option
@click.pass_context
def next_cmd(
    ctx: click.Context,
    program: str,
    show_all: bool,
    blocked: bool,
    as_json: bool,
    at_text: str | None,
    variables: tuple[str, ...],
) -> None:
    """The next actionable child of PROGRAM (a plan file, or a run id): the first, in
    dependency order, whose needs have succeeded and whose readiness passes now.

    Before any run it reads the plan and the evidence; with an unfinished run of the plan (or
    a run id) it reads the phases' progress from the journal. Readiness is evaluated now,
    never taken from an earlier evaluation. A child whose change window is closed (at --at,
    default now) is blocked, naming the rule and the next opening."""
    from phasegate.cli.windows import parse_at

    at = parse_at(at_text)
    data = next_report(ctx, program, parse_vars(variables), at)
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


def next_report(
    ctx: click.Context, program: str, overrides: dict[str, str], at: datetime | None = None
) -> NextAnswer:
    from phasegate.cli import state_dir
    from phasegate.engine.programview import next_for_plan, next_for_run
    from phasegate.errors import RunNotFound

    store = _store(ctx)
    try:
        if Path(program).is_file():
            return next_for_plan(store, Path(program), overrides, at)
        if store is None:
            raise RunNotFound(
                f"{program!r} is neither a plan file nor a run (no journal in {state_dir(ctx)})",
                hint="give the program's plan file, or a run id from `phasegate history`",
            )
        return next_for_run(store, program, overrides, at)
    finally:
        if store is not None:
            store.close()


def _store(ctx: click.Context) -> JournalStore | None:
    from phasegate.errors import PhasegateError

    try:
        return open_store(ctx, readonly=True)
    except PhasegateError:
        return None  # no journal yet: before any run
