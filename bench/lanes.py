"""Lane scheduling cost (issue 14 §5, goal ≤ 1 ms per decision at 1,000 queued runs).

1. The decision itself, ``lanes.scheduler.grants`` (pure): 1,000 queued runs over seed 003's
   four lanes (Code-API 4, Data-Schema 2, Narrative 6, Viz-Charts 3), each lane at its cap but
   one slot, and the same with a pool (``*`` = 12) so the weighted fair share with aging picks
   lane by lane; median and p99 over many decisions.
2. What one grant costs in the SQLite store (``lane_request``: the ``BEGIN IMMEDIATE``
   transaction that reads the granted tickets and the head of each queue, drops stale ones,
   decides and marks), with the same 1,000 queued runs owned by this process, as a ratio to
   the decision alone; and a queued run's poll (``lane_place``, a read).

Run: ``uv run python bench/lanes.py``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from phasegate.lanes import POOL, Lane, Ticket, grants
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore

SEED_003 = {"Code-API": 4, "Data-Schema": 2, "Narrative": 6, "Viz-Charts": 3}
WEIGHTS = {"Code-API": 2.0, "Data-Schema": 1.0, "Narrative": 3.0, "Viz-Charts": 1.0}


def scenario(queued: int, pool: int | None) -> tuple[dict[str, Lane], list[Ticket]]:
    lanes = {name: Lane(name, cap, WEIGHTS[name]) for name, cap in SEED_003.items()}
    if pool is not None:
        lanes[POOL] = Lane(POOL, pool)
    tickets = []
    for name, cap in SEED_003.items():  # each lane at its cap but one slot
        tickets += [Ticket(f"{name}-run-{n}", name, 0.0, 0.0) for n in range(cap - 1)]
    names = sorted(SEED_003)
    tickets += [
        Ticket(f"q{n:05d}", names[n % len(names)], 1000.0 + (n * 7919 % queued))
        for n in range(queued)
    ]
    return lanes, tickets


def time_decisions(queued: int, pool: int | None, repeats: int) -> tuple[float, float, int]:
    lanes, tickets = scenario(queued, pool)
    granted = grants(lanes, tickets)
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        grants(lanes, tickets)
        samples.append(time.perf_counter() - began)
    samples.sort()
    return (
        statistics.median(samples) * 1e3,
        samples[int(len(samples) * 0.99) - 1] * 1e3,
        len(granted),
    )


def time_store_grant(queued: int, repeats: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteStore(Path(directory))
        for name, cap in SEED_003.items():
            store.set_lane(name, cap=cap, weight=WEIGHTS[name], by="bench", ts=0.0)
        me = Owner.me()
        names = sorted(SEED_003)
        for n in range(queued):
            run_id = f"q{n:05d}"
            store.create_run(
                run_id=run_id,
                plan_name=run_id,
                plan_path="/bench.yaml",
                plan_sha256="sha",
                plan_text="",
                lock_name=run_id,
                idempotency_key=None,
                options={},
                phases=["p"],
                owner=me,
                ts=float(n),
            )
            store.lane_request(run_id, names[n % len(names)], ts=1000.0 + n)
        samples = []
        for n in range(repeats):
            began = time.perf_counter()
            store.lane_request(f"q{n:05d}", names[n % len(names)])
            samples.append(time.perf_counter() - began)
        polls = []
        for n in range(repeats):
            began = time.perf_counter()
            store.lane_place(f"q{queued - 1 - n:05d}")
            polls.append(time.perf_counter() - began)
        store.close()
    return statistics.median(samples) * 1e3, statistics.median(polls) * 1e3


def main(queued: int = 1000, repeats: int = 2000, store_repeats: int = 50) -> None:
    plain, plain_p99, granted = time_decisions(queued, None, repeats)
    print(
        f"grants, {queued} queued, caps only: median {plain:.3f} ms, p99 {plain_p99:.3f} ms "
        f"({granted} granted; goal ≤ 1 ms)"
    )
    shared, shared_p99, granted = time_decisions(queued, 12, repeats)
    print(
        f"grants, {queued} queued, pool 12 (fair share): median {shared:.3f} ms, "
        f"p99 {shared_p99:.3f} ms ({granted} granted; goal ≤ 1 ms)"
    )
    store_ms, poll_ms = time_store_grant(queued, store_repeats)
    print(
        f"SQLite lane_request (the grant transaction), {queued} queued: median {store_ms:.2f} ms "
        f"({store_ms / max(plain, 1e-9):.1f}x the decision alone)"
    )
    print(f"SQLite lane_place (a queued run's poll), {queued} queued: median {poll_ms:.3f} ms")


if __name__ == "__main__":
    main()
