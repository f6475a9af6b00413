"""Read verbs: status, history, logs, report, check. None of them changes a run."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from phasegate.cli.common import emit_json, json_option, open_sqlite, open_store
from phasegate.words import names, plural

if TYPE_CHECKING:
    from phasegate.report.document import ReportDoc
    from phasegate.report.monitoring import MonitoringView
    from phasegate.store.contract import JournalStore
    from phasegate.store.invariants import CheckReport


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.command()
@click.argument("run_ref", metavar="RUN", default="last")
@json_option
@click.pass_context
def status(ctx: click.Context, run_ref: str, as_json: bool) -> None:
    """Show RUN's state (default: the latest run): phases, steps, gates, approvals, rollback.

    A run whose journal says it is running but whose process is gone (a crash, kill -9) is
    shown as "owner dead — resumable"."""
    from phasegate.durations import format_duration
    from phasegate.report.data import build
    from phasegate.report.owner import owner_info

    store = open_store(ctx, readonly=True)
    data = build(store, run_ref)
    data["run"]["owner"] = owner_info(store.get_run(data["run"]["id"]))
    if as_json:
        emit_json(data)
        return
    run = data["run"]
    click.echo(f"run {run['id']}  plan {run['plan']}  {_run_status(run)}")
    click.echo(
        f"  started {_when(run['started_at'])}  by {run['user']} on {run['host']}"
        f"  duration {format_duration(run['duration'])}"
    )
    record = store.get_run(run["id"])
    if record.finished_at is None and not data.get("monitoring"):  # the rollout's estimate
        from phasegate.cli.estimate import remaining_words

        left = remaining_words(store, record)
        if left:
            click.echo(f"  {left}")
    program = data.get("program")
    parent = program["parent"] if program else None
    if parent:
        click.echo(f"  child of program run {parent['run']} (phase {parent['phase']})")
    children = {c["phase"]: c for c in (program["children"] if program else [])}
    for phase in data["phases"]:
        child = children.get(phase["id"])
        linked = f"  child run {child['run']}: {child['status']}" if child else ""
        click.echo(f"  phase {phase['id']}: {phase['status']}{linked}")
        for item in phase["items"]:
            took = format_duration(item.get("duration")) if item.get("duration") is not None else ""
            note = approval_progress(item, data["approvals"]) or (
                item["message"]
                if item.get("message") and item["status"] not in ("succeeded", "passed")
                else ""
            )
            msg = f"  {note}" if note else ""
            click.echo(f"    {item['kind']:<5} {_label(item):<40} {item['status']:<18} {took}{msg}")
        for fleet in data.get("fleet_hosts") or []:
            if fleet["phase"] == phase["id"]:
                _print_hosts(fleet)
        for monitor in data.get("monitors", []):
            if monitor.get("phase") == phase["id"]:
                note = f"  {monitor['message']}" if monitor.get("message") else ""
                click.echo(f"    monitor {monitor['name']:<38} {monitor['status']:<18}{note}")
    if data["failure"]:
        click.echo(f"  failure: {data['failure'].get('message')}")
    for name, watched in (data.get("budgets") or {}).items():
        click.echo(f"  budget {name}: {_budget_words(name, watched)}")
    if wait := data.get("wait"):
        _print_wait(run["id"], wait)
    if monitoring := data.get("monitoring"):
        _print_monitoring(monitoring)
    if queue := data.get("queue"):
        cap = "no cap" if queue.get("cap") is None else f"cap {queue['cap']}"
        what = f"phase {queue['phase']}" if queue.get("phase") else "it"
        why = f": {queue['reason']}" if queue.get("reason") else ""
        click.echo(
            f"  queued for lane {queue['lane']} ({cap}){why} since {_when(queue['since'])}: "
            f"{what} starts when a slot frees (`phasegate lane list`)"
        )
    elif held := data.get("lane"):
        click.echo(f"  lane {held['lane']}: slot granted after {held.get('waited') or 0:.1f}s")
    if data["pause"]:
        click.echo(f"  paused: {_pause_text(data)}")
        click.echo(f"  next: `phasegate approve|reject|resume|rollback {run['id']}`", err=False)
    for decision in data.get("decisions", []):
        comment = f": {decision['comment']}" if decision.get("comment") else ""
        if decision.get("choice") is not None:
            comment = f" choosing {decision['choice']}{comment}"
        glass = " (break-glass)" if str(decision["key"]).startswith("window:") else ""
        click.echo(
            f"  {decision['decision']} {decision['key']}{glass} by {decision['by']} at "
            f"{_when(decision['at'])}{comment}"
        )
    rb = data["rollback"]
    if rb:
        budget = f" / budget {format_duration(rb['budget'])}" if rb.get("budget") else ""
        click.echo(
            f"  rollback: {rb.get('status') or 'in progress'} in "
            f"{format_duration(rb.get('duration'))}{budget}"
            f"{' (OVERRUN)' if rb.get('overrun') else ''}"
        )
        for action in rb["actions"]:
            click.echo(f"    {action['kind']:<8} {_label(action):<40} {action['status']}")
    for warning in data["warnings"]:
        click.echo(click.style(f"  warning: {warning['message']}", fg="yellow"))


def _print_hosts(fleet: Mapping[str, Any]) -> None:
    """A fleet phase host by host: batch, outcome, each step's and host gate's status."""
    click.echo(f"    hosts ({len(fleet['hosts'])}):")
    width = max(len(str(row["host"])) for row in fleet["hosts"])
    for row in fleet["hosts"]:
        batch = f"batch {row['batch']}" if row["batch"] is not None else "no batch"
        steps = " ".join(f"{k}={v}" for k, v in row["steps"].items())
        gates = " ".join(f"{k}={v}" for k, v in row["gates"].items())
        line = f"      {row['host']:<{width}}  {batch:<8}  {row['outcome']:<11}  {steps}"
        click.echo(line + (f"  gates: {gates}" if gates else ""))


LIVE_STATUSES = ("pending", "running", "rolling_back", "waiting", "monitoring", "queued")


def _print_monitoring(view: MonitoringView) -> None:
    """Post-rollout monitoring: where the schedule is and what failed (docs/monitoring.md)."""
    from phasegate.report.monitoring import summary_line

    click.echo(
        f"  monitoring ({view['state']}): {summary_line(view)}; on failure: "
        f"{view['on_failure']}, lock {'released' if view['lock'] == 'release' else 'kept'}"
    )
    last = view.get("last")
    if last:
        failing = f" ({', '.join(last['failing'])})" if last.get("failing") else ""
        click.echo(
            f"    last check {last['slot']} at {_when(last['at'])}: {last['status']}{failing}"
        )
    for acted in view.get("actions", []):
        click.echo(f"    check {acted['slot']} failed at {_when(acted['at'])} -> {acted['action']}")


def _budget_words(name: str, watched: Mapping[str, object]) -> str:
    """``runway thresholds passed 15m00s, 5m00s (projected 1h58m of 2h00m); over budget``."""
    from phasegate.durations import format_duration

    def amount(value: object) -> str:
        if not isinstance(value, int | float):
            return "?"
        return format_duration(value) if name == "duration" else f"{value:g}"

    parts: list[str] = []
    crossed = watched.get("crossed")
    if isinstance(crossed, list) and crossed:
        passed = ", ".join(amount(c) for c in crossed)
        parts.append(
            f"runway thresholds passed {passed} (projected {amount(watched.get('projected'))} "
            f"of {amount(watched.get('limit'))})"
        )
    if watched.get("overrun") is not None:
        parts.append("over budget")
    return "; ".join(parts) or "watched"


def _print_wait(run_id: str, wait: Mapping[str, object]) -> None:
    """A run held by a change window: what, by which rule, until when, and how to go now."""
    from phasegate.engine.waiting import what_waits

    phase, risk = wait.get("phase"), wait.get("risk")
    held = what_waits(phase if isinstance(phase, str) else None, str(risk) if risk else None)
    click.echo(f"  waiting: {held} is outside its change window: {wait.get('why')}")
    click.echo(f"  opens: {wait.get('next_open_text')}")
    click.echo(
        f'  next: continues by itself then; `phasegate approve {run_id} --break-glass --reason "…"`'
        " starts it now"
    )


def _run_status(run: Mapping[str, object]) -> str:
    status = str(run["status"])
    if status not in LIVE_STATUSES:
        return status.upper()
    owner = run.get("owner")
    if status == "pending" and owner is None:
        return "PENDING (queued, not started)"
    if status == "monitoring" and owner is None:
        # A server's worker parked it between checks (docs/monitoring.md): not a crash.
        return (
            "MONITORING (parked until its next check: a server or worker resumes it then, "
            f"or `phasegate resume {run['id']}`)"
        )
    if status == "queued" and owner is None:
        # A server's worker parked it while it waits for its lane slot (docs/lanes.md).
        return (
            "QUEUED (parked: it keeps its place; a server resumes it when its lane slot is "
            f"granted, or `phasegate resume {run['id']}`)"
        )
    if not isinstance(owner, dict) or owner.get("alive") is False:
        # The journal says running, but nobody is: a crash. Nothing is lost.
        return f"{status.upper()} (owner dead — resumable: `phasegate resume {run['id']}`)"
    if owner.get("alive") is None:
        return f"{status.upper()} (owner pid {owner['pid']} on {owner['host']}, another host)"
    return f"{status.upper()} (pid {owner['pid']})"


def _label(item: Mapping[str, object]) -> str:
    """The name a person knows an item by, with the key the verbs take when it differs."""
    key, name = str(item["key"]), str(item.get("name") or "")
    if not name or name == key:
        return key
    return f"{name} [{key}]"


def approval_progress(item: Mapping[str, object], approvals: dict[str, list[str]]) -> str | None:
    """``1/2 approvals (by alice)`` for an item waiting for approvals: counted from the
    journal's approvals now, not the count written when the run paused."""
    if item["status"] != "awaiting_approval":
        return None
    import re

    found = re.match(r"(\d+)/(\d+) approvals", str(item.get("message") or ""))
    required = int(found.group(2)) if found else 1
    who = approvals.get(str(item["key"]), [])
    return f"{len(who)}/{required} approvals" + (f" (by {names(who)})" if who else "")


