"""``phasegate store copy --from DIR --to postgresql://…`` (issue 12 §3), real CLI processes
and the session's PostgreSQL: a SQLite journal of runs in every status lands in PostgreSQL
with identical ``status --json`` for every run, ``check`` is clean on both sides, copying again
writes nothing, a run the source gained since is copied, and a copied paused run can be
finished on PostgreSQL."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from phasegate.engine import session
from phasegate.plan.loader import load_plan
from phasegate.report.data import build
from phasegate.report.owner import owner_info
from phasegate.store.postgres import PostgresStore
from phasegate.store.postgres.check import check_postgres
from phasegate.store.postgres.schema import MIGRATIONS
from phasegate.store.process import Owner, proc_stat
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.store.contract.script import advance, create
from tests.store.pg_cluster import database_url

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "examples" / "quickstart.yaml")

GATED = """
    version: 1
    name: gated
    phases:
      - id: ship
        steps: [{run: "echo ship"}]
        gates: [{manual: "Go from the release manager", id: go}]
"""
FAILS = """
    version: 1
    name: fails
    on_failure: abort
    phases:
      - id: p
        steps: [{run: "exit 3"}]
"""
UNDO_FAILS = """
    version: 1
    name: undo-fails
    phases:
      - id: p
        steps: [{run: "echo done", undo: "exit 1"}]
        gates: [{command: "false"}]
