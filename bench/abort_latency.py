"""Abort latency (issue 10 §2.1): a plan with a 60 s step runs in one `phasegate run` process,
`phasegate abort` comes from another; the journal says when the rollback's first undo started.

    uv run python bench/abort_latency.py [--trials 5]

Reports, per case, the median and worst of (a) abort request written -> first undo started and
(b) `phasegate abort` invoked -> first undo started (b includes the CLI's start-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from phasegate.store.sqlite import SqliteStore

PLAN = """\
version: 1
name: abort-latency
phases:
  - id: p
    steps:
      - {id: mark, run: "touch marked", undo: "rm -f marked"}
      - {id: long, run: "COMMAND"}
"""
CASES = {
    "--grace 3s, the step ends on SIGTERM": ("echo $$ > long.pid; sleep 60", ["--grace", "3s"]),
    "--grace 2s, the step ignores SIGTERM": (
        "trap '' TERM; echo $$ > long.pid; sleep 60 & wait; sleep 60",
        ["--grace", "2s"],
    ),
    "--force": ("trap '' TERM; echo $$ > long.pid; sleep 60 & wait; sleep 60", ["--force"]),
}


def _cli(state: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "phasegate", "--state-dir", str(state), *args]


def trial(command: str, options: list[str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as raw:
        root = Path(raw)
        state, cwd = root / "state", root / "work"
        cwd.mkdir()
        (cwd / "plan.yaml").write_text(textwrap.dedent(PLAN).replace("COMMAND", command))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        run = subprocess.Popen(
            _cli(state, "run", "plan.yaml", "-q"),
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not (cwd / "long.pid").exists() or not (cwd / "long.pid").read_text().strip():
            time.sleep(0.02)
        store = SqliteStore(state)
        run_id = store.db.execute("SELECT id FROM runs").fetchone()[0]
        invoked = time.time()
        abort = _cli(state, "abort", run_id, *options)
        subprocess.run(abort, cwd=cwd, env=env, capture_output=True, check=True)
        run.wait(timeout=120)
        requested = store.db.execute("SELECT created_at FROM requests").fetchone()[0]
        undo = next(
            ts
            for _, ts, etype, data in store.events(run_id)
            if etype == "item.started" and data["kind"] == "undo"
        )
        store.db.close()
        return undo - requested, undo - invoked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    print("| case | request → first undo (median / worst) | invoked → first undo |")
    print("|---|---|---|")
    for name, (command, options) in CASES.items():
        samples = [trial(command, options) for _ in range(args.trials)]
        req = [s[0] for s in samples]
        inv = [s[1] for s in samples]
        print(
            f"| {name} | {statistics.median(req):.2f} / {max(req):.2f} s | "
            f"{statistics.median(inv):.2f} / {max(inv):.2f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