def _pause_text(data: ReportDoc) -> str:
    pause = data["pause"]
    assert pause is not None
    return str(pause.get("message") or pause.get("reason"))


@click.command()
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--plan", "plan_name", default=None, help="Only runs of this plan.")
@click.option("--status", "status_filter", default=None, help="Only runs in this status.")
@json_option
@click.pass_context
def history(
    ctx: click.Context, limit: int, plan_name: str | None, status_filter: str | None, as_json: bool
) -> None:
    """List runs, newest first."""
    from phasegate.durations import format_duration

    records = open_store(ctx, readonly=True).list_runs(
        limit=limit, plan=plan_name, status=status_filter
    )
    if as_json:
        emit_json([r.as_dict() for r in records])
        return
    if not records:
        click.echo("no runs")
        return
    for r in records:
        took = format_duration(r.finished_at - r.created_at) if r.finished_at else "-"
        shown = r.status
        if r.status in ("monitoring", "queued") and r.owner is None:
            shown = f"{r.status} (parked)"
        elif r.status in ("running", "rolling_back", "waiting", "monitoring", "queued") and (
            r.owner is None or r.owner.alive() is False
        ):
            shown = f"{r.status} (owner dead — resumable)"
        click.echo(f"{r.id}  {r.plan_name:<24} {shown:<16} {_when(r.created_at)}  {took}")


