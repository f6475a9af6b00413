"""`POST /api/v1/runs/{id}/abort` against a real `phasegate serve` ends the running step and
rolls back within the grace period (issue 10 §2.1), as `phasegate abort` does."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

from phasegate.store.sqlite import SqliteStore
from tests.server.conftest import Served, wait_for

PLAN = """\
version: 1
name: abortable
phases:
  - id: p
    steps:
      - {id: mark, run: "touch MARK", undo: "rm -f MARK"}
      - {id: long, run: "trap '' TERM; echo $$ > PIDFILE; sleep 60 & wait; sleep 60"}
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2] != "Z"


def test_api_abort_kills_the_running_step_after_grace_and_rolls_back(
    served: Served, tmp_path: Path
) -> None:
    created = served.cli("token", "create", "--name", "alice", "--role", "operator")
    assert created.returncode == 0, created.stderr
    served.start()
    pid_file, mark = tmp_path / "long.pid", tmp_path / "marked"
    plan = PLAN.replace("PIDFILE", str(pid_file)).replace("MARK", str(mark))
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as client:
        response = client.post("/api/v1/runs", json={"plan": plan})
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), "the long step")
        pid = int(pid_file.read_text())
        asked = time.time()
        response = client.post(f"/api/v1/runs/{run_id}/abort", json={"grace": 2, "reason": "x"})
        assert response.status_code == 202, response.text
        assert response.json()["outcome"] == "requested"

        def finished() -> dict[str, Any] | None:
            doc: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}").json()
            return doc if doc["run"]["status"] == "rolled_back" else None

        wait_for(finished, "the rollback")
    store = SqliteStore(served.state_dir)
    try:
        events = [(ts, etype, data) for _, ts, etype, data in store.events(run_id)]
    finally:
        store.db.close()
    undo_at = next(ts for ts, e, d in events if e == "item.started" and d["kind"] == "undo")
    # The step ignores SIGTERM: SIGKILL comes at the 2 s grace, and the rollback at once.
    assert 2 - 0.5 <= undo_at - asked < 2 + 1
    assert not _alive(pid)
    long = [d for _, e, d in events if e == "item.finished" and d["key"] == "p/long"][-1]
    assert long["killed"] == {"by": "phasegate", "on": "abort", "signals": ["SIGTERM", "SIGKILL"]}
    abort = next(d for _, e, d in events if e == "run.abort_requested")
    assert (abort["grace"], abort["force"], abort["ending"]) == (2, False, ["p/long"])
    assert not mark.exists()
