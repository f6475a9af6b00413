"""Crash soak of programs: kill -9 of the parent engine at random instants, resume, verify
that no child step or undo ran twice and every completed child was undone once on failure
(tests/program_crash_harness.py). The unit suite runs 5 trials; this runs more, and counts
only trials where a kill landed (a program can finish before its random kill instant):

    uv run python bench/program_crash.py --trials 30

runs trials until 30 of them killed the parent at least once (at most 3 x 30 trials), and
prints the trials, killed trials, kills, resumes, trials with problems (each named), and
which way the programs ended.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.program_crash_harness import run_trial


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    started = time.monotonic()
    ran = killed = failed = kills = resumes = 0
    ended: dict[str, int] = {}
    while killed < args.trials and ran < 3 * args.trials:
        with tempfile.TemporaryDirectory() as tmp:
            trial = run_trial(Path(tmp), args.seed + ran)
        ran += 1
        killed += trial.kills > 0
        kills += trial.kills
        resumes += trial.resumes
        ended[trial.status] = ended.get(trial.status, 0) + 1
        if trial.problems:
            failed += 1
        print(
            f"trial {trial.seed}: {trial.kills} kills, {trial.resumes} resumes, ended "
            f"{trial.status}, problems: {trial.problems or 'none'}",
            flush=True,
        )
    took = time.monotonic() - started
    endings = ", ".join(f"{n} {status}" for status, n in sorted(ended.items()))
    print(
        f"{ran} trials ({killed} with the parent killed), {kills} kills, {resumes} resumes, "
        f"{failed} with problems ({endings}), {took:.0f}s"
    )
    return 1 if failed or killed < args.trials else 0


if __name__ == "__main__":
    sys.exit(main())
