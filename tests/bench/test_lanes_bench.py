"""bench/lanes.py runs and reports its numbers (timings are reported, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lanes_bench_reports_the_decision_the_grant_and_the_poll() -> None:
    code = "import sys; sys.path.insert(0, 'bench'); import lanes; lanes.main(200, 50, 5)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("grants, 200 queued, caps only: median ")
    assert "(4 granted; goal ≤ 1 ms)" in lines[0]  # one free slot in each of the four lanes
    assert lines[1].startswith("grants, 200 queued, pool 12 (fair share): median ")
    assert "(1 granted; goal ≤ 1 ms)" in lines[1]  # 11 of the pool's 12 slots are held
    assert lines[2].startswith("SQLite lane_request (the grant transaction), 200 queued: ")
    assert lines[3].startswith("SQLite lane_place (a queued run's poll), 200 queued: ")
