"""Change notifications for live views (``change_cursor``/``wait_for_change``), on every
back end: a write after the cursor wakes the waiter, whoever writes and whenever; nothing
else does."""

from __future__ import annotations

import threading
from pathlib import Path

from phasegate.store.changes import ChangeCursor
from phasegate.store.contract import JournalStore
from tests.store.contract.conftest import MakeStore
from tests.store.contract.script import advance, create

LONG = 60.0  # never reached when the contract holds: the write wakes the waiter first


def _other(make_store: MakeStore, store: JournalStore, state: Path) -> JournalStore:
    """Another instance on the same journal (for another thread), or the memory store."""
    return store if type(store).__name__ == "MemoryStore" else make_store(state)


def test_a_write_after_the_cursor_wakes_at_once(store: JournalStore) -> None:
    create(store, "r1")
    cursor = store.change_cursor("r1")
    advance(store, "r1", 1)  # before the wait begins: still seen
    assert store.wait_for_change(cursor, LONG) is True
    assert [e.seq for e in store.events_after("r1", cursor.seq)] == [2]


def test_no_write_times_out(store: JournalStore) -> None:
    create(store, "r1")
    assert store.wait_for_change(store.change_cursor("r1"), 0.2) is False
    assert store.wait_for_change(store.change_cursor(), 0.2) is False


def test_a_write_to_another_run_does_not_wake_a_run_cursor(store: JournalStore) -> None:
    create(store, "r1")
    create(store, "r2", lock="other")
    cursor = store.change_cursor("r1")
    advance(store, "r2", 2)
    assert store.wait_for_change(cursor, 0.3) is False
    assert store.wait_for_change(store.change_cursor(), 0.2) is False  # taken after: seen


def test_a_waiter_in_another_thread_is_woken_by_a_write(
    make_store: MakeStore, store: JournalStore, tmp_path: Path
) -> None:
    """The cursor is taken here; another thread waits with it on its own instance (a SQLite
    connection belongs to its thread), and a write from here wakes it."""
    create(store, "r1")
    results: list[bool] = []

    def wait(cursor: ChangeCursor) -> None:
        waiting = _other(make_store, store, tmp_path / "state")
        try:
            results.append(waiting.wait_for_change(cursor, LONG))
        finally:
            if waiting is not store:
                waiting.close()

    for run_id in ("r1", None):
        waiter = threading.Thread(target=wait, args=(store.change_cursor(run_id),))
        waiter.start()
        advance(store, "r1", 1)
        waiter.join()
    assert results == [True, True]
    assert store.get_run("r1").last_seq == 3


def test_a_new_run_wakes_a_cursor_over_every_run(
    make_store: MakeStore, store: JournalStore, tmp_path: Path
) -> None:
    cursor = store.change_cursor()
    writer = _other(make_store, store, tmp_path / "state")
    create(writer, "r9")
    assert store.wait_for_change(cursor, LONG) is True
    assert store.run_ids() == ["r9"]
    if writer is not store:
        writer.close()
