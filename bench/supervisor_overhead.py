"""What the step supervisor costs per spawn (issue 10 §2.2), measured side by side.

    uv run python bench/supervisor_overhead.py [--spawns 500] [--reps 5]

Spawns ``/usr/bin/true`` through phasegate's ``LocalExecutor`` ``--spawns`` times, without a
supervisor (as before) and under it (``status_file``: one ``/bin/sh`` that runs the command and
writes its status file), alternating the two ``--reps`` times so that load on a shared machine
falls on both alike. Prints the median and the best per-spawn time of each and the difference:
the supervisor's cost per step. The end-to-end figure (a whole run, with the journal) is in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from phasegate.engine.session import _use_pidfd_child_watcher
from phasegate.executors.local import LocalExecutor


async def _spawns(n: int, directory: Path | None) -> float:
    executor = LocalExecutor()
    env = dict(os.environ)
    started = time.perf_counter()
    for i in range(n):
        status = str(directory / f"s{i}.1.status") if directory is not None else None
        result = await executor.run(
            ["/usr/bin/true"], env=env, cwd="/", timeout=None, status_file=status
        )
        assert result.ok, result
    return (time.perf_counter() - started) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawns", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    _use_pidfd_child_watcher()  # as the engine does (session.drive)
    bare: list[float] = []
    supervised: list[float] = []
    with tempfile.TemporaryDirectory(prefix="phasegate-supervisor-") as tmp:
        for rep in range(args.reps):
            bare.append(asyncio.run(_spawns(args.spawns, None)))
            directory = Path(tmp) / str(rep)
            directory.mkdir()
            supervised.append(asyncio.run(_spawns(args.spawns, directory)))
    for name, values in (("without supervisor", bare), ("with supervisor", supervised)):
        print(
            f"{name:>20}: median {statistics.median(values) * 1000:.3f} ms/spawn, "
            f"best {min(values) * 1000:.3f} ms/spawn"
        )
    median = (statistics.median(supervised) - statistics.median(bare)) * 1000
    best = (min(supervised) - min(bare)) * 1000
    print(f"{'supervisor cost':>20}: median {median:+.3f} ms/spawn, best {best:+.3f} ms/spawn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
