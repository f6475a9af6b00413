"""Issue 15's crash acceptance at full size: 30 kill -9s of the controller during batches over
real sshd, each followed by resume (tests/fleet/test_fleet_crash.py, which the suite runs with
8 trials to stay within its time budget). Prints pytest's summary: every trial must pass (no
(host, step) twice, host items settled from the supervisor records), then the counts over
all trials: how many killed the controller (the others finished first), host items resolved
from the hosts' supervisor records, items found never started on their host (run again),
items left unknown for a human (no record: the command never reached the host), and (host,
step) pairs that ran twice (always 0 when every trial passed).

Run: ``uv run python bench/fleet_crash.py [TRIALS]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(trials: int = 30) -> int:
    began = time.monotonic()
    report = Path(tempfile.mkstemp(prefix="fleet-crash-", suffix=".jsonl")[1])
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
        env={**os.environ, "FLEET_CRASH_TRIALS": str(trials), "FLEET_CRASH_REPORT": str(report)},
        check=False,
    )
    rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    report.unlink()
    totals = {
        "trials": trials,
        "passed": len(rows),
        "killed": sum(1 for r in rows if r["killed"]),
        "recovered_from_records": sum(r["recovered"] for r in rows),
        "never_started_rerun": sum(r["never_started"] for r in rows),
        "unknown_for_a_human": sum(r["unknown"] for r in rows),
        "host_steps_started": sum(r["host_steps"] for r in rows),
        "ran_twice": sum(r["twice"] for r in rows),
        "seconds": round(time.monotonic() - began),
        "exit": done.returncode,
    }
    print(json.dumps(totals))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
