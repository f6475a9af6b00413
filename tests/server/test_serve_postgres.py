"""``phasegate serve`` and ``phasegate token`` on a PostgreSQL store (issue 12 §3/§4): real
``phasegate serve`` processes on 127.0.0.1, the session's real PostgreSQL
(tests/store/pg_cluster.py), tokens from real CLI processes. Two servers on one database
share runs, approvals, aborts, live event streams, tokens (a revocation holds on both at once)
and idempotency keys; the workers a server spawns get the store URL without its password ever
appearing in a process's command line or environment."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from canary_lab.ports import free_port
from canary_lab.process import descendants

from tests import cli_forks
from tests.server.conftest import Served, plan_text, wait_for
from tests.store.pg_cluster import database_url

PAUSING = """\
version: 1
name: canary
phases:
  - id: deploy
    steps:
      - {id: ship, run: "echo shipped", undo: "echo undone"}
      - {id: hold, pause: approve}
      - {id: after, run: "echo after"}
"""


@pytest.fixture
def pg_url(postgres_server: str, tmp_path: Path) -> str:
    return database_url(tmp_path / "database")


def on_store(served: Served, url: str) -> Served:
    """The server (and its CLI) on the PostgreSQL store, named by $PHASEGATE_STORE: the
    password is in no command line, the tests' included."""
    served.server_env["PHASEGATE_STORE"] = url
    return served


def pg_cli(served: Served, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**served.env(), "PHASEGATE_STORE": url}
    return cli_forks.phasegate(list(args), cwd=served.cwd, env=env)


