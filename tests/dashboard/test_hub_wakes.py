"""The dashboard's hub is woken by journal changes, not by its clock (issue 12 §3): with the
feeds' own interval an hour, every write still reaches a subscriber, in order. PostgreSQL
wakes the hub's watcher with NOTIFY; SQLite's watcher polls the journal (0.25 s)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from phasegate.server.dashboard.hub import Hub
from phasegate.store.contract import JournalStore
from phasegate.store.postgres import PostgresStore
from phasegate.store.sqlite import SqliteStore
from tests.store.contract.script import SCRIPT, create
from tests.store.pg_cluster import database_url

HOUR = 3600.0


def _render(key: str, store: JournalStore) -> tuple[int, object]:
    head = store.run_head(key)
    seq = head.last_seq if head else 0
    return seq, lambda: f"seq {seq}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_each_write_reaches_a_subscriber_without_the_clock(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    state = tmp_path / "state"
    url = None
    if backend == "postgres":
        request.getfixturevalue("postgres_server")
        url = database_url(tmp_path / "database")
        writer: JournalStore = PostgresStore(url, state_dir=state)
    else:
        writer = SqliteStore(state)
    create(writer, "r1")

    async def watch() -> list[str]:
        hub = Hub(state, _render, interval=HOUR, url=url)
        seen: list[str] = []
        feed = hub.subscribe("r1")
        try:
            seen.append(await anext(feed))
            run = writer.load_state("r1")
            for n, (etype, data) in enumerate(SCRIPT[:5]):
                writer.append(run, [(etype, data, 2000.0 + n)], durable=False)
                seen.append(await asyncio.wait_for(anext(feed), 60))
        finally:
            await feed.aclose()
            await hub.close()
        return seen

    try:
        assert asyncio.run(watch()) == [f"seq {n}" for n in range(1, 7)]
    finally:
        writer.close()
