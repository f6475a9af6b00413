"""bench/policy_eval.py runs on a small plan and reports every line (timings are reported,
never asserted); its plan is clean, so the bench also checks no false positive at size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_policy_bench_reports_each_language_and_the_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "bench/policy_eval.py", "4", "10", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("starter pack on a 40-step plan")
    assert len(lines) == 7 and all("ratio to goal" in line for line in lines[1:])