def token(served: Served, url: str, name: str, role: str) -> str:
    made = pg_cli(served, url, "token", "create", "--name", name, "--role", role)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def run_doc(url: str, secret: str, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/api/v1/runs/{run_id}", headers=bearer(secret), timeout=30)
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def wait_run(url: str, secret: str, run_id: str, *statuses: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        doc = run_doc(url, secret, run_id)
        return doc if doc["run"]["status"] in statuses else None

    found: dict[str, Any] = wait_for(reached, f"run {run_id} to be {statuses}")
    return found


@pytest.fixture
def second(tmp_path: Path) -> Iterator[Served]:
    """Another server, with its own state directory (run directories), as on another host;
    the ``served`` fixture reaps the workers of both (every descendant of this test)."""
    work = tmp_path / "work-b"
    work.mkdir()
    server = Served(f"http://127.0.0.1:{free_port()}", tmp_path / "state-b", work)
    try:
        yield server
    finally:
        server.stop()


def _proc_text(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""  # gone, or not ours to read


def test_cli_token_and_a_run_on_postgresql_through_serve(served: Served, pg_url: str) -> None:
    password = urlsplit(pg_url).password
    assert password
    alice = token(served, pg_url, "alice", "operator")
    listed = json.loads(pg_cli(served, pg_url, "token", "list", "--json").stdout)
    assert [(t["name"], t["role"]) for t in listed] == [("alice", "operator")]
    assert not (served.state_dir / "server.db").exists()  # the token is in PostgreSQL
    on_store(served, pg_url).start()

    gate = served.cwd / "go"
    plan = plan_text("pgserve", f"while [ ! -e {gate} ]; do sleep 0.05; done; echo done")
    started = httpx.post(
        f"{served.url}/api/v1/runs", json={"plan": plan}, headers=bearer(alice), timeout=30
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    wait_run(served.url, alice, run_id, "running")
    # The worker (and its step) are alive now: the password is in no process's command line
    # (readable by every user) and in no environment the step inherits.
    assert served.proc is not None
    # The workers (python -m phasegate.server.job) and what they spawned (the step): not the
    # server itself, whose environment the operator chose ($PHASEGATE_STORE).
    jobs = [
        p
        for p in descendants(served.proc.pid)
        if b"phasegate.server.job" in _proc_text(p, "cmdline")
    ]
    assert jobs, "no worker process"
    workers = [p for job in jobs for p in (job, *descendants(job))]
    assert len(workers) >= 2, "no step under the worker"
    every = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    assert not [p for p in every if password.encode() in _proc_text(p, "cmdline")]
    leaked = [p for p in workers if password.encode() in _proc_text(p, "environ")]
    assert not leaked, [_proc_text(p, "cmdline") for p in leaked]
    gate.touch()
    wait_run(served.url, alice, run_id, "succeeded")

    status = pg_cli(served, pg_url, "status", run_id, "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert (doc["run"]["id"], doc["run"]["status"]) == (run_id, "succeeded")
    assert not (served.state_dir / "phasegate.db").exists()  # the journal is PostgreSQL's
    # /metrics reads the same journal: the store is up and the run is counted as succeeded.
    scraped = httpx.get(f"{served.url}/metrics", timeout=30, follow_redirects=True)
    assert scraped.status_code == 200, scraped
    scrape = scraped.text
    assert "phasegate_store_up 1.0" in scrape, scrape
    assert 'phasegate_runs_finished_total{plan="pgserve",status="succeeded"} 1.0' in scrape, scrape
    # Step logs stay in the server's state directory (docs/server.md).
    assert (served.state_dir / "runs" / run_id / "worker.log").exists()


def test_two_servers_share_runs_approvals_and_token_revocation(
    served: Served, second: Served, pg_url: str
) -> None:
    alice = token(served, pg_url, "alice", "operator")
    bob = token(served, pg_url, "bob", "operator")
    on_store(served, pg_url).start()
    on_store(second, pg_url).start()
    a, b = served.url, second.url

    started = httpx.post(
        f"{a}/api/v1/runs", json={"plan": PAUSING}, headers=bearer(alice), timeout=60
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    paused = wait_run(b, bob, run_id, "paused")  # seen through B
    assert paused["run"]["id"] == run_id
    listed = httpx.get(f"{b}/api/v1/runs", headers=bearer(bob), timeout=60).json()["runs"]
    assert [r["id"] for r in listed] == [run_id]

    approved = httpx.post(
        f"{b}/api/v1/runs/{run_id}/approve", json={}, headers=bearer(bob), timeout=30
    )
    assert approved.status_code == 200, approved.text
    done = wait_run(a, alice, run_id, "succeeded")  # and finished, as A sees it
    items = [(i["key"], i["status"]) for i in done["phases"][0]["items"]]
    assert items == [
        ("deploy/ship", "succeeded"),
        ("deploy/hold", "succeeded"),
        ("deploy/after", "succeeded"),
    ]
    status = json.loads(pg_cli(served, pg_url, "status", run_id, "--json").stdout)
    assert status["run"]["status"] == "succeeded"

    # Revocation: both servers accepted bob a moment ago; revoked once, both refuse at once.
    for url in (a, b):
        assert httpx.get(f"{url}/api/v1/runs", headers=bearer(bob), timeout=60).status_code == 200
    revoked = pg_cli(served, pg_url, "token", "revoke", "bob")
    assert revoked.returncode == 0, revoked.stderr
    for url in (a, b):
        refused = httpx.get(f"{url}/api/v1/runs", headers=bearer(bob), timeout=60)
        assert refused.status_code == 401, refused.text
        assert httpx.get(f"{url}/api/v1/runs", headers=bearer(alice), timeout=60).status_code == 200


STARTS = 200  # issue 12's acceptance: 200 concurrent same-key starts spread over two servers


def test_200_concurrent_same_key_starts_over_two_servers_create_one_run(
    served: Served, second: Served, pg_url: str
) -> None:
    alice = token(served, pg_url, "alice", "operator")
    on_store(served, pg_url).start()
    on_store(second, pg_url).start()
    headers = {**bearer(alice), "Idempotency-Key": "release-9"}
    body = {"plan": plan_text("storm")}
    responses: list[httpx.Response | BaseException] = [ValueError("not sent")] * STARTS
    barrier = threading.Barrier(STARTS)

    def post(i: int) -> None:
        url = (served.url, second.url)[i % 2]
        try:
            with httpx.Client(timeout=120) as client:
                barrier.wait(timeout=60)
                responses[i] = client.post(f"{url}/api/v1/runs", json=body, headers=headers)
        except BaseException as exc:  # recorded, asserted below
            responses[i] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    answers = [r for r in responses if isinstance(r, httpx.Response)]
    assert len(answers) == STARTS, [r for r in responses if not isinstance(r, httpx.Response)]
    assert sum(r.status_code == 201 for r in answers) == 1
    assert sorted({r.status_code for r in answers}) == [200, 201]
    assert len({r.json()["id"] for r in answers}) == 1
    run_id = answers[0].json()["id"]
    for url in (served.url, second.url):
        runs = httpx.get(f"{url}/api/v1/runs", headers=bearer(alice), timeout=60).json()["runs"]
        assert [r["id"] for r in runs] == [run_id]
    wait_run(second.url, alice, run_id, "succeeded")


def _sse(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            if name in ("id", "event", "data"):
                fields[name] = value.lstrip(" ")
        if fields:
            events.append(fields)
    return events


def test_a_run_on_server_a_is_watched_live_and_aborted_through_server_b(
    served: Served, second: Served, pg_url: str
) -> None:
    alice = token(served, pg_url, "alice", "operator")
    bob = token(served, pg_url, "bob", "operator")
    on_store(served, pg_url).start()
    on_store(second, pg_url).start()
    never = served.cwd / "never"
    plan = f"""\
version: 1
name: long
phases:
  - id: p
    steps:
      - {{id: ship, run: "echo shipped", undo: "echo undone"}}
      - {{id: wait, run: "while [ ! -e {never} ]; do sleep 0.05; done"}}
"""
    started = httpx.post(
        f"{served.url}/api/v1/runs", json={"plan": plan}, headers=bearer(alice), timeout=60
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    streamed: list[str] = []

    def watch() -> None:  # server B's live event stream, from the first event to the end
        path = f"{second.url}/api/v1/runs/{run_id}/events/stream"
        with httpx.stream("GET", path, headers=bearer(bob), timeout=120) as response:
            assert response.status_code == 200
            streamed.append("".join(response.iter_text()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    wait_for(
        lambda: run_doc(second.url, bob, run_id)["phases"][0]["items"][1]["status"] == "running",
        "the long step (seen through B)",
    )
    aborted = httpx.post(
        f"{second.url}/api/v1/runs/{run_id}/abort",
        json={"grace": 1, "reason": "through B"},
        headers=bearer(bob),
        timeout=30,
    )
    assert aborted.status_code == 202, aborted.text
    done = wait_run(served.url, alice, run_id, "rolled_back")  # A's worker obeyed B's abort
    assert done["run"]["status"] == "rolled_back"
    watcher.join(120)
    assert streamed, "B's stream did not end"
    events = _sse(streamed[0])
    journal = httpx.get(
        f"{served.url}/api/v1/runs/{run_id}/events", headers=bearer(alice), timeout=60
    )
    stored = journal.json()["events"]
    sent = [e for e in events if e.get("event") != "end"]
    # Live through B: every event A's worker journalled, in order, then the end.
    assert [int(e["id"]) for e in sent] == [e["seq"] for e in stored]
    assert events[-1]["event"] == "end"
    assert json.loads(events[-1]["data"])["status"] == "rolled_back"