"""


def _status(cli: CLI, run_id: str, *store: str) -> dict[str, Any]:
    result = cli(*store, "status", run_id, "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def pg_url(postgres_server: str, tmp_path: Path) -> str:
    return database_url(tmp_path / "database")


def test_a_sqlite_journal_is_copied_to_postgresql(cli: CLI, pg_url: str) -> None:
    for name, text in (("gated", GATED), ("fails", FAILS), ("undo", UNDO_FAILS)):
        write_plan(cli.cwd, text, f"{name}.yaml")
    expected = [
        (["run", QUICKSTART], 0),
        (["run", QUICKSTART, "--var", "VERSION=3", "--var", "FAIL=1"], 1),
        (["run", "gated.yaml"], 4),
        (["run", "fails.yaml"], 1),
        (["run", "undo.yaml"], 3),
    ]
    for args, code in expected:
        assert cli(*args).returncode == code, args
    local = [r["id"] for r in reversed(json.loads(cli("history", "--json").stdout))]
    statuses = [_status(cli, r)["run"]["status"] for r in local]
    assert statuses == ["succeeded", "rolled_back", "paused", "failed", "rollback_failed"]

    copied = cli("store", "copy", "--from", str(cli.state_dir), "--to", pg_url, "--json")
    assert copied.returncode == 0, copied.stderr
    result = json.loads(copied.stdout)
    assert result["copied"] == local and result["unchanged"] == []
    pg = ("--store", pg_url)
    for run_id in local:
        assert _status(cli, run_id, *pg) == _status(cli, run_id), run_id
    assert json.loads(cli(*pg, "history", "--json").stdout) == json.loads(
        cli("history", "--json").stdout
    )
    for where in ((), pg):
        check = cli(*where, "check", "--json")
        assert check.returncode == 0, check.stdout
        assert json.loads(check.stdout)["runs"] == len(local)

    again = json.loads(
        cli("store", "copy", "--from", str(cli.state_dir), "--to", pg_url, "--json").stdout
    )
    assert (again["copied"], again["unchanged"], again["events"]) == ([], local, 0)

    # The source goes on (a new run); the copy adds it and nothing else.
    assert cli("run", QUICKSTART).returncode == 0
    newest = json.loads(cli("history", "--json", "--limit", "1").stdout)[0]["id"]
    more = json.loads(
        cli("store", "copy", "--from", str(cli.state_dir), "--to", pg_url, "--json").stdout
    )
    assert (more["copied"], len(more["unchanged"])) == ([newest], len(local))

    # The copied paused run is live on PostgreSQL: approved and resumed there.
    paused = local[2]
    approved = cli(*pg, "approve", paused)
    assert approved.returncode == 0, approved.stderr
    resumed = cli(*pg, "resume", paused)
    assert resumed.returncode == 0, resumed.stderr
    assert _status(cli, paused, *pg)["run"]["status"] == "succeeded"
    assert _status(cli, paused)["run"]["status"] == "paused"  # the source is untouched


def test_a_conflicting_destination_run_copies_nothing(cli: CLI, pg_url: str) -> None:
    write_plan(cli.cwd, GATED, "gated.yaml")
    assert cli("run", "gated.yaml").returncode == 4
    run_id = json.loads(cli("history", "--json").stdout)[0]["id"]
    other = cli.cwd.parent / "other"
    assert cli("--state-dir", str(other), "run", QUICKSTART).returncode == 0
    assert cli("store", "copy", "--from", str(other), "--to", pg_url).returncode == 0
    # A journal whose run has the id of the copied one but another plan: refused, nothing
    # written (the run's id is changed with SQL, the one way to make two runs share an id).
    before = cli("--store", pg_url, "history", "--json").stdout
    clash = cli.cwd.parent / "clash"
    shutil.copytree(cli.state_dir, clash)
    other_id = json.loads(before)[0]["id"]
    with sqlite3.connect(clash / "phasegate.db") as db:
        for table in ("events", "phases", "items", "locks", "requests"):
            db.execute(f"UPDATE {table} SET run_id = ? WHERE run_id = ?", (other_id, run_id))
        db.execute("UPDATE runs SET id = ? WHERE id = ?", (other_id, run_id))
    refused = cli("store", "copy", "--from", str(clash), "--to", pg_url)
    assert refused.returncode == 2, refused.stderr
    assert f"run {other_id}: the destination's run {other_id} has another plan" in refused.stderr
    assert "nothing was copied" in refused.stderr and "Traceback" not in refused.stderr
    assert cli("--store", pg_url, "history", "--json").stdout == before


def test_store_copy_refuses_bad_stores(cli: CLI) -> None:
    result = cli("store", "copy", "--from", str(cli.cwd / "absent"), "--to", "mysql://h/db")
    assert result.returncode == 2
    assert "--to is a mysql:// URL" in result.stderr or "--from" in result.stderr
    result = cli("store", "copy", "--from", str(cli.cwd / "absent"), "--to", str(cli.cwd / "x"))
    assert result.returncode == 2 and "--from: " in result.stderr
    assert "is not a directory" in result.stderr and "Traceback" not in result.stderr


def test_store_migrate_prepares_an_empty_database_and_says_its_version(
    cli: CLI, postgres_server: str
) -> None:
    name = f"migrate_{abs(hash(str(cli.cwd))) % 10**9}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    url = postgres_server.rsplit("/", 1)[0] + "/" + name
    result = cli("store", "migrate", "--store", url, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == len(MIGRATIONS)
    assert "postgres:***@" in data["store"] and urlsplit(url).password not in result.stdout
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT value FROM phasegate_meta").fetchone()
    assert row is not None and row[0] == str(len(MIGRATIONS))
    again = cli("store", "migrate", "--store", url)  # idempotent
    assert again.returncode == 0 and f"schema v{len(MIGRATIONS)}" in again.stdout
    local = cli("store", "migrate")  # the state directory's SQLite journal
    assert local.returncode == 0 and (cli.state_dir / "phasegate.db").is_file()


GATE_FAILS = "gates: [{command: 'false'}]"
KINDS = {  # status: (the step, the gates, on_failure)
    "succeeded": ("run: 'echo ok'", "", "rollback"),
    "rolled_back": ("{run: 'echo ok', undo: 'echo undo'}", GATE_FAILS, "rollback"),
    "paused": ("run: 'echo ok'", "gates: [{manual: 'Go?', id: go}]", "rollback"),
    "failed": ("run: 'exit 3'", "", "abort"),
    "rollback_failed": ("{run: 'echo ok', undo: 'exit 1'}", GATE_FAILS, "rollback"),
}


@pytest.fixture
def dead_owner() -> Owner:
    """A process that ran on this host, exited and was reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = proc_stat(proc.pid)
    proc.wait()
    assert stat is not None
    return Owner(proc.pid, Owner.me().host, stat.start)


def _plan(directory: Path, n: int, kind: str) -> Path:
    step, gates, on_failure = KINDS[kind]
    step = step if step.startswith("{") else "{" + step + "}"
    return write_plan(
        directory,
        f"""
        version: 1
        name: plan-{n}
        on_failure: {on_failure}
        phases:
          - id: p
            steps: [{step}]
            {gates}
        """,
        f"plan-{n}.yaml",
    )


