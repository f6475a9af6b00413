"""A worker that dies while ``phasegate serve`` stays up is noticed and its run resumed, without
any request (issue 10 §2.3). Before, the orphan check ran only at the server's start-up: the
run stayed ``running`` forever with its lock held."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.server.conftest import Served, wait_for


def _token(served: Served) -> str:
    result = served.cli("token", "create", "--name", "alice", "--role", "operator")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _plan(tmp_path: Path) -> str:
    ran, go, second = tmp_path / "ran", tmp_path / "go", tmp_path / "second"
    return f"""\
version: 1
name: monitored
phases:
  - id: p
    steps:
      - id: wait
        run: 'echo ran >> {ran}; for i in $(seq 2400); do [ -f {go} ] && break; sleep 0.05;
          done; [ -f {go} ]'
      - id: second
        run: 'echo second >> {second}'
"""


def test_a_killed_worker_is_resumed_while_the_server_stays_up(
    served: Served, tmp_path: Path
) -> None:
    alice = _token(served)
    served.start()
    client = httpx.Client(headers={"Authorization": f"Bearer {alice}"}, timeout=30)

    def doc(run_id: str) -> dict[str, Any]:
        response = client.get(f"{served.url}/api/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    with client:
        created = client.post(f"{served.url}/api/v1/runs", json={"plan": _plan(tmp_path)})
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        wait_for(
            lambda: doc(run_id)["phases"][0]["items"][0]["status"] == "running",
            "the step to start",
        )
        worker = doc(run_id)["run"]["pid"]
        assert served.proc is not None and worker != served.proc.pid
        os.kill(worker, signal.SIGKILL)

        # No request of any kind: the server notices by itself and resumes the run, whose
        # step (still running, in its own process group) is waited for, not started again.
        def waiting() -> list[str]:
            return [w["message"] for w in doc(run_id)["warnings"] if "waits up to" in w["message"]]

        notes = wait_for(waiting, "the server to resume the run")
        assert "p/wait: its process group" in notes[0]
        (tmp_path / "go").write_text("")
        wait_for(lambda: doc(run_id)["run"]["status"] == "succeeded", "the run to succeed")
        assert served.proc.poll() is None  # the server stayed up throughout
        assert (tmp_path / "ran").read_text() == "ran\n"  # the step ran once
        assert (tmp_path / "second").read_text() == "second\n"
        resumes = doc(run_id)["resumes"]
        assert resumes[0]["after"] == "crashed" and resumes[0]["pid"] != worker
        step = doc(run_id)["phases"][0]["items"][0]
        assert "recovered from the supervisor's record" in step["message"]
    assert served.cli("check").returncode == 0
