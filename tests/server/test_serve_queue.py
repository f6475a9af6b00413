"""``phasegate serve --dispatch queue``: servers that execute nothing themselves. Two servers
on one PostgreSQL store hand runs to a ``phasegate worker`` (its own state directory, as on
another host) through the store's job queue; a run started through one server is watched,
approved and aborted through the other, and executed by the worker, never by a server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from canary_lab.process import descendants

from tests.server.conftest import Served, plan_text
from tests.server.test_serve_postgres import (  # noqa: F401 - fixtures
    PAUSING,
    bearer,
    on_store,
    pg_url,
    second,
    token,
    wait_run,
)


@pytest.fixture
def worker(pg_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:  # noqa: F811
    state = tmp_path / "worker-state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "phasegate",
                "--state-dir",
                str(state),
                "worker",
                "--takeover-within",
                "3",
            ],
            env={**env, "PHASEGATE_STORE": pg_url},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        yield proc
    finally:
        for pid in descendants(proc.pid):
            with_suppress_kill(pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def with_suppress_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _queued(served: Served, url: str) -> Served:
    served.serve_args += ["--dispatch", "queue"]
    return on_store(served, url)


def test_runs_go_to_workers_and_are_steered_through_either_server(
    served: Served,
    second: Served,  # noqa: F811
    pg_url: str,  # noqa: F811
    worker: subprocess.Popen[bytes],
) -> None:
    alice = token(served, pg_url, "alice", "operator")
    bob = token(served, pg_url, "bob", "operator")
    _queued(served, pg_url).start()
    _queued(second, pg_url).start()
    a, b = served.url, second.url

    # Approve through the other server: the worker that resumes it is found by the queue.
    started = httpx.post(
        f"{a}/api/v1/runs", json={"plan": PAUSING}, headers=bearer(alice), timeout=60
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    paused = wait_run(b, bob, run_id, "paused")
    owner_pids = {e["data"].get("pid") for e in _events(b, bob, run_id)} - {None}
    assert served.proc is not None and second.proc is not None
    servers = {served.proc.pid, second.proc.pid}
    servers |= set(descendants(served.proc.pid)) | set(descendants(second.proc.pid))
    assert owner_pids and not owner_pids & servers  # executed by the worker, not a server
    assert paused["run"]["status"] == "paused"
    approved = httpx.post(
        f"{b}/api/v1/runs/{run_id}/approve", json={}, headers=bearer(bob), timeout=60
    )
    assert approved.status_code == 200, approved.text
    done = wait_run(a, alice, run_id, "succeeded")
    items = [(i["key"], i["status"]) for i in done["phases"][0]["items"]]
    assert items == [
        ("deploy/ship", "succeeded"),
        ("deploy/hold", "succeeded"),
        ("deploy/after", "succeeded"),
    ]

    # Abort through the other server while the worker executes it: a request to its owner.
    gate = served.cwd / "never"
    plan = plan_text("slow", f"while [ ! -e {gate} ]; do sleep 0.05; done")
    started = httpx.post(f"{a}/api/v1/runs", json={"plan": plan}, headers=bearer(alice), timeout=60)
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    wait_run(b, bob, run_id, "running")
    aborted = httpx.post(
        f"{b}/api/v1/runs/{run_id}/abort",
        json={"reason": "stop"},
        headers=bearer(bob),
        timeout=60,
    )
    assert aborted.status_code == 202, aborted.text
    assert aborted.json()["outcome"] == "requested"  # the worker's run reads it
    final = wait_run(a, alice, run_id, "rolled_back", "failed")
    assert final["run"]["status"] in ("rolled_back", "failed")


def _events(url: str, secret: str, run_id: str) -> list[dict[str, object]]:
    response = httpx.get(f"{url}/api/v1/runs/{run_id}/events", headers=bearer(secret), timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    events: list[dict[str, object]] = body["events"] if isinstance(body, dict) else body
    return events
