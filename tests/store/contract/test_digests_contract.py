"""Durations digests, on every back end (store/digests.py): finished runs of a plan newest
first with the digest saved for their current last_seq; a stale digest (the run's journal grew
since) is not returned; paging by cursor; a digest of an unknown run is ignored; a read-only
store refuses to save; the estimate's history read computes missing digests once and then
reads them, giving the same durations as the journals."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.errors import StoreError
from phasegate.estimate import durations, read_history
from phasegate.store.contract import JournalStore
from phasegate.store.sqlite import SqliteStore
from tests.store.contract.conftest import MakeStore
from tests.store.contract.script import SCRIPT, advance, create

LAST = len(SCRIPT) + 1  # a finished run's last seq


def _finished(store: JournalStore, run_id: str, ts: float, lock: str = "web") -> None:
    create(store, run_id, ts=ts, lock=lock)
    advance(store, run_id, len(SCRIPT), ts=ts)  # after run.created, seq 1


def test_finished_runs_are_newest_first_with_their_fresh_digest(store: JournalStore) -> None:
    for n, ts in enumerate((1000.0, 3000.0, 2000.0)):
        _finished(store, f"r{n}", ts)
    create(store, "live", ts=4000.0, lock="live")  # unfinished, another plan: not listed
    _finished(store, "other", 5000.0, lock="api")  # another plan
    rows = store.finished_runs("web", limit=10)
    assert [r.run_id for r in rows] == ["r1", "r2", "r0"]
    assert all(r.digest is None and r.plan == "web" for r in rows)
    assert all(r.status == "succeeded" and r.last_seq == LAST for r in rows)
    store.save_digests(
        [
            ("r1", LAST, {"v": 1, "steps": {"deploy/push": 1.5}, "ü": ["ok"]}),
            ("ghost", 3, {"v": 1}),
        ]  # no such run: ignored
    )
    first = store.finished_runs("web", limit=10)[0]
    assert first.digest == {"v": 1, "steps": {"deploy/push": 1.5}, "ü": ["ok"]}
    # Replaced, not added.
    store.save_digests([("r1", LAST, {"v": 1, "steps": {}})])
    assert store.finished_runs("web", limit=1)[0].digest == {"v": 1, "steps": {}}
    # Paging: strictly after the cursor, in the same order.
    page = store.finished_runs("web", limit=1, before=(first.created_at, first.run_id))
    assert [r.run_id for r in page] == ["r2"]
    assert store.finished_runs("nope", limit=5) == []


def test_a_digest_saved_at_another_last_seq_is_stale(store: JournalStore) -> None:
    _finished(store, "r", 1000.0)
    store.save_digests([("r", LAST - 1, {"v": 1})])
    [row] = store.finished_runs("web", limit=5)
    assert row.digest is None  # written before the journal's last event: never read


def test_the_history_read_computes_missing_digests_once_then_reads_them(
    store: JournalStore,
) -> None:
    for n in range(3):
        _finished(store, f"r{n}", 1000.0 * (n + 1))
    expected = [durations(store.get_run(f"r{n}"), store.events(f"r{n}")) for n in range(3)]
    assert read_history(store, "web") == expected  # from the journals, digests saved
    rows = store.finished_runs("web", limit=10)
    assert all(r.digest is not None and r.digest["v"] == 1 for r in rows)
    assert read_history(store, "web") == expected  # from the digests: the same
    assert read_history(store, "web", exclude="r1", limit=1) == [expected[2]]


def test_a_read_only_store_refuses_to_save(make_store: MakeStore, tmp_path: Path) -> None:
    if make_store is not SqliteStore:
        pytest.skip("read-only opening is SQLite's (and PostgreSQL's flag, same code path)")
    writer = SqliteStore(tmp_path / "state")
    try:
        _finished(writer, "r", 1000.0)
    finally:
        writer.close()
    reader = SqliteStore(tmp_path / "state", readonly=True)
    try:
        with pytest.raises(StoreError):
            reader.save_digests([("r", LAST, {"v": 1})])
        assert len(read_history(reader, "web")) == 1  # computed, not saved: still answers
        assert reader.finished_runs("web", limit=1)[0].digest is None
    finally:
        reader.close()
