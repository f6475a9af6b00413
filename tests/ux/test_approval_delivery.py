"""An approval given while the process that holds the run is letting it go (a worker that has
just journalled the pause and is about to release the run, and lives on to take other runs)
is never left pending with nobody to act on it: the approver waits for that process to take
it, and when the process lets the run go without taking it the approval is withdrawn and
journalled by the approver itself, so the run is approved and resumable (found by the suite:
an approval through a second server was left pending and the run stayed paused forever)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.ux.helpers import events

PLAN = """
version: 1
name: handover
on_failure: pause
phases:
  - id: p
    steps: [{id: ship, run: "touch deployed", undo: "rm deployed"}]
    gates:
      - {manual: "Go / no-go", id: go}
  - id: after
    needs: [p]
    steps: [{run: "touch after"}]
"""

# A process that holds the run the way a queue worker does between journalling a pause and
# releasing the run: it owns the run, sees the request arrive, lets the run go WITHOUT taking
# the request, and stays alive (the worker goes on to other runs).
HOLDER = """
import sys, time
from pathlib import Path
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore

state_dir, run_id, marker = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
store = SqliteStore(state_dir)
me = Owner.me()
store.claim(run_id, me)
marker.write_text("claimed")
deadline = time.monotonic() + 60
while not store.take_requests(run_id) and time.monotonic() < deadline:
    time.sleep(0.02)
store.release(run_id, owner=me)
marker.write_text("released")
time.sleep(120)
"""


def _wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.read_text() == text:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never said {text!r}")


def test_an_approval_the_holder_lets_go_of_is_journalled_not_left_pending(
    cli: CLI, tmp_path: Path
) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan)).returncode == 4  # paused at the gate
    run_id = SqliteStore(cli.state_dir).get_run("last").id
    marker = tmp_path / "holder"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(cli.state_dir), run_id, str(marker)],
        env=cli.env(),
    )
    try:
        _wait_for(marker, "claimed")
        approved = cli("approve", run_id, "--comment", "go")
        _wait_for(marker, "released")
        assert holder.poll() is None  # the holder lives on: its pid alone says nothing
        assert approved.returncode == 0, approved.stderr

        store = SqliteStore(cli.state_dir)
        granted = [d for t, d in events(cli, run_id) if t == "approval.granted"]
        assert [(g["key"], g["comment"]) for g in granted] == [("p/gate:go", "go")]
        assert store.take_requests(run_id) == []  # withdrawn: nobody acts on it a second time
        gate = store.load_state(run_id).items["p/gate:go"]
        assert gate.status != "awaiting_approval"
        assert store.get_run(run_id).owner is None

        # And the run goes on from the approval: the next phase runs, the gate is not asked again.
        resumed = cli("resume", run_id)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert (cli.cwd / "after").exists()
        status = json.loads(cli("status", run_id, "--json").stdout)
        assert status["run"]["status"] == "succeeded"
        granted = [d for t, d in events(cli, run_id) if t == "approval.granted"]
        assert len(granted) == 1
    finally:
        holder.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            holder.wait(timeout=10)
