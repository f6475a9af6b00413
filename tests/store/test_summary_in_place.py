"""The run row is rewritten in place while a run goes on (store/sqlite.py ``_summary_text``).

The row holds the plan's text (tens of KB, in overflow pages) beside the summary, which grows
with every step that succeeds (``completed``). SQLite rewrites a row page by page, only the
pages that changed, when its size is unchanged, and writes it whole otherwise: every commit of
a long run wrote the plan's text to the WAL again. The summary is padded while the run goes on
so that the row keeps its size; readers see the same summary.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from phasegate.store.invariants import check_store
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore

PHASES = [f"p{n:03d}" for n in range(200)]
# ~64 KB: a row with overflow pages, as a long plan's.
PHASE_TEXT = "".join(f"  - id: {p}\n    steps: [{{run: 'true'}}]\n" for p in PHASES)
PLAN_TEXT = "phases:\n" + PHASE_TEXT * 8


def _row(store: SqliteStore, run_id: str) -> tuple[int, str]:
    size, summary = store.db.execute(
        "SELECT length(CAST(summary AS BLOB)), summary FROM runs WHERE id = ?", (run_id,)
    ).fetchone()
    return int(size), str(summary)


def _wal_bytes(store: SqliteStore) -> int:
    return (store.state_dir / "phasegate.db-wal").stat().st_size


def test_a_running_runs_row_keeps_its_size_and_is_not_rewritten_whole(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.create_run(
        run_id="r1",
        plan_name="long",
        plan_path="long.yaml",
        plan_sha256="h",
        plan_text=PLAN_TEXT,
        lock_name="long",
        idempotency_key=None,
        options={},
        phases=PHASES,
        owner=Owner.me(),
        ts=time.time(),
    )
    state = store.load_state("r1")
    store.append(state, [("run.started", {"pid": 1, "host": "h"}, time.time())], durable=True)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # count this run's commits only
    sizes: list[int] = []
    grown_at: list[int] = []
    wal_per_commit: list[int] = []
    for n, phase in enumerate(PHASES[:120]):
        key = f"{phase}/s"
        before = _wal_bytes(store)
        step = {"key": key, "kind": "step", "phase": phase, "name": "true"}
        store.append(
            state,
            [
                ("phase.started", {"phase": phase}, time.time()),
                ("item.started", {**step, "attempt": 1}, time.time()),
                ("item.finished", {**step, "status": "succeeded", "attempt": 1}, time.time()),
                ("phase.finished", {"phase": phase, "status": "succeeded"}, time.time()),
            ],
            durable=True,
        )
        size, summary = _row(store, "r1")
        # Readers parse the same summary as the state's, the step counted in it.
        assert json.loads(summary) == json.loads(json.dumps(state.summary()))
        assert json.loads(summary)["completed"][-1] == key
        if sizes and size != sizes[-1]:
            grown_at.append(n)
        else:
            wal_per_commit.append(_wal_bytes(store) - before)
        sizes.append(size)
    # The summary grew at every commit (one more completed step); the row's size changed a
    # handful of times (the summary's padding doubled), not at each commit.
    assert len(grown_at) <= 3, grown_at
    # A commit at unchanged size wrote a few pages (the events', the items', the row's page
    # that changed), not the plan's text again (measured: 4 pages of 4 KB; 19 when the row was
    # written whole).
    assert statistics.median(wal_per_commit) < len(PLAN_TEXT) / 2, wal_per_commit

    store.append(state, [("run.finished", {"status": "succeeded"}, time.time())], durable=True)
    size, summary = _row(store, "r1")
    assert summary == summary.rstrip()  # a finished run keeps its summary unpadded
    assert json.loads(summary)["status"] == "succeeded"
    assert check_store(store)["ok"]
    store.close()
