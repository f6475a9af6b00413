"""Runs parked while queued for a lane slot (engine/laning.py ``parkable``), resumed once
their slot is granted: the shared step of the server's pool (server/workers.py
``resume_queued``) and of a ``phasegate worker``'s scanner (server/worker_host.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from phasegate.lanes.model import Ticket
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord

# A parked queued run's resume that no worker took (the run is still unowned) is submitted
# again after this many seconds (its worker failed to start, say).
UNPARK_AGAIN = 30.0


def parked_queued(store: JournalStore) -> list[RunRecord]:
    """Runs a server or a worker started that are ``queued`` with no owner: parked while
    they waited for a lane slot (engine/laning.py ``parkable``)."""
    return [
        record
        for record in store.list_runs(status="queued", limit=100_000)
        if record.owner is None and isinstance(record.options.get("started_by"), str)
    ]


def unpark_queued(
    store: JournalStore,
    busy: Callable[[str], bool],
    submitted: dict[str, float],
    submit: Callable[[RunRecord], None],
) -> list[str]:
    """The shared step of ``WorkerPool.resume_queued`` and a ``phasegate worker``'s scanner:
    grant slots for the parked queued runs (nobody else may be asking), then hand each whose
    tickets are all granted (or gone) to ``submit``, in the order of their grants (the
    lane's order: priority, then arrival), at most once per UNPARK_AGAIN while it stays
    unowned. ``submitted`` remembers what was handed over (run id -> time.monotonic())."""
    parked = parked_queued(store)
    now = time.monotonic()
    for run_id in [k for k, t in submitted.items() if now - t >= UNPARK_AGAIN]:
        del submitted[run_id]
    if not parked:
        submitted.clear()
        return []
    store.lane_grant()
    tickets: dict[str, list[Ticket]] = {}
    for ticket in store.lane_tickets():
        tickets.setdefault(ticket.run_id, []).append(ticket)
    due: list[tuple[float, str, RunRecord]] = []
    for record in parked:
        mine = tickets.get(record.id, [])
        if any(not t.granted for t in mine) or record.id in submitted or busy(record.id):
            continue
        granted = max((t.granted_at or 0.0 for t in mine), default=0.0)
        due.append((granted, record.id, record))
    found = []
    for _, run_id, record in sorted(due, key=lambda d: (d[0], d[1])):
        submitted[run_id] = now
        submit(record)
        found.append(run_id)
    live = {record.id for record in parked}
    for run_id in [k for k in submitted if k not in live]:
        del submitted[run_id]  # owned again (resumed), or ended
    return found
