"""Where phasegate spends its time in the benchmark's 500-step run, by cProfile.

    uv run python bench/profile.py                  # chain-argv plan, 500 steps
    uv run python bench/profile.py --shape single-phase --steps 200 --top 40
    uv run python bench/profile.py --verb validate   # the 5,000-step plan's validate

Prints the top entries by cumulative and by own time, and keeps the raw profile (``-o``)
for ``python -m pstats`` or snakeviz. cProfile roughly doubles pure-Python time, so read
the shares, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import workloads
from measure import child_env


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--verb", choices=["run", "validate"], default="run")
    p.add_argument(
        "--shape", choices=["chain-argv", "chain-shell", "single-phase"], default="chain-argv"
    )
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("-o", "--output", type=Path, help="where to keep the raw profile")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="phasegate-profile-"))
    marker = work / "FILE"
    marker.write_text("present\n")
    if args.verb == "validate":
        plan = workloads.big_plan(work / "big.yaml", marker)
    elif args.shape == "single-phase":
        plan = workloads.single_phase_plan(work / "plan.yaml", args.steps, marker)
    else:
        plan = workloads.chain_plan(
            work / "plan.yaml", args.steps, marker, shell_steps=args.shape == "chain-shell"
        )
    out = args.output or work / "profile.out"
    argv = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(out),
        "-m",
        "phasegate",
        "--state-dir",
        str(work / "state"),
        args.verb,
        str(plan),
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        argv,
        cwd=work,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return 1
    print(f"{args.verb} of {plan.name}: {wall:.2f}s wall under cProfile; profile in {out}")
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
