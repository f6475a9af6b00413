"""What a program costs over running its children by hand (issue 14, Performance).

    uv run python bench/program_overhead.py [--children 20] [--reps 3]

Writes ``--children`` tiny child plans (one phase, one step: ``true``) and a program chaining
them (``c2`` needs ``c1``, …, so both ways run the children one after another), then, in a
fresh state directory each time, alternately (so load on a shared machine falls on both alike):

- **direct**: ``phasegate run childN.yaml`` for each child, one after another;
- **program**: ``phasegate run program.yaml`` (each child a ``phasegate`` child process with
  its own run, linked to the parent's).

Prints the median and best wall time of each, the ratio program / direct and the overhead per
child in ms ((program - direct) / children): what the program's own journal, the child's
launch through ``python -m phasegate.cli.child`` and the re-reading of the child's journal
add per child. Results: docs/performance.md ("Programs: overhead over running the children").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = "version: 1\nname: child-{n}\nphases:\n  - id: work\n    steps:\n      - run: 'true'\n"


def write(directory: Path, children: int) -> Path:
    (directory / "children").mkdir(parents=True)
    phases = []
    for n in range(1, children + 1):
        (directory / "children" / f"child-{n}.yaml").write_text(CHILD.format(n=n))
        needs = f"\n    needs: [c{n - 1}]" if n > 1 else ""
        phases.append(f"  - id: c{n}{needs}\n    run_plan: children/child-{n}.yaml")
    program = directory / "program.yaml"
    program.write_text("version: 1\nname: program\nphases:\n" + "\n".join(phases) + "\n")
    return program


def phasegate(state: Path, cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env.update({"PHASEGATE_HOME": str(state), "NO_COLOR": "1"})
    done = subprocess.run(
        [sys.executable, "-m", "phasegate", *args],
        cwd=cwd,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"phasegate {' '.join(args)} exited {done.returncode}: {done.stderr}")


def direct(work: Path, state: Path, children: int) -> float:
    started = time.perf_counter()
    for n in range(1, children + 1):
        phasegate(state, work, "run", str(work / "children" / f"child-{n}.yaml"))
    return time.perf_counter() - started


def as_program(work: Path, state: Path, program: Path) -> float:
    started = time.perf_counter()
    phasegate(state, work, "run", str(program))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"direct": [], "program": []}
    with tempfile.TemporaryDirectory(prefix="phasegate-program-bench-") as tmp:
        work = Path(tmp) / "work"
        program = write(work, args.children)
        for rep in range(args.reps):
            times["direct"].append(direct(work, Path(tmp) / f"direct-{rep}", args.children))
            times["program"].append(as_program(work, Path(tmp) / f"program-{rep}", program))
            print(
                f"rep {rep + 1}: direct {times['direct'][-1]:.2f} s, "
                f"program {times['program'][-1]:.2f} s",
                flush=True,
            )
    for name, values in times.items():
        print(
            f"{name:>8}: median {statistics.median(values):.2f} s, best {min(values):.2f} s "
            f"({statistics.median(values) / args.children * 1000:.0f} ms per child)"
        )
    d, p = statistics.median(times["direct"]), statistics.median(times["program"])
    best = min(times["program"]) / min(times["direct"])
    print(f"ratio program/direct: {p / d:.2f} (median), {best:.2f} (best)")
    print(f"overhead per child: {(p - d) / args.children * 1000:.0f} ms (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
