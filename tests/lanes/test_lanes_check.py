"""`phasegate check` knows the lanes' invariant: a ticket belongs to a run that has not
finished (the run's end drops it in the same transaction)."""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import CLI, write_plan


def test_check_flags_a_slot_held_by_a_finished_run(cli: CLI) -> None:
    write_plan(
        cli.cwd,
        """
        version: 1
        name: quick
        lane: api
        phases:
          - id: p
            steps:
              - run: echo done
        """,
    )
    assert cli("lane", "set", "api", "--max", "1").returncode == 0
    assert cli("run", "plan.yaml").returncode == 0
    clean = cli("check", "--json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["ok"] is True
    run_id = cli.status()["run"]["id"]
    db = sqlite3.connect(cli.state_dir / "phasegate.db")
    db.execute("INSERT INTO lane_slots VALUES (?, '', 'api', 0, 1.0, 1.0, 2.0)", (run_id,))
    db.commit()
    db.close()
    damaged = cli("check", "--json")
    assert damaged.returncode != 0
    violations = json.loads(damaged.stdout)["violations"]
    assert {"run": run_id, "what": "lane api: a finished run holds a slot"} in violations
