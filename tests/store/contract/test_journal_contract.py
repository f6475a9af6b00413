"""The journal guarantees of ``JournalStore`` (store/contract.py), on every back end."""

from __future__ import annotations

import pytest

from phasegate.errors import InvalidTransition, StoreError
from phasegate.run.state import RunState
from phasegate.store.contract import JournalStore
from phasegate.store.fold import EventRow, fold, replay
from tests.store.contract.script import PHASES, SCRIPT, advance, create


def test_a_new_run_has_one_event_and_its_record(store: JournalStore) -> None:
    assert create(store, "r1") == ("r1", True)
    events = store.events("r1")
    assert [(e.seq, e.type) for e in events] == [(1, "run.created")]
    assert events[0].data == {"phases": PHASES, "needs": {"deploy": ["build"]}}
    record = store.get_run("r1")
    assert (record.status, record.last_seq, record.created_at) == ("pending", 1, 1000.0)
    assert record.options == {"vars": {"TARGET": "./site"}}
    assert record.plan_text == "name: web\n"


def test_append_is_ordered_and_continuous(store: JournalStore) -> None:
    create(store, "r1")
    state = store.load_state("r1")
    batch = [(etype, data, 2000.0 + n) for n, (etype, data) in enumerate(SCRIPT[:4])]
    store.append(state, batch[:1], durable=True)
    store.append(state, batch[1:], durable=False)
    events = store.events("r1")
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.type for e in events[1:]] == [etype for etype, _ in SCRIPT[:4]]
    assert [e.ts for e in events[1:]] == [2000.0, 2001.0, 2002.0, 2003.0]
    assert state.seq == 5 and store.get_run("r1").last_seq == 5
    assert store.get_run("r1").status == "running"


def test_a_stale_append_is_refused_and_writes_nothing(store: JournalStore) -> None:
    create(store, "r1")
    first, stale = store.load_state("r1"), store.load_state("r1")
    store.append(first, [("run.started", {}, 2000.0)], durable=True)
    before = store.events("r1")
    with pytest.raises(StoreError, match="another process wrote to its journal meanwhile"):
        store.append(stale, [("run.started", {}, 2001.0)], durable=True)
    assert store.events("r1") == before
    assert store.get_run("r1").last_seq == 2


def test_a_stale_batched_commit_is_refused_and_writes_nothing(store: JournalStore) -> None:
    create(store, "r1")
    stale = store.load_state("r1")
    advance(store, "r1", 2)
    rows: list[EventRow] = []
    changed = fold(stale, [("run.started", {}, 3000.0)], rows)
    with pytest.raises(StoreError, match="entry #3 is the last one"):
        store.commit_applied(stale, rows, changed, durable=True)
    assert [e.seq for e in store.events("r1")] == [1, 2, 3]


def test_a_batched_commit_continues_the_journal(store: JournalStore) -> None:
    create(store, "r1")
    state = store.load_state("r1")
    rows: list[EventRow] = []
    changed = fold(state, [(t, d, 2000.0) for t, d in SCRIPT[:3]], rows)
    store.commit_applied(state, rows, changed, durable=False)
    assert [e.type for e in store.events("r1")] == ["run.created", *(t for t, _ in SCRIPT[:3])]
    assert store.get_run("r1").last_seq == 4


def test_an_event_the_state_machine_refuses_stores_nothing(store: JournalStore) -> None:
    create(store, "r1")
    state = store.load_state("r1")
    with pytest.raises(InvalidTransition):
        # the first is legal, the second is not (no such phase): the batch is all or nothing
        store.append(
            state,
            [("run.started", {}, 2000.0), ("phase.started", {"phase": "nope"}, 2001.0)],
            durable=True,
        )
    assert [e.seq for e in store.events("r1")] == [1]
    assert store.get_run("r1").status == "pending"


def test_cursors_return_only_newer_events(store: JournalStore) -> None:
    create(store, "r1")
    advance(store, "r1", 6)
    assert [e.seq for e in store.events_after("r1", 3)] == [4, 5, 6, 7]
    assert [e.seq for e in store.events_after("r1", 3, limit=2)] == [4, 5]
    assert store.events_after("r1", 7) == []
    seen, cursor = [], 0
    while page := store.events_after("r1", cursor, limit=3):
        seen += [e.seq for e in page]
        cursor = page[-1].seq
        if cursor == 3:
            advance(store, "r1", 2)  # appended between two reads: still seen once
    assert seen == list(range(1, 10))
    assert store.events_after("nobody", 0) == []


def test_load_state_equals_the_fold_of_the_events(store: JournalStore) -> None:
    create(store, "r1")
    advance(store, "r1", 7)
    loaded = store.load_state("r1")
    folded = replay("r1", store.events("r1"))
    assert loaded.seq == 8
    assert loaded.summary() == folded.summary()
    assert loaded.phases == folded.phases and loaded.items == folded.items
    assert loaded.status == store.get_run("r1").status == "running"
    assert store.get_run("r1").summary == _json_round_trip(loaded)
    assert sorted(store.phase_statuses("r1")) == sorted(p.status for p in loaded.phases.values())
    assert sorted(store.phase_statuses("r1")) == ["running", "succeeded"]


def _json_round_trip(state: RunState) -> object:
    import json

    return json.loads(json.dumps(state.summary(), default=str))


def test_a_finished_run_reports_its_end(store: JournalStore) -> None:
    create(store, "r1")
    advance(store, "r1", len(SCRIPT))
    record = store.get_run("r1")
    assert (record.status, record.finished_at, record.last_seq) == (
        "succeeded",
        2000.0 + len(SCRIPT),
        len(SCRIPT) + 1,
    )
    head = store.run_head("r1")
    assert head is not None and (head.status, head.last_seq) == ("succeeded", 11)
    assert store.run_head("r") is None  # exact ids only
