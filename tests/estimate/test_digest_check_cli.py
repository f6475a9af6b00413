"""`phasegate check` verifies every durations digest against its journal (real runs, real
SQLite): a digest row corrupted on disk is a violation naming the run and the fix; `check
--repair-digests` saves the journal's digest, after which `check` passes and `estimate` gives
what it gave before the corruption."""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import CLI, write_plan

PLAN = """
    version: 1
    name: dig
    phases:
      - id: a
        steps:
          - {id: one, run: "sleep 0.1"}
"""


def test_a_corrupted_digest_is_reported_with_its_run_and_repaired(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    for _ in range(2):
        assert cli("run", str(plan)).returncode == 0
    clean = cli("check", "--json")
    assert clean.returncode == 0, clean.stdout
    assert json.loads(clean.stdout)["digests"] == {"checked": 2, "wrong": [], "repaired": []}
    before = json.loads(cli("estimate", str(plan), "--json").stdout)
    db = sqlite3.connect(cli.state_dir / "phasegate.db")
    run_id, data = db.execute("SELECT run_id, data FROM run_digests ORDER BY run_id").fetchone()
    digest = json.loads(data)
    digest["steps"]["a/one"] = 1000.0  # a step said to take 1000 s
    db.execute("UPDATE run_digests SET data = ? WHERE run_id = ?", (json.dumps(digest), run_id))
    db.commit()
    db.close()
    assert json.loads(cli("estimate", str(plan), "--json").stdout) != before  # it is read

    bad = cli("check")
    assert bad.returncode == 1
    [line] = [x for x in bad.stdout.splitlines() if "digest" in x and "run " in x]
    assert line.strip().startswith(f"run {run_id}: its durations digest (plan dig)")
    assert "differs from its journal in steps" in line
    assert "phasegate check --repair-digests" in line
    assert "VIOLATIONS" in bad.stdout and "Traceback" not in bad.stderr

    fixed = cli("check", "--repair-digests")
    assert fixed.returncode == 0, fixed.stdout
    assert f"run {run_id}: durations digest recomputed from the journal" in fixed.stdout
    again = cli("check", "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["digests"] == {"checked": 2, "wrong": [], "repaired": []}
    assert json.loads(cli("estimate", str(plan), "--json").stdout) == before