@click.command()
@click.argument("run_ref", metavar="RUN", default="last")
@click.argument("item", required=False)
@json_option
@click.pass_context
def logs(ctx: click.Context, run_ref: str, item: str | None, as_json: bool) -> None:
    """Show the logs of RUN's steps (all, or those whose key contains ITEM)."""
    from phasegate.report.data import build
    from phasegate.report.logs import run_logs

    store = open_store(ctx, readonly=True)
    data = build(store, run_ref)
    out = run_logs(data, item, store)
    if item and not out:
        from phasegate.errors import UsageError

        raise UsageError(
            f"no step or rollback action matching {item!r} ran in run {data['run']['id']}",
            hint="`phasegate status RUN` lists item keys",
        )
    if as_json:
        emit_json(out)
        return
    for entry in out:
        where = entry["path"] or f"printed nothing; {entry['status']}, exit {entry['exit_code']}"
        click.echo(click.style(f"── {entry['key']} ({where})", fg="cyan"))
        click.echo(entry["text"], nl=False)


@click.command()
@click.argument("run_ref", metavar="RUN", default="last")
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to this file instead of stdout. Links to a parent's or child's report name "
    "files in the same directory (RUN_ID.EXT) and are left out when there is none.",
)
@click.option(
    "--with-children",
    is_flag=True,
    help="With -o, of a program: also write each child run's report next to it "
    "(RUN_ID.EXT, children of children too), linked both ways.",
)
@click.pass_context
def report(
    ctx: click.Context, run_ref: str, fmt: str, output: str | None, with_children: bool
) -> None:
    """Write a report of RUN fit for a change ticket: identity, phases, steps, gates with
    expectations and observed values, triggers, rollback duration vs budget, warnings."""
    if output is None:
        if with_children:
            from phasegate.errors import UsageError

            raise UsageError(
                "--with-children writes one file per run: it needs -o FILE",
                hint=f"e.g. phasegate report {run_ref} --format {fmt} -o report.{fmt} "
                "--with-children",
            )
        from phasegate.report.data import build
        from phasegate.report.render import no_href, render

        # Where stdout lands is unknown: run ids without links rather than dead links.
        click.echo(render(build(open_store(ctx, readonly=True), run_ref), fmt, no_href), nl=False)
        return
    from phasegate.report.bundle import written_reports

    target = Path(output)
    store = open_store(ctx, readonly=True)
    for path, text in written_reports(store, run_ref, target, fmt, with_children=with_children):
        _write_report(path, text)
        click.echo(f"wrote {path}", err=True)


