"""The SQLite journal: migrations, invariants, tamper detection."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from phasegate.errors import SchemaTooNew
from phasegate.store.invariants import check_store
from phasegate.store.migrations import MIGRATIONS
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan

PLAN = """
    version: 1
    name: journaled
    phases:
      - id: p
        steps: [{id: s, run: "true", undo: "true"}]
        gates: [{command: "true"}]
"""


def test_new_store_is_wal_at_the_latest_schema(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    # reopening migrates nothing and keeps the version
    again = SqliteStore(tmp_path)
    assert again.schema_version == len(MIGRATIONS)


def test_a_journal_from_a_newer_phasegate_is_refused(tmp_path: Path) -> None:
    SqliteStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / "phasegate.db")
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(SchemaTooNew):
        SqliteStore(tmp_path)


def test_check_passes_on_real_runs_and_catches_tampering(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan)).returncode == 0
    assert cli("rollback", "last").returncode == 0
    result = cli.json("check")
    assert result["ok"] and result["runs"] == 1 and result["events"] > 5

    db = sqlite3.connect(cli.state_dir / "phasegate.db")
    db.execute("UPDATE items SET status = 'failed' WHERE key = 'p/s'")
    db.commit()
    broken = cli("check")
    assert broken.returncode == 1
    assert "item p/s differs from the replay" in broken.stdout

    db.execute("UPDATE items SET status = 'succeeded' WHERE key = 'p/s'")
    db.execute("DELETE FROM events WHERE seq = 3")
    db.commit()
    db.close()
    gap = cli("check")
    assert gap.returncode == 1 and "gap or reorder" in gap.stdout


def test_events_out_of_order_are_an_invalid_path(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.create_run(
        run_id="r1",
        plan_name="x",
        plan_path="x.yaml",
        plan_sha256="h",
        plan_text="",
        lock_name="x",
        idempotency_key=None,
        options={},
        phases=["p"],
        owner=Owner.me(),
        ts=time.time(),
    )
    # a forged event that no legal run produces: finishing a phase that never started
    store.db.execute(
        "INSERT INTO events VALUES ('r1', 2, 0, 'phase.finished', "
        '\'{"phase": "p", "status": "succeeded"}\')'
    )
    result = check_store(store)
    assert not result["ok"]
    assert "is invalid" in result["violations"][0]["what"]


def test_an_append_from_a_stale_state_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """Two processes that read a run's state and both append would reuse sequence numbers
    (seen once as a bare 'UNIQUE constraint failed' when `approve` raced the engine): the
    second write is refused with what happened and what to do, and the journal keeps the
    first one only."""
    from phasegate.errors import StoreError

    store = SqliteStore(tmp_path)
    store.create_run(
        run_id="r1",
        plan_name="x",
        plan_path="x.yaml",
        plan_sha256="h",
        plan_text="",
        lock_name="x",
        idempotency_key=None,
        options={},
        phases=["p"],
        owner=Owner.me(),
        ts=time.time(),
    )
    first, stale = store.load_state("r1"), store.load_state("r1")
    store.append(first, [("run.started", {"pid": 1, "host": "h"}, time.time())], durable=True)
    with pytest.raises(StoreError, match="another process wrote to its journal meanwhile"):
        store.append(stale, [("run.started", {"pid": 2, "host": "h"}, time.time())], durable=True)
    events = store.events("r1")
    assert [e[2] for e in events] == ["run.created", "run.started"]
    assert events[-1][3]["pid"] == 1
    assert check_store(store)["ok"]


def test_a_reader_opens_a_journal_from_before_schedules_and_sees_none(tmp_path: Path) -> None:
    """Migrations 2 to 5 only add tables (migrations.ADDITIVE): a read-only open of a
    schema-1 journal reads it as it is, without schedules, lanes or digests; a writer migrates
    it."""
    from phasegate.store.connect import open_for_writing

    open_for_writing(tmp_path / "phasegate.db").close()
    db = sqlite3.connect(tmp_path / "phasegate.db")
    db.executescript(
        "DROP TABLE schedule_slots; DROP TABLE schedules;"
        " DROP TABLE lanes; DROP TABLE lane_changes; DROP TABLE lane_slots;"
        " DROP TABLE run_digests;"
        " UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    db.close()
    reader = SqliteStore(tmp_path, readonly=True)
    assert reader.run_ids() == [] and reader.schedules() == []
    assert reader.schedule_named("x") is None and reader.slots("x") == []
    assert reader.lanes() == [] and reader.lane_tickets() == [] and reader.lane_changes() == []
    assert reader.finished_runs("web", limit=5) == []
    reader.close()
    writer = SqliteStore(tmp_path)
    assert writer.schema_version == len(MIGRATIONS) and writer.schedules() == []
    writer.close()
