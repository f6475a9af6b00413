"""What the step supervisor costs per spawn (issue 10 §2.2, issue 12), measured side by side.

    uv run python bench/supervisor_overhead.py [--spawns 500] [--reps 5]

Spawns ``/usr/bin/true`` through phasegate's ``LocalExecutor`` ``--spawns`` times in three
ways, alternated ``--reps`` times so that load on a shared machine falls on all alike: without
a supervisor (a gate's spawn); under the run's supervisor (``status_file``: one process per
run that spawns each command and writes its status file, executors/supervisor_main.py); and
under the per-command shell supervisor (one ``/bin/sh`` per spawn, what every step paid before
issue 12 and what remote commands still use). Prints wall and CPU time per spawn (user +
system of this process and of every process it waited for, the supervisors and the commands
included), median and best, and each supervisor's cost over the bare spawn. The end-to-end
figure (a whole run, with the journal) is in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from phasegate.engine.session import _use_pidfd_child_watcher
from phasegate.executors.local import LocalExecutor


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


async def _spawns(n: int, directory: Path | None, *, shell: bool = False) -> None:
    executor = LocalExecutor()
    executor._no_supervisor = shell  # the per-command shell instead of the run's supervisor
    env = dict(os.environ)
    for i in range(n):
        status = str(directory / f"s{i}.1.status") if directory is not None else None
        result = await executor.run(
            ["/usr/bin/true"], env=env, cwd="/", timeout=None, status_file=status
        )
        assert result.ok, result


def _measure(n: int, directory: Path | None, *, shell: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds per spawn; the run's supervisor exits (and is counted) with the
    loop."""
    cpu, started = _cpu(), time.perf_counter()
    asyncio.run(_spawns(n, directory, shell=shell))
    return (time.perf_counter() - started) / n, (_cpu() - cpu) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawns", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    _use_pidfd_child_watcher()  # as the engine does (session.drive)
    cases = ("without supervisor", "run supervisor", "shell supervisor")
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory(prefix="phasegate-supervisor-") as tmp:
        for rep in range(args.reps):
            for name in cases[rep % 3 :] + cases[: rep % 3]:
                directory = None
                if name != "without supervisor":
                    directory = Path(tmp) / f"{rep}-{name.split()[0]}"
                    directory.mkdir()
                w, c = _measure(args.spawns, directory, shell=name == "shell supervisor")
                wall[name].append(w)
                cpu[name].append(c)
    for name in cases:
        print(
            f"{name:>20}: wall median {statistics.median(wall[name]) * 1000:.3f} ms/spawn "
            f"(best {min(wall[name]) * 1000:.3f}), CPU median "
            f"{statistics.median(cpu[name]) * 1000:.3f} ms/spawn (best {min(cpu[name]) * 1000:.3f})"
        )
    bare_wall, bare_cpu = statistics.median(wall[cases[0]]), statistics.median(cpu[cases[0]])
    for name in cases[1:]:
        extra_wall = (statistics.median(wall[name]) - bare_wall) * 1000
        extra_cpu = (statistics.median(cpu[name]) - bare_cpu) * 1000
        print(
            f"{name + ' cost':>25}: {extra_wall:+.3f} ms/spawn wall, {extra_cpu:+.3f} ms/spawn CPU"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
