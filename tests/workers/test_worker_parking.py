"""`phasegate worker --max-runs 1` on PostgreSQL: runs queued for a lane slot park (their child
process ends, the run keeps its place) so a run of another lane executes on the one worker
while they wait; the worker's scanner grants their slots and resumes them in the lane's
order once the holder finishes, each exactly once (docs/lanes.md, "Parked runs")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from phasegate.store.postgres import PostgresStore
from tests.workers.conftest import ROOT, Workers


def _plan(path: Path, name: str, lane: str, ledger: Path, before: str = "") -> Path:
    path.write_text(
        f"version: 1\nname: {name}\nlane: {lane}\nphases:\n  - id: work\n    steps:\n"
        f"      - run: {before}echo {name} >> {ledger}\n"
    )
    return path


def _until(what: str, predicate: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_queued_runs_park_on_a_worker_and_resume_in_order(workers: Workers, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    release = tmp_path / "release"
    assert workers.cli("lane", "set", "L1", "--max", "1").returncode == 0
    store = PostgresStore(workers.url, state_dir=workers.state)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "phasegate",
            "--state-dir",
            str(workers.state),
            "run",
            str(
                _plan(
                    tmp_path / "a.yaml",
                    "run-a",
                    "L1",
                    ledger,
                    before=f"while [ ! -e {release} ]; do sleep 0.1; done; ",
                )
            ),
        ],
        env=workers.env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _until(
            "run A to hold L1",
            lambda: any(t.lane == "L1" and t.granted for t in store.lane_tickets()),
        )

        def submit(name: str, lane: str) -> str:
            path = _plan(tmp_path / f"{name}.yaml", name, lane, ledger)
            done = workers.cli("submit", str(path), "--json")
            assert done.returncode == 0, done.stderr
            run_id: str = json.loads(done.stdout)["run"]
            return run_id

        def parked(run_id: str) -> bool:
            record = store.get_run(run_id)
            return record.status == "queued" and record.owner is None

        workers.start("--max-runs", "1", "--park-after", "0.3s", "--takeover-within", "2")
        run_b = submit("run-b", "L1")
        _until("B to park", lambda: parked(run_b))
        run_c = submit("run-c", "L1")
        _until("C to park", lambda: parked(run_c))
        run_d = submit("run-d", "L2")
        _until("D to succeed on the one worker", lambda: store.get_run(run_d).status == "succeeded")
        assert parked(run_b) and parked(run_c)
        assert ledger.read_text().split() == ["run-d"]
        release.touch()
        _until("C to succeed", lambda: store.get_run(run_c).status == "succeeded", timeout=180)
        assert holder.wait(timeout=60) == 0
        assert store.get_run(run_b).status == "succeeded"
        assert ledger.read_text().split() == ["run-d", "run-a", "run-b", "run-c"]
        for run_id in (run_b, run_c):
            events = store.events(run_id)
            resumes = [e.data.get("after") for e in events if e.type == "run.resumed"]
            assert resumes and set(resumes) == {"parked"}, resumes
            assert [e.type for e in events].count("item.started") == 1
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)
        store.close()
