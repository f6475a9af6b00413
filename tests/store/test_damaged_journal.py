"""Damaged and lost journals (issue 10 §2.6): real journal files written by real runs, damaged
with flipped bytes on disk, read and written by real CLI processes."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from phasegate.store.invariants import check_store
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan

PLAN = """
    version: 1
    name: journaled
    phases:
      - id: p
        steps:
          - {id: s, run: "echo ran >> ledger", undo: "true"}
          - {id: t, run: "echo UNIQUE-MARKER-0123456789"}
"""
READ_VERBS = [["status"], ["history"], ["logs"], ["report"], ["report", "--format", "json"]]


def journal(cli: CLI) -> Path:
    return cli.state_dir / "phasegate.db"


def three_runs(cli: CLI) -> Path:
    plan = write_plan(cli.cwd, PLAN)
    for _ in range(3):
        assert cli("run", str(plan), "--no-output").returncode == 0
    # Fold the WAL into the main file: damage is done to what a reader finds on disk.
    db = sqlite3.connect(journal(cli))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    (cli.cwd / "ledger").unlink()
    return plan


def flip(path: Path, offsets: list[int]) -> None:
    data = bytearray(path.read_bytes())
    for offset in offsets:
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def page_of(path: Path, table: str) -> int:
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    db.close()
    return int((root - 1) * page_size)


def assert_clean_refusal(done: subprocess.CompletedProcess[str]) -> None:
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 65, (done.returncode, done.stderr)
    assert "damaged" in done.stderr or "0 bytes" in done.stderr or "missing" in done.stderr
    assert "hint:" in done.stderr


def test_a_structurally_damaged_journal_is_refused_before_any_step_runs(cli: CLI) -> None:
    plan = three_runs(cli)
    start = page_of(journal(cli), "events")
    # 40 bytes of the events table's b-tree page: header, cell pointers, first cells.
    flip(journal(cli), [start + 1 + i * 3 for i in range(40)])
    run = cli("run", str(plan), "--no-output")
    assert_clean_refusal(run)
    assert ".recover" in run.stderr
    assert not (cli.cwd / "ledger").exists()  # nothing ran against the damaged file
    for verb in READ_VERBS:
        done = cli(*verb)
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, verb
        assert done.returncode in (0, 65), (verb, done.returncode, done.stderr)
    checked = cli("check", "--json")
    assert checked.returncode == 1
    report = json.loads(checked.stdout)
    assert report["integrity_check"] != ["ok"]
    assert any("integrity_check" in v["what"] for v in report["violations"])


def test_a_flipped_byte_inside_a_stored_text_is_a_clear_error_and_a_violation(cli: CLI) -> None:
    three_runs(cli)
    data = journal(cli).read_bytes()
    marker = data.index(b"UNIQUE-MARKER-0123456789")  # inside a run's plan_text
    flip(journal(cli), [marker + 3])  # 'Q' ^ 0xff: not UTF-8
    for verb in (["status"], ["history"], ["report"]):
        done = cli(*verb)
        assert "internal error" not in done.stderr, (verb, done.stderr)
        if done.returncode != 0:  # the damaged run may not be the one shown
            assert_clean_refusal(done)
            assert "not valid UTF-8" in done.stderr
    checked = cli("check")
    assert checked.returncode == 1, checked.stdout
    assert "not valid UTF-8" in checked.stdout
    assert "internal error" not in checked.stderr


def test_an_event_that_is_not_json_is_a_violation_not_a_crash(cli: CLI) -> None:
    three_runs(cli)
    db = sqlite3.connect(journal(cli))
    run_id = db.execute("SELECT id FROM runs ORDER BY created_at LIMIT 1").fetchone()[0]
    db.execute("UPDATE events SET data = '{not json' WHERE run_id = ? AND seq = 3", (run_id,))
    db.commit()
    db.close()
    checked = cli("check")
    assert checked.returncode == 1
    assert f"run {run_id}: event #3 has data that is not JSON" in checked.stdout
    assert "Traceback" not in checked.stderr and "internal error" not in checked.stderr
    status = cli("status", run_id)
    assert_clean_refusal(status)
    assert f"run {run_id} event #3 is not JSON" in status.stderr


@pytest.mark.parametrize("seed", range(6))
def test_forty_random_flipped_bytes_never_give_an_internal_error(cli: CLI, seed: int) -> None:
    plan = three_runs(cli)
    size = journal(cli).stat().st_size
    rng = random.Random(seed)
    flip(journal(cli), [rng.randrange(100, size) for _ in range(40)])
    db = sqlite3.connect(journal(cli))
    db.text_factory = bytes
    try:
        structure_ok = db.execute("PRAGMA integrity_check").fetchone()[0] == b"ok"
    except (sqlite3.DatabaseError, UnicodeDecodeError):  # the message quotes damaged bytes
        structure_ok = False
    db.close()
    for verb in [*READ_VERBS, ["check"]]:
        done = cli(*verb)
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, (
            verb,
            done.stderr,
        )
        assert done.returncode in (0, 1, 65), (verb, done.returncode, done.stderr)
    run = cli("run", str(plan), "--no-output")
    if not structure_ok:
        assert_clean_refusal(run)
        assert not (cli.cwd / "ledger").exists()


@pytest.mark.parametrize("how", ["empty", "missing"])
def test_a_lost_journal_beside_run_directories_is_refused(cli: CLI, how: str) -> None:
    plan = three_runs(cli)
    if how == "empty":
        journal(cli).write_bytes(b"")
    else:
        journal(cli).unlink()
    run = cli("run", str(plan), "--no-output")
    assert_clean_refusal(run)
    assert "3 run directories" in run.stderr and "backup" in run.stderr
    assert not (cli.cwd / "ledger").exists()
    assert_clean_refusal(cli("history"))
    # the refusal did not create or fill a journal
    assert not journal(cli).exists() or journal(cli).stat().st_size == 0
    # moving the run directories aside is the documented way to start over
    shutil.move(cli.state_dir / "runs", cli.cwd / "old-runs")
    assert cli("run", str(plan), "--no-output").returncode == 0


def test_check_during_a_live_run_reads_one_snapshot(cli: CLI) -> None:
    steps = "\n".join(f"          - {{id: s{i}, run: 'true', undo: 'true'}}" for i in range(150))
    plan = write_plan(
        cli.cwd,
        "version: 1\nname: busy\nphases:\n  - id: p\n    steps:\n" + steps + "\n",
        name="busy.yaml",
    )
    # a journal must exist before the readers start
    assert cli("validate", str(plan)).returncode == 0
    runs = 0
    checks: list[dict[str, object]] = []
    while runs < 3:
        writer = cli.spawn("run", str(plan), "--no-output")
        runs += 1
        while writer.poll() is None:
            if not journal(cli).exists():
                continue
            store = SqliteStore(cli.state_dir)
            try:
                checks.append(check_store(store))
            finally:
                store.close()
        _, err = writer.communicate()
        assert writer.returncode == 0, err
    bad = [c["violations"] for c in checks if not c["ok"]]
    assert len(checks) >= 30
    assert bad == [], f"{len(bad)} of {len(checks)} checks saw violations: {bad[:3]}"
    # and the CLI's check on the final journal
    final = subprocess.run(
        [sys.executable, "-m", "phasegate", "check"],
        env=cli.env(),
        cwd=cli.cwd,
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stdout