def test_fifty_runs_in_every_status_copy_with_identical_status(
    cli: CLI, pg_url: str, dead_owner: Owner
) -> None:
    """Issue 12's acceptance: ``store copy`` of a journal with 50 runs (all statuses) gives
    identical ``status --json`` for every run on both stores (compared in-process: the
    status verb prints exactly ``report.data.build`` plus ``owner_info``)."""
    source = SqliteStore(cli.state_dir)
    options = session.RunOptions(console_stream=io.StringIO(), quiet=True)
    kinds = [*KINDS, "pending", "running"]
    for n in range(50):
        kind = kinds[n % len(kinds)]
        if kind in ("pending", "running"):  # created, never started / its owner died
            create(source, f"00-{n:02d}", lock=f"plan-{n}", ts=1000.0 + n, owner=dead_owner)
            if kind == "running":
                advance(source, f"00-{n:02d}", 3)
            continue
        _, status, _ = session.start(source, load_plan(_plan(cli.cwd, n, kind)), options)
        assert status == kind
    ids = source.run_ids()
    assert len(ids) == 50
    assert {source.get_run(r).status for r in ids} == {*KINDS, "pending", "running"}

    copied = cli("store", "copy", "--from", str(cli.state_dir), "--to", pg_url, "--json")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["copied"] == ids

    target = PostgresStore(pg_url, state_dir=cli.state_dir)
    for run_id in ids:
        views = []
        for store in (source, target):
            data = build(store, run_id)
            data["run"]["owner"] = owner_info(store.get_run(run_id))
            views.append(json.loads(json.dumps(data, default=str)))
        assert views[0] == views[1], run_id
    assert check_postgres(target)["ok"]
    target.close()
    source.close()


def test_a_copy_verifies_every_run_and_names_one_that_differs_after(
    cli: CLI, dead_owner: Owner
) -> None:
    """SQLite → SQLite, a run in every status: the copy compares each run on both sides
    (record, events, outputs, step logs, durations digest) and passes. A step log of the copy
    then changed on disk (same length, other bytes): the next copy fails, naming that run
    and its logs, marks it in the destination (its status shows the warning) and leaves the
    others as they were; a copy after that refuses the marked run as a conflict."""
    source = SqliteStore(cli.state_dir)
    options = session.RunOptions(console_stream=io.StringIO(), quiet=True)
    for n, kind in enumerate(KINDS):
        _, status, _ = session.start(source, load_plan(_plan(cli.cwd, n, kind)), options)
        assert status == kind
    create(source, "00-pending", lock="plan-p", ts=1000.0, owner=dead_owner)
    create(source, "00-running", lock="plan-r", ts=1001.0, owner=dead_owner)
    advance(source, "00-running", 3)
    ids = source.run_ids()
    succeeded = next(r for r in ids if source.get_run(r).status == "succeeded")
    source.close()
    target = cli.cwd.parent / "target"

    copied = cli("store", "copy", "--from", str(cli.state_dir), "--to", str(target), "--json")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["copied"] == ids
    there = ("--state-dir", str(target))
    before = {r: _status(cli, r, *there) for r in ids}
    assert {r: s["run"]["status"] for r, s in before.items()} == {
        r: _status(cli, r)["run"]["status"] for r in ids
    }

    logs = sorted((target / "runs" / succeeded / "logs").iterdir())
    assert logs, "the succeeded run's step printed"
    text = logs[0].read_bytes()
    assert b"ok" in text
    logs[0].write_bytes(text.replace(b"ok", b"KO"))
    failed = cli("store", "copy", "--from", str(cli.state_dir), "--to", str(target))
    assert failed.returncode == 2, failed.stderr
    assert f"run {succeeded}: logs differ" in failed.stderr
    assert f"marked in the destination with a warning: {succeeded}" in failed.stderr
    assert "Traceback" not in failed.stderr
    marked = _status(cli, succeeded, *there)
    assert [w["message"] for w in marked["warnings"]][-1].startswith(
        "store copy: this run's copy differs from its source (logs)"
    )
    for run_id in ids:
        if run_id != succeeded:
            assert _status(cli, run_id, *there) == before[run_id], run_id

    refused = cli("store", "copy", "--from", str(cli.state_dir), "--to", str(target))
    assert refused.returncode == 2
    assert f"run {succeeded}: the destination's run {succeeded} has other events" in (
        refused.stderr
    )
