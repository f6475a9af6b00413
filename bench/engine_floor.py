"""The floor of any engine that commits a step's start durably before it spawns, on this machine.

    uv run python bench/engine_floor.py [--steps 500] [--reps 7] [--tree DIR/src]

Five cases side by side, each round in a rotated order (figures are medians of the rounds):

(i)   ``bash``: the baseline loop, ``2 x steps`` spawns of ``/usr/bin/true`` and
      ``/usr/bin/test -f MARKER`` one after the other (workloads.bash_script);
(ii)  ``python-spawn``: one Python process spawning the same children with nothing else, as the
      engine spawns a gate (``subprocess.Popen`` with stdout and stderr pipes read to their end,
      the child's environment passed, its working directory set, then reaped);
(iii) ``python-spawn+commit``: (ii) plus, before each step's spawn, one durable SQLite commit
      with the journal's settings (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``; one event
      row of ~200 bytes inserted and the run row updated): what the rule "a step's start is
      committed before its spawn" costs at the least;
(iv)  ``phasegate-1``: a 1-step phasegate run (the fixed cost: interpreter, imports, plan load,
      journal creation);
(v)   ``phasegate``: the full engine on the chain-argv plan (``steps`` phases of one step and
      one gate).

(ii) and (iii) are Python scripts started with the same interpreter (its start-up, ~20 ms, is
in their figures, as it is in phasegate's). Two figures per case: wall time and CPU time (user +
system of the process and every child it waited for, from ``wait4``); on a shared machine
read the CPU column and the ratios.
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

# The Python floor: no phasegate code at all. argv: steps marker workdir [db]
FLOOR = r"""
import json, os, sqlite3, subprocess, sys, time
steps, marker, cwd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
db = None
if len(sys.argv) > 4:
    db = sqlite3.connect(sys.argv[4], isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, last_seq INTEGER, summary TEXT)")
    db.execute("CREATE TABLE events (run_id TEXT, seq INTEGER, ts REAL, type TEXT, "
               "data TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID")
    db.execute("INSERT INTO runs VALUES ('r', 0, '{}')")
env = dict(os.environ, PHASEGATE_RUN_ID="r")

def spawn(argv):
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{argv} failed")

for i in range(steps):
    if db is not None:
        data = json.dumps({"phase": f"p{i:05d}", "item": "step:0", "attempt": 1,
                           "kind": "step", "run": ["/usr/bin/true"], "pid": None,
                           "host": None, "ts": time.time()})
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO events VALUES ('r', ?, ?, 'item.started', ?)",
                   (i + 1, time.time(), data))
        db.execute("UPDATE runs SET last_seq = ? WHERE id = 'r' AND last_seq = ?", (i + 1, i))
        db.execute("COMMIT")
    spawn(["/usr/bin/true"])
    spawn(["/usr/bin/test", "-f", marker])
"""


def run(argv: list[str], env: dict[str, str], out: Path, cwd: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one command; raises when it fails."""
    with open(out, "wb") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:4]}... failed; output in {out}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--tree", type=Path, default=SRC, help="phasegate's src (default: this one)")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="phasegate-floor-"))
    marker = work / "FILE"
    marker.write_text("present\n")
    plan = workloads.chain_plan(work / "plan.yaml", args.steps, marker)
    one = workloads.chain_plan(work / "one.yaml", 1, marker)
    script = workloads.bash_script(work / "baseline.sh", args.steps, marker)
    floor = work / "floor.py"
    floor.write_text(FLOOR, encoding="utf-8")
    tree = str(args.tree.resolve())
    counter = 0

    def fresh(prefix: str) -> Path:
        nonlocal counter
        counter += 1
        return work / f"{prefix}{counter}"

    def python_floor(commit: bool) -> tuple[float, float]:
        argv = [sys.executable, str(floor), str(args.steps), str(marker), str(work)]
        if commit:
            argv.append(str(fresh("db")))
        return run(argv, child_env(), fresh("out"), work)

    def phasegate(which: Path) -> tuple[float, float]:
        argv = [sys.executable, "-m", "phasegate", "--state-dir", str(fresh("s")), "run"]
        return run([*argv, str(which)], child_env(PYTHONPATH=tree), fresh("out"), work)

    cases = {
        "bash": lambda: run(["bash", str(script)], child_env(), work / "bash.out", work),
        "python-spawn": lambda: python_floor(False),
        "python-spawn+commit": lambda: python_floor(True),
        "phasegate-1": lambda: phasegate(one),
        "phasegate": lambda: phasegate(plan),
    }
    for name in ("phasegate-1", "phasegate"):  # warm the bytecode caches; not measured
        cases[name]()
    names = list(cases)
    wall, cpu = interleaved(cases, args.reps)
    med = {n: (statistics.median(wall[n]), statistics.median(cpu[n])) for n in names}
    bw, bc = med["bash"]
    print(f"chain-argv, {args.steps} steps ({2 * args.steps} spawns), {args.reps} rounds")

    # Each case against the bash of its own round (the rounds are interleaved: the load of the
    # moment falls on both), then the median of those ratios over the rounds.
    def ratio(of: dict[str, list[float]], n: str) -> float:
        return statistics.median(x / b for x, b in zip(of[n], of["bash"], strict=True))

    print("case                  wall     x bash   cpu      x bash   (min-max wall)  per round:")
    print(
        "                                                                        wall / cpu x bash"
    )
    for n in names:
        w, c = med[n]
        print(
            f"{n:21} {w:6.2f}s  {w / bw:5.2f}x  {c:6.2f}s  {c / bc:5.2f}x   "
            f"({min(wall[n]):.2f}-{max(wall[n]):.2f})    "
            f"{ratio(wall, n):5.2f}x / {ratio(cpu, n):5.2f}x"
        )
    # Per step and gate, the fixed cost taken out (CPU, medians).
    per = {n: (med[n][1] - (med["phasegate-1"][1] if n == "phasegate" else 0)) for n in names}
    print(
        "per step+gate CPU: bash {:.2f} ms, python-spawn {:.2f} ms, +commit {:.2f} ms, "
        "phasegate (less its fixed cost) {:.2f} ms".format(
            *(
                1000 * per[n] / args.steps
                for n in ("bash", "python-spawn", "python-spawn+commit", "phasegate")
            )
        )
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
