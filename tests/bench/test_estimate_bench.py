"""bench/estimate.py runs and reports each part and the ratio to the goal (timings are
reported, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_estimate_bench_reports_the_ratio_to_the_goal() -> None:
    done = subprocess.run(
        [sys.executable, "bench/estimate.py", "--runs", "200", "--sqlite-runs", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "estimate over 200 runs (160 admitted):" in out
    assert "(goal ≤ 1 s: ratio " in out
    assert "backtest (--calibration) over 200 runs" in out and "coverage" in out
    assert "reading history through SQLite:" in out
