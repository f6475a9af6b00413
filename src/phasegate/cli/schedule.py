"""``phasegate schedule add|list|remove|history|export``: plans run on a calendar rule by
``phasegate serve`` (docs/schedules.md)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from phasegate.cli.common import actor, emit_json, json_option, open_store, parse_vars, var_option


@click.group()
def schedule() -> None:
    """Run a plan on a schedule: cron, an interval or a calendar rule, in a timezone.

    `phasegate serve` fires schedules (any number of servers on one store: each slot
    once); `schedule export --systemd` writes a timer for hosts without a server.
    """


@schedule.command("add")
@click.argument("name")
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False))
@click.option("--cron", metavar="EXPR", help="Five cron fields, e.g. '*/5 * * * *'.")
@click.option("--every", metavar="DURATION", help="An interval: 2s, 5m, 1h (whole seconds).")
@click.option(
    "--calendar", metavar="RULE", help="[DAYS] HH:MM, e.g. 'daily 02:00', 'mon..thu 09:30'."
)
@click.option(
    "--timezone",
    "timezone",
    metavar="ZONE",
    default="UTC",
    show_default=True,
    help="IANA timezone the cron or calendar rule is read in, e.g. Europe/Berlin.",
)
@var_option
@click.option(
    "--missed",
    type=click.Choice(["skip", "catch-up-one"]),
    default="skip",
    show_default=True,
    help="Slots that passed while no server ran: skip them, or run once for them.",
)
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    plan_file: str,
    cron: str | None,
    every: str | None,
    calendar: str | None,
    timezone: str,
    variables: tuple[str, ...],
    missed: str,
    as_json: bool,
) -> None:
    """Add schedule NAME: run PLAN at every slot of the rule (give one of --cron, --every,
    --calendar). Checked now: the rule, the timezone, the plan and its --var names."""
    from phasegate.errors import UsageError
    from phasegate.schedules import local, rule_from_spec
    from phasegate.schedules.rules import spec_json
    from phasegate.schedules.spec import build_spec
    from phasegate.store.schedules import ScheduleRecord

    spec = build_spec(
        name=name,
        plan=plan_file,
        cron=cron,
        every=every,
        calendar=calendar,
        timezone=timezone,
        variables=parse_vars(variables),
        missed=missed,
    )
    store = open_store(ctx)
    now = time.time()
    # The store keeps a spec as a plain JSON object (`stored_spec` types it on the way back).
    if not store.add_schedule(ScheduleRecord(name, spec_json(spec), now, actor())):
        raise UsageError(
            f"a schedule {name!r} exists", hint=f"`phasegate schedule remove {name}` first"
        )
    rule = rule_from_spec(spec)
    following = rule.next_after(now)
    if as_json:
        emit_json({"name": name, **spec, "next": local(following, timezone)})
        return
    click.echo(f"schedule {name}: {rule.describe()}, runs {spec['plan']}")
    click.echo(f"  next: {local(following, timezone)}  (fired by `phasegate serve`)")


@schedule.command("list")
@json_option
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List schedules: rule, next slot, last slot and what it became, streak of passes."""
    from phasegate.schedules.view import schedule_row

    store = open_store(ctx, readonly=True)
    rows = [schedule_row(store, record, time.time()) for record in store.schedules()]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no schedules (add one with `phasegate schedule add`)")
        return
    for row in rows:
        last = row["last"]
        done = f"{last['at']} {last['outcome']}" if last else "never"
        click.echo(f"{row['name']}: {row['described']} -> {row['plan']}")
        click.echo(
            f"  next {row['next']}  last {done}  streak {row['streak']}  missed: {row['missed']}"
        )


@schedule.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove schedule NAME (and its slot history; its runs stay)."""
    from phasegate.errors import UsageError

    if not open_store(ctx).remove_schedule(name):
        raise UsageError(f"no schedule {name!r}", hint="`phasegate schedule list` shows them")
    click.echo(f"schedule {name} removed")


@schedule.command("history")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
@click.pass_context
def history(ctx: click.Context, name: str, limit: int, as_json: bool) -> None:
    """Schedule NAME's slots, newest first: fired (its run and status), missed, skipped."""
    from phasegate.errors import UsageError
    from phasegate.schedules.view import schedule_history

    store = open_store(ctx, readonly=True)
    record = store.schedule_named(name)
    if record is None:
        raise UsageError(f"no schedule {name!r}", hint="`phasegate schedule list` shows them")
    shown = schedule_history(store, record, limit)
    if as_json:
        emit_json(shown)
        return
    passes, slots = shown["streak"], shown["slots"]
    click.echo(f"schedule {name}: streak {passes} consecutive pass(es)")
    for slot in slots:
        run = f" run {slot['run_id']} {slot['status']}" if slot["run_id"] else ""
        note = f"  ({slot['note']})" if slot["note"] else ""
        click.echo(f"  {slot['at']}  {slot['outcome']}{run}{note}")


@schedule.command("export")
@click.argument("name")
@click.option("--systemd", "systemd", is_flag=True, required=True, help="Write systemd units.")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Directory to write NAME.service and NAME.timer into.",
)
@click.pass_context
def export(ctx: click.Context, name: str, systemd: bool, output: str) -> None:
    """Write NAME.service + NAME.timer: systemd runs the schedule's plan with `phasegate run
    --schedule NAME` on hosts without a server (OnCalendar= from the rule and timezone,
    Persistent= from --missed)."""
    from phasegate.cli import state_dir, store_url
    from phasegate.errors import UsageError
    from phasegate.schedules import stored_spec
    from phasegate.schedules.systemd import units

    store = open_store(ctx, readonly=True)
    record = store.schedule_named(name)
    if record is None:
        raise UsageError(f"no schedule {name!r}", hint="`phasegate schedule list` shows them")
    directory = Path(output)
    directory.mkdir(parents=True, exist_ok=True)
    written = units(
        name,
        stored_spec(record.spec),
        state_dir=Path(state_dir(ctx)).expanduser().resolve(),
        store_url=store_url(ctx),
    )
    for filename, text in written.items():
        (directory / filename).write_text(text, encoding="utf-8")
        click.echo(str(directory / filename))
