"""`resume --at` (issue 13 §6's sandbox clock, on resume too): a run started with `run --at`
inside a window that is closed in real time, paused, then resumed. Without --at the resumed
run reads the real time, so its next phase waits for the window; with --at it reads the
given time (journalled as a warning) and the phase runs. Real `phasegate` processes."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from tests.conftest import CLI, write_plan

PLAN = """
    version: 1
    name: demo
    windows:
      timezone: UTC
      allow:
        - {dates: ["2030-01-07"]}
    phases:
      - id: prepare
        steps:
          - {id: ask, pause: approve}
      - id: deploy
        needs: [prepare]
        steps:
          - {id: push, run: "echo pushed >> ledger"}
"""
OPEN = "2030-01-07T10:00:00Z"


def _waiting(cli: CLI) -> dict[str, Any] | None:
    result = cli("status", "last", "--json")
    if result.returncode != 0:
        return None
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc if doc["run"]["status"] == "waiting" else None


def test_resume_at_reads_the_given_time_and_without_it_the_real_one(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    first = cli("run", str(plan), "--at", OPEN)
    assert first.returncode == 4, first.stderr  # paused at `ask`, inside the shifted window
    run_id = cli.status()["run"]["id"]
    assert cli("approve", run_id).returncode == 0
    # Without --at: real time, the window is closed, `deploy` waits (never fails).
    proc = cli.spawn("resume", run_id)
    try:
        deadline = time.monotonic() + 90
        found = None
        while found is None and time.monotonic() < deadline:
            found = _waiting(cli)
            time.sleep(0.2)
        assert found is not None, "the resumed run never waited"
        wait = found["wait"]
        assert (wait["phase"], wait["next_open"]) == ("deploy", None)  # not within 400 days
        assert "no allow rule matches" in wait["why"]
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not (cli.cwd / "ledger").exists()
    # With --at: the shifted clock reads the open window; the phase runs.
    done = cli("resume", run_id, "--at", "2030-01-07T11:00:00Z")
    assert done.returncode == 0, done.stderr
    assert "clock is shifted (resume --at)" in done.stderr
    assert (cli.cwd / "ledger").read_text() == "pushed\n"
    warnings = [w["message"] for w in cli.status(run_id)["warnings"]]
    assert any("(run --at)" in w and "2030-01-07T10:00:00Z" in w for w in warnings)
    assert any("(resume --at)" in w and "2030-01-07T11:00:00Z" in w for w in warnings)
