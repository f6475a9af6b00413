"""Two phasegate source trees side by side on the engine workload, against bash.

    uv run python bench/engine_ab.py --base /tmp/base/src [--steps 500] [--reps 7]
    uv run python bench/engine_ab.py --base /tmp/base/src --store postgresql

``--base`` is another checkout's ``src`` directory (``git archive REV | tar -x -C DIR``); the
candidate is this checkout's ``src``. Both run with this venv's interpreter (``python -m
phasegate`` with ``PYTHONPATH`` set to the tree), so only the source differs. Each round runs
bash, base and candidate once, in an order rotated from round to round, so that load from
other tenants of a shared machine falls on all three alike; figures are medians.

Two figures per case: wall time, and CPU time (user + system of the process and every child
it waited for, from ``wait4``). On a loaded machine wall time mostly measures the other
tenants; CPU time is what the work itself costs and moves far less with the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import workloads
from measure import child_env, interleaved

SRC = Path(__file__).resolve().parent.parent / "src"


def run(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one command; raises when it fails."""
    with open(out, "wb") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]}... failed ({proc.returncode}); output in {out}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", type=Path, required=True, help="the other tree's src directory")
    p.add_argument("--candidate", type=Path, default=SRC, help="default: this checkout's src")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--shape", choices=["chain-argv", "single-phase"], default="chain-argv")
    p.add_argument("--store", help="a --store URL (PostgreSQL); default: SQLite in a state dir")
    p.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL (fsync on, 127.0.0.1; tests/store/pg_cluster.py) "
        "and use it as the store",
    )
    args = p.parse_args()
    cluster = None
    if args.postgres:
        sys.path.insert(0, str(SRC.parent))
        from tests.store.pg_cluster import start_cluster

        cluster = start_cluster(durable=True)
        args.store = cluster.url()
    try:
        return compare(args)
    finally:
        if cluster is not None:
            cluster.stop()


def compare(args: argparse.Namespace) -> int:

    work = Path(tempfile.mkdtemp(prefix="phasegate-ab-"))
    marker = work / "FILE"
    marker.write_text("present\n")
    if args.shape == "chain-argv":
        plan = workloads.chain_plan(work / "plan.yaml", args.steps, marker)
    else:
        plan = workloads.single_phase_plan(work / "plan.yaml", args.steps, marker)
    script = workloads.bash_script(work / "baseline.sh", args.steps, marker)
    counter = 0

    def phasegate(tree: Path) -> tuple[float, float]:
        nonlocal counter
        counter += 1
        where = ["--store", args.store] if args.store else []
        argv = [sys.executable, "-m", "phasegate", "--state-dir", str(work / f"s{counter}")]
        env = child_env(PYTHONPATH=str(tree))
        return run([*argv, *where, "run", str(plan)], env, work / f"out{counter}")

    cases = {
        "bash": lambda: run(["bash", str(script)], child_env(), work / "bash.out"),
        "base": lambda: phasegate(args.base.resolve()),
        "candidate": lambda: phasegate(args.candidate.resolve()),
    }
    for name in ("base", "candidate"):  # warm the bytecode caches; not measured
        cases[name]()
    names = list(cases)
    wall, cpu = interleaved(cases, args.reps)
    med = {n: (statistics.median(wall[n]), statistics.median(cpu[n])) for n in names}
    bw, bc = med["bash"]
    print(f"{args.shape}, {args.steps} steps, {args.reps} rounds, store {args.store or 'sqlite'}")
    print("case       wall     x bash   cpu      x bash   (min-max wall)")
    for n in names:
        w, c = med[n]
        print(
            f"{n:10} {w:6.2f}s  {w / bw:5.2f}x  {c:6.2f}s  {c / bc:5.2f}x   "
            f"({min(wall[n]):.2f}-{max(wall[n]):.2f})"
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
