"""A run's durations digest is written when it ends (real `phasegate run`, real SQLite), and
`phasegate estimate` over a journal whose runs have none computes them once and saves them
(old journals): the second estimate reads digests, with the same numbers."""

from __future__ import annotations

import json

from phasegate.estimate import durations
from phasegate.estimate.digest import from_digest
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan


def test_a_run_saves_its_digest_and_estimate_fills_in_missing_ones(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: dig
        phases:
          - id: a
            steps:
              - {id: one, run: "sleep 0.2"}
        """,
    )
    for _ in range(2):
        assert cli("run", str(plan)).returncode == 0
    store = SqliteStore(cli.state_dir)
    try:
        rows = store.finished_runs("dig", limit=10)
        assert len(rows) == 2 and all(r.digest is not None for r in rows)
        for row in rows:
            digested = from_digest(row)
            assert digested == durations(store.get_run(row.run_id), store.events(row.run_id))
            assert digested is not None and digested.steps["a/one"] >= 0.2
        # An old journal: its runs have no digests.
        store.db.execute("DELETE FROM run_digests")
        store.db.commit()
    finally:
        store.close()
    first = json.loads(cli("estimate", str(plan), "--json").stdout)
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        assert all(r.digest is not None for r in store.finished_runs("dig", limit=10))
    finally:
        store.close()
    again = json.loads(cli("estimate", str(plan), "--json").stdout)
    assert again == first and first["history"] == 2 and first["run"]["runs"] == 2
