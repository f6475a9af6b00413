"""Issue 15's crash acceptance at full size: 30 kill -9s of the controller during batches over
real sshd, each followed by resume (tests/fleet/test_fleet_crash.py, which the suite runs with
8 trials to stay within its time budget). Prints pytest's summary: every trial must pass (no
(host, step) twice, host items settled from the supervisor records).

Run: ``uv run python bench/fleet_crash.py [TRIALS]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(trials: int = 30) -> int:
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/fleet/test_fleet_crash.py",
        ],
        cwd=ROOT,
        env={**os.environ, "FLEET_CRASH_TRIALS": str(trials)},
        check=False,
    )
    print(
        f"{trials} fleet crash trials in {time.monotonic() - began:.0f} s: exit {done.returncode}"
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
