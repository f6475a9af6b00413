"""Ending post-rollout monitoring early as succeeded (docs/monitoring.md): `phasegate monitor
finish RUN` on a real run (real subprocesses, real SQLite) and `POST …/monitoring/finish`
through the server, on SQLite and on PostgreSQL (the monitoring engine path on a shared
store): the operator role only, journalled with who and why, the checks left are not run."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.conftest import CLI, write_plan
from tests.server import conftest as server_fixtures
from tests.server.conftest import Api, wait_for

# The server's `api` fixture, once per store in STORES (tests/server/conftest.py).
api = server_fixtures.api
pytest_generate_tests = server_fixtures.pytest_generate_tests

STORES = ("sqlite", "postgres")

MONITORED = """\
version: 1
name: watched-long
phases:
  - id: deploy
    steps:
      - {id: push, run: "echo pushed >> ledger"}
monitor:
  checks:
    - {id: alive, command: "true"}
  schedule:
    - {every: 0.5s, for: 10m}
  on_failure: alert
"""


def _monitoring(cli: CLI) -> dict[str, Any] | None:
    result = cli("status", "last", "--json")
    if result.returncode != 0:
        return None
    doc: dict[str, Any] = json.loads(result.stdout)
    monitoring = doc.get("monitoring") or {}
    ok = doc["run"]["status"] == "monitoring" and monitoring.get("evaluations", 0) >= 2
    return doc if ok else None


def test_monitor_finish_ends_a_live_runs_monitoring_as_succeeded(cli: CLI) -> None:
    plan = write_plan(cli.cwd, MONITORED)
    proc = cli.spawn("run", str(plan))
    try:
        deadline = time.monotonic() + 90
        doc = None
        while doc is None and time.monotonic() < deadline:
            doc = _monitoring(cli)
            time.sleep(0.3)
        assert doc is not None, "the run never reached monitoring"
        run_id = doc["run"]["id"]
        missing = cli("monitor", "finish", run_id)
        assert missing.returncode == 2 and "--reason" in missing.stderr  # a reason is required
        done = cli("monitor", "finish", run_id, "--reason", "flat for an hour, closing CHG-7")
        assert done.returncode == 0, done.stderr
        assert f"monitoring of {run_id} ended early by" in done.stdout
        assert "the process executing the run finishes it" in done.stdout
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    final = cli.status(run_id)
    assert final["run"]["status"] == "succeeded"
    monitoring = final["monitoring"]
    assert 2 <= monitoring["evaluations"] < monitoring["slots"] == 1200
    decision = final["decisions"][-1]
    assert decision["key"] == "monitor:finish"
    assert decision["comment"] == "flat for an hour, closing CHG-7"
    assert decision["by"].split("@")[0] == final["run"]["user"]
    # A finished run is not monitoring: refused, exit 2.
    again = cli("monitor", "finish", run_id, "--reason", "again")
    assert again.returncode == 2 and "not monitoring" in again.stderr
    assert cli("check").returncode == 0


def test_the_api_finishes_monitoring_for_operators_only(api: Api) -> None:
    started = api.post("/api/v1/runs", "alice", json={"plan": MONITORED})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]

    def monitoring() -> dict[str, Any] | None:
        doc: dict[str, Any] = api.get(f"/api/v1/runs/{run_id}").json()
        seen = doc.get("monitoring") or {}
        return doc if doc["run"]["status"] == "monitoring" and seen.get("evaluations") else None

    wait_for(monitoring, "the run to be monitoring")
    url = f"/api/v1/runs/{run_id}/monitoring/finish"
    body = {"reason": "seen enough"}
    assert api.post(url, "viewer", json=body).status_code == 403
    assert api.client.post(url, json=body).status_code == 401
    assert api.post(url, "alice", json={}).status_code == 422  # no reason
    done = api.post(url, "alice", json=body)
    assert done.status_code == 200, done.text
    assert done.json()["action"] == "finish_monitoring"
    assert done.json()["keys"] == ["monitor:finish"]
    final = api.wait_status(run_id, "succeeded")
    assert final["monitoring"]["evaluations"] < final["monitoring"]["slots"]
    decision = final["decisions"][-1]
    assert (decision["key"], decision["by"], decision["comment"]) == (
        "monitor:finish",
        "token:alice",
        "seen enough",
    )
    late = api.post(url, "alice", json=body)
    assert late.status_code == 409, late.text
