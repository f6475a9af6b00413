"""SIGKILL the engine at random instants; resume must never re-run a finished step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.crash_harness import run_trial, soak
from tests.store.pg_cluster import database_url

TRIALS = int(os.environ.get("PHASEGATE_CRASH_TRIALS", "30"))
SEED = 20261121


@pytest.mark.slow
@pytest.mark.parametrize("n", range(TRIALS))
def test_kill_minus_nine_then_resume(tmp_path: Path, n: int) -> None:
    trial = run_trial(tmp_path, SEED + n, fail=n % 2 == 1)
    assert not trial.problems, (trial, trial.choices)


PG_TRIALS = int(os.environ.get("PHASEGATE_CRASH_TRIALS_PG", "8"))


@pytest.mark.slow
@pytest.mark.parametrize("n", range(PG_TRIALS))
def test_kill_minus_nine_then_resume_on_postgresql(
    postgres_server: str, tmp_path: Path, n: int
) -> None:
    """The same trials on the PostgreSQL store (issue 12 §6): the engine's durability rules
    do not depend on the store, and a killed owner's session frees the run at once."""
    url = database_url(tmp_path / "db")
    trial = run_trial(tmp_path / "trial", SEED + 1000 + n, fail=n % 2 == 1, store_url=url)
    assert not trial.problems, (trial, trial.choices)


def test_a_small_soak_duplicates_nothing_and_settles_unknowns_by_itself() -> None:
    """Issue 10 §2.2: ten trials of the soak (bench/crash_soak.py). Half the kills land while
    a step runs: resume waits for it and takes its supervisor's record instead of asking a
    human (before, every such kill left an unknown for a human)."""
    result = soak(10, SEED, verbose=False)
    assert result.trials == 10
    assert result.duplicated == 0, result.summary()
    assert result.lost == 0, result.summary()
    assert result.violations == 0, result.summary()
    assert result.kills_mid_step >= 1, result.summary()
    assert result.recovered >= 1, result.summary()
