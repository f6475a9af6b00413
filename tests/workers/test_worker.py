"""`phasegate submit` queues a run, a `phasegate worker` executes it; a killed worker's run is
taken over by another."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.workers.conftest import Workers


def _plan(path: Path, name: str, ledger: Path, steps: int = 2, sleep: float = 0.0) -> Path:
    body = [f"version: 1\nname: {name}\nphases:\n  - id: deploy\n    steps:\n"]
    for n in range(steps):
        body.append(
            f'      - name: s{n}\n        run: sleep {sleep}; echo "$RUN_ID s{n}" >> {ledger}\n'
        )
    path.write_text("".join(body))
    return path


def _status(workers: Workers, run_id: str) -> str:
    done = workers.cli("status", run_id, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["run"]["status"])


def _wait_for(workers: Workers, run_id: str, statuses: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = _status(workers, run_id)
        if status in statuses:
            return status
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} is {status}, not {statuses}, after {timeout}s")


def test_a_submitted_run_is_executed_by_a_worker(workers: Workers, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    plan = _plan(tmp_path / "p.yaml", "alpha", ledger)
    done = workers.cli("submit", str(plan), "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]
    assert _status(workers, run_id) == "pending"  # nobody executes it yet
    workers.start("--max-runs", "2")
    assert _wait_for(workers, run_id, {"succeeded", "failed"}, 60) == "succeeded"
    lines = ledger.read_text().splitlines()
    assert lines == [f"{run_id} s0", f"{run_id} s1"]
