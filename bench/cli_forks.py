"""The test suite's forked commands (tests/cli_forks.py) against a fresh interpreter per command.

    uv run python bench/cli_forks.py [--rounds 10]

Each round runs `status --json`, `validate` and `run` of a one-step plan both ways, one right
after the other, so load from other tenants of a shared machine falls on both alike. Prints
the summed wall time of each and the ratio (fresh / forked). The first forked command starts
the zygote (its warm-up, ~2.5 s of CPU once per pytest process) before the rounds begin.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import cli_forks  # noqa: E402 (the repository root first)

PLAN = 'version: 1\nname: t\nphases:\n  - id: a\n    steps: [{run: "true"}]\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "p.yaml").write_text(PLAN)
        env = {**os.environ, "PHASEGATE_HOME": str(cwd / "state"), "NO_COLOR": "1"}
        warm = time.perf_counter()
        cli_forks.run(["run", "p.yaml"], cwd=cwd, env=env, timeout=300, input=None)
        print(f"zygote start + first command: {time.perf_counter() - warm:.1f} s")
        fresh = forked = 0.0
        commands = [["status", "last", "--json"], ["validate", "p.yaml"], ["run", "p.yaml"]]
        for _ in range(rounds):
            for args in commands:
                t = time.perf_counter()
                argv = [sys.executable, "-m", "phasegate", *args]
                subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
                fresh += time.perf_counter() - t
                t = time.perf_counter()
                done = cli_forks.run(args, cwd=cwd, env=env, timeout=300, input=None)
                assert done.returncode == 0, done.stderr
                forked += time.perf_counter() - t
    n = rounds * len(commands)
    print(f"{n} commands each way, interleaved; load {os.getloadavg()[0]:.1f}")
    ratio = fresh / forked
    print(f"fresh interpreter: {fresh:.1f} s   forked: {forked:.1f} s   ratio {ratio:.1f}x")


if __name__ == "__main__":
    main()
