"""SIGKILL the engine at random instants; resume must never re-run a finished step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.crash_harness import run_trial

TRIALS = int(os.environ.get("PHASEGATE_CRASH_TRIALS", "30"))
SEED = 20261121


@pytest.mark.slow
@pytest.mark.parametrize("n", range(TRIALS))
def test_kill_minus_nine_then_resume(tmp_path: Path, n: int) -> None:
    trial = run_trial(tmp_path, SEED + n, fail=n % 2 == 1)
    assert not trial.problems, (trial, trial.choices)
