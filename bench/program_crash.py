"""Crash soak of programs: kill -9 of the parent engine at random instants, resume, verify
that no child step or undo ran twice and every completed child was undone once on failure
(tests/program_crash_harness.py). The unit suite runs 10 trials; this runs more:

    uv run python bench/program_crash.py --trials 30
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
    failed = kills = resumes = 0
    for n in range(args.trials):
        with tempfile.TemporaryDirectory() as tmp:
            trial = run_trial(Path(tmp), args.seed + n)
        kills += trial.kills
        resumes += trial.resumes
        if trial.problems:
            failed += 1
            print(f"trial {trial.seed}: {trial.problems}", flush=True)
    took = time.monotonic() - started
    print(
        f"{args.trials} trials, {kills} kills, {resumes} resumes, {failed} with problems, "
        f"{took:.0f}s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
