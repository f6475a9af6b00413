"""Post-rollout monitoring under ``phasegate serve`` (issue 13 §3): a run monitoring in the
server's worker survives a kill -9 of the server and its worker; the restarted server's
takeover resumes it and the schedule continues after the last journalled check (one anchor,
never from slot 1). The API's run document shows the monitoring."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import httpx
from canary_lab.process import descendants, reap

from phasegate.store.sqlite import SqliteStore
from tests.server.conftest import Served, wait_for

PLAN = """
version: 1
name: watched
phases:
  - id: deploy
    steps:
      - {id: push, run: 'true'}
monitor:
  checks:
    - {id: alive, command: 'true'}
  schedule:
    - {every: 0.5s, for: 12s}
"""


def _events(served: Served, run_id: str, etype: str) -> list[dict[str, Any]]:
    store = SqliteStore(served.state_dir, readonly=True)
    try:
        return [e.data for e in store.events(run_id) if e.type == etype]
    finally:
        store.close()


def test_a_monitoring_run_is_resumed_by_the_restarted_server_where_its_schedule_was(
    served: Served,
) -> None:
    created_token = served.cli("token", "create", "--name", "alice", "--role", "operator")
    assert created_token.returncode == 0, created_token.stderr
    served.start()
    headers = {"Authorization": f"Bearer {created_token.stdout.strip()}"}
    with httpx.Client(headers=headers, timeout=30) as client:

        def doc(run_id: str) -> dict[str, Any]:
            response = client.get(f"{served.url}/api/v1/runs/{run_id}")
            assert response.status_code == 200, response.text
            found: dict[str, Any] = response.json()
            return found

        created = client.post(f"{served.url}/api/v1/runs", json={"plan": PLAN})
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        seen = wait_for(
            lambda: (
                (d := doc(run_id))["run"]["status"] == "monitoring"
                and d["monitoring"]["done"] >= 2
                and d
            ),
            "two monitoring checks",
        )
        monitoring = seen["monitoring"]
        assert monitoring["slots"] == 24 and monitoring["state"] == "monitoring"
        assert monitoring["next_due"] > monitoring["started_at"]
        # The whole machine crashes, as far as the run can tell: server and worker.
        assert served.proc is not None
        doomed = [served.proc.pid, *descendants(served.proc.pid)]
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):  # one may have ended meanwhile
                os.kill(pid, signal.SIGKILL)
        served.proc.wait(timeout=30)
        served.proc = None
        wait_for(
            lambda: (reap(), not any(Path(f"/proc/{p}").exists() for p in doomed))[1],
            "the killed processes to be gone",
        )
        before = _events(served, run_id, "monitoring.checked")
        last = before[-1]["slot"]

        served.start()  # its takeover resumes the run whose worker died

        wait_for(lambda: doc(run_id)["run"]["status"] == "succeeded", "the schedule's end")
        final = doc(run_id)
    after = _events(served, run_id, "monitoring.checked")[len(before) :]
    slots = [c["slot"] for c in after]
    assert slots and slots[0] > last and slots[-1] == 24
    assert slots == sorted(set(slots))
    assert len(_events(served, run_id, "monitoring.started")) == 1
    assert final["resumes"] and final["resumes"][0]["after"] == "crashed"
    assert final["monitoring"]["state"] == "completed"
    assert final["monitoring"]["done"] == len(before) + len(after)
    check = served.cli("check")
    assert check.returncode == 0, check.stdout


PARKING = """
version: 1
name: parked
phases:
  - id: deploy
    steps:
      - {id: push, run: 'true'}
monitor:
  checks:
    - {id: alive, command: 'true'}
  schedule:
    - {every: 4s, for: 10m}
"""
QUICK = """
version: 1
name: quick
phases:
  - id: ship
    steps:
      - {id: go, run: 'true'}
"""


def test_a_monitoring_run_gives_its_worker_back_between_checks(served: Served) -> None:
    """``serve --workers 1``: a run monitoring every 4 s parks between checks (no process
    owns it; the only worker is free), so a second run starts and succeeds while the first
    is still monitoring; the server resumes the parked run for each check, never before it is
    due, each slot after the last (the schedule continues, never restarts), also after a
    kill -9 of the server while the run is parked; an operator's early finish of the parked
    run ends it as succeeded."""
    served.serve_args = ["--workers", "1"]
    token = served.cli("token", "create", "--name", "alice", "--role", "operator")
    assert token.returncode == 0, token.stderr
    served.start()
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}

    def parked(run_id: str) -> bool:
        store = SqliteStore(served.state_dir, readonly=True)
        try:
            record = store.get_run(run_id)
        finally:
            store.close()
        return record.status == "monitoring" and record.owner is None

    with httpx.Client(headers=headers, timeout=30) as client:

        def status(run_id: str) -> str:
            response = client.get(f"{served.url}/api/v1/runs/{run_id}")
            assert response.status_code == 200, response.text
            found: str = response.json()["run"]["status"]
            return found

        created = client.post(f"{served.url}/api/v1/runs", json={"plan": PARKING})
        assert created.status_code == 201, created.text
        watched = created.json()["id"]
        wait_for(lambda: parked(watched), "the monitoring run to park", attempts=600)
        shown = served.cli("status", watched).stdout
        assert "MONITORING (parked until its next check" in shown, shown

        second = client.post(f"{served.url}/api/v1/runs", json={"plan": QUICK})
        assert second.status_code == 201, second.text
        quick = second.json()["id"]
        wait_for(lambda: status(quick) == "succeeded", "the second run on the one worker")
        assert status(watched) == "monitoring"  # 10 min of checks: far from done

        wait_for(
            lambda: len(_events(served, watched, "monitoring.checked")) >= 1 and parked(watched),
            "a check by a resumed worker, then parked again",
        )
        # kill -9 of the server while the run is parked; the next server resumes it when due.
        served.stop(signal.SIGKILL)
        before = len(_events(served, watched, "monitoring.checked"))
        served.start()
        wait_for(
            lambda: len(_events(served, watched, "monitoring.checked")) > before,
            "a check resumed by the restarted server",
        )
        finished = client.post(
            f"{served.url}/api/v1/runs/{watched}/monitoring/finish",
            json={"reason": "seen enough"},
        )
        assert finished.status_code == 200, finished.text
        wait_for(lambda: status(watched) == "succeeded", "the early finish")

    started = _events(served, watched, "monitoring.started")
    assert len(started) == 1
    anchor = float(started[0]["at"])
    checks = _events(served, watched, "monitoring.checked")
    # One schedule, continued: each check is the slot after the last one, passing over the
    # slots missed meanwhile (a loaded host may start a worker late), never from 1 again.
    previous = 0
    for check in checks:
        assert check["slot"] == previous + 1 + check["missed"], checks
        previous = check["slot"]
    for check in checks:  # never early: the slot's time on the one schedule had come
        assert float(check["at"]) >= anchor + 4.0 * check["slot"]
    # Resumed from parked (never as crashed: no worker died), before the kill -9 and by the
    # restarted server. (A worker that started late may check twice before it parks.)
    resumes = [r["after"] for r in _events(served, watched, "run.resumed")]
    assert resumes == ["parked"] * len(resumes) and len(resumes) >= 2
