"""kill -9 of a program's parent engine at random instants, then resume: no child step or
undo runs twice, one child run per phase, every completed child undone once on failure.
(bench/program_crash.py runs more trials.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.program_crash_harness import run_trial

TRIALS = 5  # the suite's share; bench/program_crash.py runs 30


@pytest.mark.parametrize("seed", range(TRIALS))
def test_parent_killed_resume_runs_no_child_step_twice(tmp_path: Path, seed: int) -> None:
    trial = run_trial(tmp_path, seed, fail=seed % 2 == 1)
    assert not trial.problems, (trial, (tmp_path / "ledger.txt").read_text())
