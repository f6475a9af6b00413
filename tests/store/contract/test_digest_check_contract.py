"""``phasegate check``'s digest verification (estimate/digest.py ``verify``/``repair``) on
every back end: a digest equal to its journal passes, a wrong one is found with the keys
that differ, a stale or other-version one is not read (so not checked), and a repair saves
exactly what the journal gives."""

from __future__ import annotations

from phasegate.estimate import digest, read_history
from phasegate.store.contract import JournalStore
from tests.store.contract.script import SCRIPT, advance, create


def _three(store: JournalStore) -> None:
    for n in range(3):
        create(store, f"r{n}", ts=1000.0 + n, lock="web" if n < 2 else "api")
        advance(store, f"r{n}", len(SCRIPT))
    read_history(store, "web")
    read_history(store, "api")


def test_right_digests_pass_and_a_wrong_one_is_found_and_repaired(store: JournalStore) -> None:
    _three(store)
    assert digest.verify(store) == (3, [])
    [row] = [r for r in store.finished_runs("web", limit=5) if r.run_id == "r1"]
    assert row.digest is not None
    wrong = dict(row.digest, total=row.digest["total"] + 3600.0)  # an hour too long
    store.save_digests([("r1", row.last_seq, wrong)])
    checked, found = digest.verify(store)
    assert checked == 3
    assert [(m.run_id, m.plan, m.fields) for m in found] == [("r1", "web", ("total",))]
    assert found[0].expected == ("r1", row.last_seq, row.digest)
    digest.repair(store, found)
    assert digest.verify(store) == (3, [])
    assert [r.digest for r in store.finished_runs("web", limit=5) if r.run_id == "r1"] == [
        row.digest
    ]


def test_stale_and_other_version_digests_are_not_checked(store: JournalStore) -> None:
    _three(store)
    head = store.get_run("r0")
    store.save_digests([("r0", head.last_seq - 1, {"v": 1, "total": -1})])  # stale
    store.save_digests([("r2", store.get_run("r2").last_seq, {"v": 99, "total": -1})])
    assert digest.verify(store) == (1, [])  # only r1's, which is right