def _write_report(path: Path, text: str) -> None:
    from phasegate.errors import UsageError

    if not path.parent.is_dir():
        raise UsageError(
            f"cannot write the report to {path}: directory {path.parent} does not exist",
            hint=f"create it (mkdir -p {path.parent}) or give another -o",
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write the report to {path}: {exc.strerror or exc}",
            hint="check the path, its permissions and free space, or omit -o for stdout",
        ) from exc


@click.command()
@click.option(
    "--repair-digests",
    is_flag=True,
    help="Compute again, from the journal, every durations digest found wrong, and save it "
    "(the journal itself is never changed). Needs a writable store.",
)
@json_option
@click.pass_context
def check(ctx: click.Context, repair_digests: bool, as_json: bool) -> None:
    """Verify the journal in one consistent snapshot: SQLite's integrity_check passes (on
    PostgreSQL the server guards its own pages; the result says so), every row decodes (UTF-8
    text, JSON event data), events form valid state-machine paths and the materialized state
    equals their replay. Then every finished run's durations digest (what estimates read
    instead of the journal) equals what its journal gives. Exit 0 when OK, 1 on any
    violation (digests repaired by --repair-digests are reported, not violations)."""
    from phasegate.cli import store_url

    store: JournalStore
    if store_url(ctx):
        from phasegate.store.postgres import PostgresStore
        from phasegate.store.postgres.check import check_postgres

        store = open_store(ctx, readonly=True)
        assert isinstance(store, PostgresStore)
        result = check_postgres(store)
    else:
        from phasegate.store.invariants import check_store

        store = open_sqlite(ctx, readonly=True)
        result = check_store(store)
    _check_digests(ctx, store, result, repair=repair_digests)
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"{plural(result['runs'], 'run')}, {plural(result['events'], 'event')}, schema "
            f"v{result['schema_version']}, {plural(result['digests']['checked'], 'digest')}: "
            f"{'OK' if result['ok'] else 'VIOLATIONS'}"
        )
        for v in result["violations"]:
            click.echo(f"  run {v['run']}: {v['what']}")
        for run_id in result["digests"]["repaired"]:
            click.echo(f"  run {run_id}: durations digest recomputed from the journal and saved")
    if not result["ok"]:
        raise click.exceptions.Exit(1)


def _check_digests(
    ctx: click.Context, store: JournalStore, result: CheckReport, *, repair: bool
) -> None:
    """Add the durations digests' verification to ``check``'s result (estimate/digest.py):
    a wrong digest makes estimates, runway and window fits wrong for that plan without a
    trace, so it is a violation naming the run, unless ``repair`` saved the right one."""
    from phasegate.errors import StoreError
    from phasegate.estimate import digest

    result["digests"] = {"checked": 0, "wrong": [], "repaired": []}
    try:
        checked, wrong = digest.verify(store)
    except StoreError as exc:  # a journal too damaged to read: reported above already
        result["violations"].append({"run": "-", "what": f"digests not checked: {exc.message}"})
        result["ok"] = False
        return
    result["digests"]["checked"] = checked
    result["digests"]["wrong"] = [m.run_id for m in wrong]
    if wrong and repair:
        writable = open_store(ctx)
        try:
            digest.repair(writable, wrong)
        finally:
            writable.close()
        result["digests"]["repaired"] = [m.run_id for m in wrong]
        return
    for m in wrong:
        result["violations"].append(
            {
                "run": m.run_id,
                "what": f"its durations digest (plan {m.plan}) differs from its journal in "
                f"{', '.join(m.fields)}: estimates, runway and window fits of the plan read "
                "it; run `phasegate check --repair-digests` to compute it again from the "
                "journal",
            }
        )
    if wrong:
        result["ok"] = False
