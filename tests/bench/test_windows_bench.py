"""bench/windows_eval.py runs and reports its numbers (timings are reported, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_windows_bench_reports_per_check_and_per_search() -> None:
    code = (
        "import sys; sys.path.insert(0, 'bench'); import windows_eval; windows_eval.main(2000, 20)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("is_open: ") and "µs per check over 2000 instants" in lines[0]
    assert lines[1].startswith("next_open/next_close: ") and "over 40 calls" in lines[1]
    assert lines[2].startswith("waiting run's poll, 1 held phase(s): ")
    assert lines[3].startswith("waiting run's poll, 1000 held phase(s): ")
    assert all("x decide without windows)" in line for line in lines[2:4])
