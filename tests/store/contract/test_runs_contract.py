"""Creating, owning, locking, finding and paging runs, on every back end."""

from __future__ import annotations

import pytest

from phasegate.errors import IdempotencyConflict, LockHeld, RunNotFound, RunStateError
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from tests.store.contract.script import SCRIPT, advance, create


def test_an_idempotency_key_returns_the_same_run(store: JournalStore) -> None:
    assert create(store, "r1", key="k") == ("r1", True)
    advance(store, "r1", len(SCRIPT))  # finished: the lock is free, the key still holds
    assert create(store, "r2", key="k", ts=1001.0) == ("r1", False)
    assert store.run_ids() == ["r1"]
    with pytest.raises(IdempotencyConflict, match="with a different plan"):
        create(store, "r3", key="k", sha="sha-2", ts=1002.0)
    assert store.run_ids() == ["r1"]


def test_a_held_lock_refuses_a_second_run_and_creates_nothing(store: JournalStore) -> None:
    create(store, "r1")
    assert store.lock_holder("web") == ("r1", 1000.0)
    with pytest.raises(LockHeld, match="lock 'web' is held by run r1"):
        create(store, "r2", ts=1001.0)
    assert store.run_ids() == ["r1"]
    assert store.events("r2") == []
    create(store, "r3", lock="api", ts=1002.0)  # another lock is free
    advance(store, "r1", len(SCRIPT))
    assert store.lock_holder("web") is None  # released when the run finished
    assert create(store, "r2", ts=1003.0) == ("r2", True)
    assert store.lock_holder("web") == ("r2", 1003.0)


def test_acquire_lock_refuses_while_an_unfinished_run_holds_it(store: JournalStore) -> None:
    create(store, "r1")
    create(store, "r2", lock="api", ts=1001.0)
    with pytest.raises(LockHeld):
        store.acquire_lock("r2", "web")
    store.acquire_lock("r1", "web")  # its own lock again: fine
    assert store.lock_holder("web") == ("r1", 1000.0)


def test_a_second_owner_is_refused_while_the_first_lives(
    store: JournalStore, live_owner: Owner
) -> None:
    create(store, "r1", owner=live_owner)
    with pytest.raises(RunStateError, match=f"executed by pid {live_owner.pid}"):
        store.claim("r1", Owner.me())
    assert store.get_run("r1").owner == live_owner
    store.claim("r1", live_owner)  # the owner claiming again is fine
    store.release("r1", owner=Owner.me())  # not the owner: nothing happens
    assert store.get_run("r1").owner == live_owner
    store.release("r1", owner=live_owner)
    assert store.get_run("r1").owner is None
    store.claim("r1", Owner.me())
    assert store.get_run("r1").owner == Owner.me()


def test_a_dead_owner_is_replaced(store: JournalStore, dead_owner: Owner) -> None:
    create(store, "r1", owner=dead_owner)
    store.claim("r1", Owner.me(), lock_name="web")
    assert store.get_run("r1").owner == Owner.me()


def test_claiming_an_unknown_run_is_refused(store: JournalStore) -> None:
    with pytest.raises(RunNotFound):
        store.claim("nobody", Owner.me())


def test_runs_are_found_by_id_prefix_and_last(store: JournalStore) -> None:
    with pytest.raises(RunNotFound, match="no runs yet"):
        store.resolve("last")
    create(store, "20260101-aaa", lock="a", ts=1000.0)
    create(store, "20260101-abb", lock="b", ts=1001.0)
    create(store, "20260102-ccc", lock="c", ts=999.0)
    assert store.resolve("last") == store.resolve("latest") == "20260101-abb"
    assert store.resolve("20260102") == "20260102-ccc"
    assert store.get_run("20260101-aa").id == "20260101-aaa"
    for ambiguous in ("20260101-a", "2026"):
        with pytest.raises(RunNotFound, match="matches several runs"):
            store.resolve(ambiguous)
    for unknown in ("x", "", "  ", "2026%", "2026_"):
        with pytest.raises(RunNotFound):
            store.resolve(unknown)
    assert store.run_ids() == ["20260102-ccc", "20260101-aaa", "20260101-abb"]
    assert [r.id for r in store.list_runs()] == ["20260101-abb", "20260101-aaa", "20260102-ccc"]
    assert [r.id for r in store.list_runs(plan="a")] == ["20260101-aaa"]
    assert [r.id for r in store.list_runs(limit=1)] == ["20260101-abb"]
    assert [r.id for r in store.list_runs(status="pending", limit=5)] == [
        "20260101-abb",
        "20260101-aaa",
        "20260102-ccc",
    ]


