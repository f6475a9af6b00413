"""Decisions for a run parked while queued (docs/lanes.md, "Parked runs"), over the API of a
real ``phasegate serve --park-after 0.2s``, with each role: a viewer's approval or abort is
refused (403) and changes nothing; an operator's approval is journalled at once while the run
stays parked and counted once when its slot comes; a cap raised at runtime reaches the parked
run (the server's grant), which then runs with that approval; an admin's abort of a parked
run rolls it back at once, without a slot, and drops its ticket."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from phasegate.store.backends import open_journal
from tests import cli_forks
from tests.server.conftest import Served, wait_for
from tests.server.test_errors import envelope

PLAN = """\
version: 1
name: {name}
lane: deploy
phases:
  - id: ship
    steps:
      - run: echo {name} >> {ledger}
        undo: echo undo-{name} >> {ledger}
    gates:
      - id: go
        manual: "release manager go"
"""


def cli(served: Served, url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = served.env() | ({"PHASEGATE_STORE": url} if url else {})
    return cli_forks.phasegate(list(args), cwd=served.cwd, env=env)


@pytest.mark.timeout(600)
def test_decisions_for_a_parked_run_by_role(
    served: Served, store_url: str | None, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    ledger.touch()
    tokens = {}
    for name, role in (("viewer", "viewer"), ("alice", "operator"), ("admin", "admin")):
        made = cli(served, store_url, "token", "create", "--name", name, "--role", role)
        assert made.returncode == 0, made.stderr
        tokens[name] = {"Authorization": f"Bearer {made.stdout.strip()}"}
    served.serve_args = ["--park-after", "0.2s"]
    if store_url:
        served.server_env["PHASEGATE_STORE"] = store_url
    served.start()
    store = open_journal(served.state_dir, url=store_url)
    client = httpx.Client(base_url=served.url, timeout=60)

    def post(path: str, who: str, body: dict[str, Any]) -> httpx.Response:
        return client.post(path, json=body, headers=tokens[who])

    def parked(run_id: str) -> bool:
        record = store.get_run(run_id)
        return record.status == "queued" and record.owner is None

    def types(run_id: str) -> list[str]:
        return [e.type for e in store.events(run_id)]

    def start_parked(name: str) -> str:
        answer = post("/api/v1/runs", "alice", {"plan": PLAN.format(name=name, ledger=ledger)})
        assert answer.status_code == 201, answer.text
        run_id: str = answer.json()["id"]
        wait_for(lambda: parked(run_id), f"{name} to park", attempts=900)
        return run_id

    try:
        closed = client.put("/api/v1/lanes/deploy", json={"max": 0}, headers=tokens["admin"])
        assert closed.status_code == 200, closed.text
        approved = start_parked("approved")

        refused = post(f"/api/v1/runs/{approved}/approve", "viewer", {"check": "go"})
        envelope(refused, 403, "forbidden")
        assert "approval.granted" not in types(approved)

        answer = post(f"/api/v1/runs/{approved}/approve", "alice", {"check": "go"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["keys"] == ["ship/gate:go"]
        # Recorded at once; the run stays parked, nothing of it ran.
        assert types(approved).count("approval.granted") == 1
        assert parked(approved) and ledger.read_text() == ""

        # A cap raised at runtime reaches the parked run: the server grants and resumes it.
        opened = client.put("/api/v1/lanes/deploy", json={"max": 1}, headers=tokens["admin"])
        assert opened.status_code == 200, opened.text
        wait_for(lambda: store.get_run(approved).status == "succeeded", "the approved run")
        assert ledger.read_text().split() == ["approved"]
        seen = types(approved)
        assert seen.count("approval.granted") == 1  # counted once, not again at the grant
        # The wait ended by its grant after the resume (the run still queued until then).
        assert seen.index("approval.granted") < seen.index("run.resumed")
        assert seen.index("run.resumed") < seen.index("run.dequeued")
        assert "lane.granted" not in seen
        (ended,) = [e.data for e in store.events(approved) if e.type == "run.dequeued"]
        assert ended["how"] == "granted" and ended["waited"] > 0
        resumes = [e.data["after"] for e in store.events(approved) if e.type == "run.resumed"]
        assert resumes == ["parked"]

        closed = client.put("/api/v1/lanes/deploy", json={"max": 0}, headers=tokens["admin"])
        assert closed.status_code == 200, closed.text
        aborted = start_parked("aborted")
        refused = post(f"/api/v1/runs/{aborted}/abort", "viewer", {"reason": "no"})
        envelope(refused, 403, "forbidden")
        assert parked(aborted)
        answer = post(f"/api/v1/runs/{aborted}/abort", "admin", {"reason": "cleanup"})
        assert answer.status_code == 202, answer.text
        wait_for(lambda: store.get_run(aborted).status == "rolled_back", "the aborted run")
        # Taken over by a worker for the abort, rolled back without a slot.
        resumed = [e.data for e in store.events(aborted) if e.type == "run.resumed"]
        assert [r.get("for") for r in resumed] == ["abort"], resumed
        assert "lane.granted" not in types(aborted) and "run.dequeued" not in types(aborted)
        assert [t for t in store.lane_tickets() if t.run_id == aborted] == []
        assert ledger.read_text().split() == ["approved"]  # nothing of it ran, nothing undone
    finally:
        client.close()
        store.close()


@pytest.mark.timeout(300)
def test_a_run_started_with_a_secret_never_parks(served: Served, tmp_path: Path) -> None:
    """Its secret's value is in no journal: a resume could not give it again, so the run
    keeps its worker while it waits, and an abort is a request to that live worker."""
    assert served.cli("lane", "set", "deploy", "--max", "0").returncode == 0
    made = served.cli("token", "create", "--name", "alice", "--role", "operator")
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
    served.serve_args = ["--park-after", "0.2s"]
    served.start()
    plan = PLAN.format(name="secret-queued", ledger=tmp_path / "ledger").replace(
        "lane: deploy\n", "lane: deploy\nvars:\n  KEY: {secret: true}\n"
    )
    store = open_journal(served.state_dir)
    try:
        with httpx.Client(base_url=served.url, headers=headers, timeout=60) as client:
            answer = client.post("/api/v1/runs", json={"plan": plan, "vars": {"KEY": "k-123456"}})
            assert answer.status_code == 201, answer.text
            run_id = answer.json()["id"]
            wait_for(lambda: store.get_run(run_id).status == "queued", "the run to queue")
            log = served.state_dir / "runs" / run_id / "worker.log"
            # Several polls of its wait, each of which would have parked it (0.2 s).
            wait_for(lambda: log.exists() and "queued" in log.read_text(), "the worker's note")
            time.sleep(1.5)
            record = store.get_run(run_id)
            assert record.status == "queued" and record.owner is not None
            assert record.owner.alive() is True
            assert "this worker stops" not in log.read_text()
            aborted = client.post(f"/api/v1/runs/{run_id}/abort", json={"reason": "done"})
            assert aborted.status_code == 202, aborted.text
            assert aborted.json()["outcome"] == "requested"  # the live worker takes it
            wait_for(lambda: store.get_run(run_id).status == "rolled_back", "the abort")
    finally:
        store.close()
