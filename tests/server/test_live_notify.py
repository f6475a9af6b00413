"""Live views on PostgreSQL are woken by NOTIFY, not by a clock (issue 12 §3): the app under a
real uvicorn on 127.0.0.1, the session's real PostgreSQL, a writer in this process appending
to the journal as an engine on another machine would.

Polling is made useless here (the SSE stream's wait and the store's poll interval are an
hour): every event still reaches the client, one by one, each before the next is written,
which only a notification of the commit can do."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from canary_lab.ports import free_port

from phasegate.server import app as app_module
from phasegate.server.api import feeds
from phasegate.server.config import ServerConfig
from phasegate.server.tokens import TokenStore
from phasegate.store import changes
from phasegate.store.postgres import PostgresLedger, PostgresStore
from tests.store.contract.script import SCRIPT, create
from tests.store.pg_cluster import database_url

HOUR = 3600.0


@pytest.fixture
def pg_url(postgres_server: str, tmp_path: Path) -> str:
    return database_url(tmp_path / "database")


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[str]:
    app = app_module.create_app(
        ServerConfig(
            state_dir=tmp_path / "state",
            store_url=pg_url,
            plan_root=tmp_path,
            workers=1,
            resume_orphans=False,
        )
    )
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    for _ in range(600):
        if served.started:
            break
        time.sleep(0.05)
    assert served.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(30)


def _events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.strip()


def test_each_journal_write_reaches_the_sse_client_before_the_next_one(
    server: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds, "WAIT", HOUR)
    monkeypatch.setattr(changes, "POLL_INTERVAL", HOUR)
    ledger = PostgresLedger(pg_url)
    secret = TokenStore(ledger).create("viewer", "viewer")
    ledger.close()
    writer = PostgresStore(pg_url, state_dir=tmp_path / "elsewhere")
    create(writer, "r1")
    state = writer.load_state("r1")
    path = f"{server}/api/v1/runs/r1/events/stream"
    headers = {"Authorization": f"Bearer {secret}"}
    received: list[tuple[int, str]] = []
    with httpx.stream("GET", path, headers=headers, timeout=60) as response:
        assert response.status_code == 200
        events = _events(response.iter_lines())
        first = next(events)
        received.append((int(first["id"]), first["event"]))
        for n, (etype, data) in enumerate(SCRIPT):
            writer.append(state, [(etype, data, 2000.0 + n)], durable=False)
            sent = next(events)  # the stream waits an hour unless the commit wakes it
            payload = json.loads(sent["data"])
            received.append((int(sent["id"]), sent["event"]))
            assert (payload["seq"], payload["type"], payload["ts"]) == (n + 2, etype, 2000.0 + n)
        end = next(events)
    writer.close()
    assert received == [(1, "run.created")] + [(n + 2, t) for n, (t, _) in enumerate(SCRIPT)]
    assert end["event"] == "end"
    assert json.loads(end["data"]) == {"status": "succeeded", "last_seq": len(SCRIPT) + 1}