def test_pages_never_repeat_or_skip_a_run(store: JournalStore) -> None:
    for n in range(7):  # two runs share each creation time: the id breaks the tie
        create(store, f"r{n}", lock=f"l{n}", ts=1000.0 + n // 2)
    seen: list[str] = []
    before = None
    while page := store.runs_page(limit=3, before=before):
        seen += [r.id for r in page]
        before = (page[-1].created_at, page[-1].id)
        create(store, f"new{len(seen)}", lock=f"n{len(seen)}", ts=5000.0 + len(seen))
    assert seen == ["r6", "r5", "r4", "r3", "r2", "r1", "r0"]
    advance(store, "r2", 1)
    assert [r.id for r in store.runs_page(limit=10, status="running")] == ["r2"]
    assert [r.id for r in store.runs_page(limit=10, plan="l3")] == ["r3"]


def test_heads_and_the_marker_follow_the_journal(store: JournalStore) -> None:
    assert store.runs_marker() == (0, None)
    create(store, "r1", ts=1000.0)
    create(store, "r2", lock="api", ts=1001.0)
    assert store.runs_marker() == (2, 1001.0)
    advance(store, "r1", 1, ts=3000.0)
    assert store.runs_marker() == (2, 3001.0)
    heads = store.run_heads()
    assert [(h.id, h.status, h.last_seq, h.updated_at) for h in heads] == [
        ("r1", "running", 2, 3001.0),
        ("r2", "pending", 1, 1001.0),
    ]
    assert store.run_head("r1") == heads[0]


def test_a_snapshot_reads_consistently(store: JournalStore) -> None:
    create(store, "r1")
    with store.snapshot():
        assert store.get_run("r1").last_seq == len(store.events("r1")) == 1


def test_abandoned_lists_in_flight_runs_whose_owner_died(
    store: JournalStore, live_owner: Owner, dead_owner: Owner
) -> None:
    create(store, "dead", lock="a", owner=dead_owner, ts=1001.0)
    create(store, "alive", lock="b", owner=live_owner, ts=1002.0)
    create(store, "unowned", lock="c", ts=1003.0)
    store.release("unowned", owner=Owner.me())  # created, never started: nobody's yet
    create(store, "finished", lock="d", owner=dead_owner, ts=1000.0)
    advance(store, "finished", len(SCRIPT))
    create(store, "dead2", lock="e", owner=dead_owner, ts=999.0)
    advance(store, "dead2", 3)  # running
    assert [r.id for r in store.abandoned()] == ["dead2", "dead"]
    store.claim("dead", Owner.me())
    assert [r.id for r in store.abandoned()] == ["dead2"]
    create(store, "released", lock="f", ts=1004.0)
    advance(store, "released", 3)  # running...
    store.release("released", owner=Owner.me())  # ...and its owner stopped
    assert [r.id for r in store.abandoned()] == ["dead2", "released"]


def _monitoring(lock: str) -> dict[str, object]:
    return {
        "at": 3000.0,
        "schedule": [{"every": 60, "for": 3600}],
        "checks": ["health"],
        "slots": 60,
        "ends_at": 6600.0,
        "lock": lock,
    }


@pytest.mark.parametrize("lock", ["keep", "release"])
def test_a_monitoring_run_keeps_or_releases_its_lock_as_its_plan_says(
    store: JournalStore, lock: str
) -> None:
    create(store, "r1")
    advance(store, "r1", len(SCRIPT) - 1)  # the forward path succeeded; not finished
    state = store.load_state("r1")
    store.append(state, [("monitoring.started", _monitoring(lock), 3000.0)], durable=True)
    assert store.get_run("r1").status == "monitoring"
    if lock == "keep":
        assert store.lock_holder("web") == ("r1", 1000.0)
        with pytest.raises(LockHeld, match="held by run r1"):
            create(store, "r2", ts=3001.0)
        return
    # Released in the same write: a new run of the plan may start while r1 monitors ...
    assert store.lock_holder("web") is None
    assert create(store, "r2", ts=3001.0) == ("r2", True)
    # ... and r1's rollback cannot take it back from r2 (the engine pauses instead).
    with pytest.raises(LockHeld, match="held by run r2"):
        store.acquire_lock("r1", "web")


def test_last_is_the_newest_run_a_user_started_not_a_programs_child(
    store: JournalStore,
) -> None:
    # A program's children are created after it, with the key `program:PARENT/PHASE`.
    create(store, "child-only", lock="c0", key="program:gone/p", ts=900.0)
    assert store.resolve("last") == "child-only"  # nothing else: the child
    create(store, "prog", lock="prog", ts=1000.0)
    create(store, "child-1", lock="c1", key="program:prog/a", ts=1001.0)
    create(store, "child-2", lock="c2", key="program:prog/b", ts=1002.0)
    assert store.resolve("last") == store.resolve("latest") == "prog"
    create(store, "keyed", lock="k", key="deploy-42", ts=1003.0)  # a user's own key
    assert store.resolve("last") == "keyed"
    assert store.get_run("last").id == "keyed"
