"""A grant's instant on PostgreSQL is never earlier than the end of the run whose slot it
took (store/postgres/lanes.py ``_grant``).

A run's end frees its lane slot in the transaction that journals it, which does not take the
lanes' lock; it may commit while a grant is under way. Stamped before the grant read the
slots, a grant that saw the freed slot was dated before that commit: the journal then showed
one slot held by two runs at once (a two-server suite failure, 5 ms of overlap)."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from phasegate.store.lanes import grant_time
from phasegate.store.postgres import PostgresStore
from tests.store.contract.script import create
from tests.store.pg_cluster import database_url


@pytest.fixture
def url(postgres_server: str, tmp_path: Path) -> str:
    return database_url(tmp_path / "db")


def test_a_slot_freed_during_a_grant_is_granted_only_after_it_was_freed(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresStore(url, state_dir=tmp_path / "a")
    ending = psycopg.connect(url)
    try:
        store.set_lane("Data-Schema", cap=1, weight=None, by="ana", ts=1.0)
        create(store, "first", lock="plan-first")
        create(store, "second", lock="plan-second", ts=1001.0)
        assert store.lane_request("first", "Data-Schema").granted
        assert not store.lane_request("second", "Data-Schema").granted

        # The first run's end, journalled by another process: its slot's row is deleted in
        # a transaction that commits while the next grant is being made.
        ending.execute("DELETE FROM lane_slots WHERE run_id = 'first'")
        freed: list[float] = []

        def commit_the_end_meanwhile(ts: float | None) -> float:
            at = grant_time(ts)
            if not freed:  # the end commits just after the grant read its instant
                ending.commit()
                freed.append(time.time())
            return at

        monkeypatch.setattr("phasegate.store.postgres.lanes.grant_time", commit_the_end_meanwhile)
        store.lane_grant()
        assert freed, "the grant read its instant"
        ticket = next(t for t in store.lane_tickets() if t.run_id == "second")
        if ticket.granted_at is not None:  # this grant saw the slot freed: dated after it
            assert ticket.granted_at >= freed[0]
        # Whichever grant gives the slot, it is dated after the end that freed it.
        store.lane_grant()
        ticket = next(t for t in store.lane_tickets() if t.run_id == "second")
        assert ticket.granted_at is not None and ticket.granted_at >= freed[0]
        assert [t.run_id for t in store.lane_tickets()] == ["second"]
    finally:
        ending.close()
        store.close()
