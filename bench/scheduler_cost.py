"""The scheduler's cost with 1,000 schedules on one server (issue 13 §2, performance): CPU
seconds per minute of ``Scheduler.tick`` (every 0.25 s, as the server ticks) on a real
SQLite journal, for a minute in which no slot is due (hourly rules) and one in which every
schedule fires once (minutely rules: 1,000 claims and 1,000 recorded outcomes, durable).
Runs are not started (a recording pool): their cost is a run's, not the scheduler's.

The clock is simulated (240 ticks as fast as they go), so the numbers are the scheduler's
own CPU time, without sleeping. Run: ``uv run python bench/scheduler_cost.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from phasegate.server.config import ServerConfig
from phasegate.server.scheduler import TICK, Scheduler
from phasegate.store.schedules import ScheduleRecord
from phasegate.store.sqlite import SqliteStore

PLAN = "version: 1\nname: inv\nphases:\n  - id: p\n    steps:\n      - {run: 'true'}\n"
COUNT = 1000


class Pool:
    started = 0

    def start_run(self, store: Any, loaded: Any, options: Any) -> tuple[str, bool]:
        self.started += 1
        return f"run-{self.started}", True


def minute(rules: list[dict[str, str]], start: float) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, runs started) for one simulated minute of ticks."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        plan = root / "inv.yaml"
        plan.write_text(PLAN)
        store = SqliteStore(root / "state")
        for n in range(COUNT):
            spec = {"plan": str(plan), "plan_name": "inv", "rule": rules[n % len(rules)]}
            spec |= {"timezone": "Europe/Berlin", "vars": {}, "missed": "skip"}
            store.add_schedule(ScheduleRecord(f"s{n:04d}", spec, start - 1, "bench"))
        pool = Pool()
        scheduler = Scheduler(ServerConfig(state_dir=root), pool)  # type: ignore[arg-type]
        scheduler.tick(store, start - 0.5)  # learn the schedules (one read each), once
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(int(60 / TICK)):
            scheduler.tick(store, start + n * TICK)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        store.close()
        return cpu, wall, pool.started


def main() -> None:
    start = 1_796_600_000.0 - 1_796_600_000.0 % 3600 + 1  # a second after an hour began
    idle = minute([{"kind": "cron", "text": "30 * * * *"}, {"kind": "every", "text": "1h"}], start)
    busy = minute([{"kind": "cron", "text": "* * * * *"}, {"kind": "every", "text": "60s"}], start)
    for label, (cpu, wall, started) in (("no slot due", idle), ("every schedule fires", busy)):
        print(
            f"{COUNT} schedules, {label}: {cpu:.2f} s CPU per minute "
            f"({cpu / 60 * 100:.1f} % of a core; {wall:.2f} s wall; {started} runs started)"
        )


if __name__ == "__main__":
    main()
