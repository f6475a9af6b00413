"""Random sequences of operations give the same observable results on every back end.

Each example drives a fresh store of each kind with the same operations (creates with shared
locks and idempotency keys, appends, stale appends, claims by a live and a dead owner,
releases, requests, and reads by cursor, page and prefix) and compares what each returned or
refused, then every run's record, journal, lock and pending requests.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.errors import PhasegateError
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from tests.store.contract.conftest import BACKENDS
from tests.store.contract.script import SCRIPT, create

RUNS = ["r0", "r1", "r2", "r3"]
LOCKS = ["web", "api"]

operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(RUNS),
        st.sampled_from(LOCKS),
        st.sampled_from([None, "k1", "k2"]),
        st.sampled_from(["sha-1", "sha-2"]),
    ),
    st.tuples(st.just("append"), st.sampled_from(RUNS), st.integers(1, 4)),
    st.tuples(st.just("stale"), st.sampled_from(RUNS)),
    st.tuples(st.just("claim"), st.sampled_from(RUNS), st.sampled_from(["me", "live", "dead"])),
    st.tuples(st.just("release"), st.sampled_from(RUNS), st.sampled_from(["me", "live"])),
    st.tuples(st.just("request"), st.sampled_from(RUNS), st.sampled_from(["approve", "abort"])),
    st.tuples(st.just("consume"), st.sampled_from(RUNS)),
    st.tuples(st.just("cursor"), st.sampled_from(RUNS), st.integers(0, 8), st.integers(1, 4)),
    st.tuples(st.just("page"), st.sampled_from(RUNS), st.integers(1, 3)),
    st.tuples(st.just("resolve"), st.sampled_from(["r", "r1", "last", "", "x"])),
)


def _do(store: JournalStore, op: tuple[Any, ...], owners: dict[str, Owner], clock: int) -> Any:
    kind, run_id = op[0], op[1]
    if kind == "resolve":
        return store.resolve(run_id)
    if kind == "cursor":
        return store.events_after(run_id, op[2], op[3])
    if kind == "page":
        head = store.run_head(run_id)
        before = None if head is None else (head.created_at, head.id)
        return [r.id for r in store.runs_page(limit=op[2], before=before)]
    if kind == "create":
        return create(store, run_id, lock=op[2], key=op[3], sha=op[4], ts=float(clock))
    if kind in ("append", "stale"):
        state = store.load_state(run_id)
        stale = store.load_state(run_id)
        count = op[2] if kind == "append" else 1
        events = [(t, d, float(clock)) for t, d in SCRIPT[state.seq - 1 : state.seq - 1 + count]]
        if not events or state.seq == 0:
            return "nothing to append"
        store.append(state, events, durable=bool(clock % 2))
        if kind == "stale":
            store.append(stale, events, durable=True)  # refused: the journal moved on
        return state.seq
    if kind == "claim":
        return store.claim(run_id, owners[op[2]])
    if kind == "release":
        return store.release(run_id, owner=owners[op[2]])
    if kind == "request":
        return store.add_request(run_id, op[2], {"by": "ana", "n": clock})
    pending = store.take_requests(run_id)
    if pending:
        store.consume_request(pending[0][0])
    return [request_id for request_id, _, _ in pending]


def _observe(store: JournalStore) -> Any:
    runs = []
    for run_id in store.run_ids():
        record = store.get_run(run_id)
        runs.append(
            (
                record,
                store.events(run_id),
                store.take_requests(run_id),
                sorted(store.phase_statuses(run_id)),
                store.load_state(run_id).summary(),
            )
        )
    locks = {name: store.lock_holder(name) for name in LOCKS}
    return runs, locks, store.runs_marker(), [r.id for r in store.list_runs(limit=10)]


def _located(store: JournalStore, message: str) -> str:
    """A message with where the journal is (a file, memory) left out: that differs."""
    where = str(getattr(store, "location", "") or getattr(store, "path", ""))
    return (
        message.replace(where, "<journal>")
        if where
        else message.replace("in memory", "in <journal>")
    )


def _play(backend: str, ops: list[tuple[Any, ...]], owners: dict[str, Owner]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        store = BACKENDS[backend](Path(tmp) / "state")
        try:
            outcomes = []
            for clock, op in enumerate(ops, start=1000):
                try:
                    outcomes.append(_do(store, op, owners, clock))
                except PhasegateError as exc:
                    outcomes.append((type(exc).__name__, _located(store, exc.message)))
            return outcomes, _observe(store)
        finally:
            store.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_every_store_agrees_with_sqlite(
    ops: list[tuple[Any, ...]], live_owner: Owner, dead_owner: Owner
) -> None:
    owners = {"me": Owner.me(), "live": live_owner, "dead": dead_owner}
    reference = _play("sqlite", ops, owners)
    for backend in sorted(BACKENDS):
        assert _play(backend, ops, owners) == reference, backend
