"""Change notifications for live views (issue 12 §3): ``JournalStore.change_cursor`` and
``wait_for_change``.

A live view (the SSE feed, the dashboard) takes a cursor *before* it reads, reads, and then
waits for a change past the cursor: a write committed between the read and the wait is never
missed, because the cursor was taken before the read. ``wait_for_change`` returning False
(the timeout) is not an error: the view reads again anyway, so a lost notification costs at
most one timeout, never an event.

How a back end waits: PostgreSQL is woken by ``NOTIFY`` (store/postgres/notify.py); the
memory store by a condition its writers signal; SQLite polls the run's ``last_seq`` (or
``runs_marker``) every ``POLL_INTERVAL``, which is what views did themselves before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from phasegate.store.records import RunHead

POLL_INTERVAL = 0.25  # seconds between reads while a polling back end waits


@dataclass(frozen=True)
class ChangeCursor:
    """A place in the journal a view has read up to: one run's journal up to ``seq``, or
    (``run_id`` None) every run as ``runs_marker()`` was. ``notified``: the notifications the
    process had received when the cursor was taken (PostgreSQL), None where not used."""

    run_id: str | None
    seq: int = 0
    marker: tuple[int, float | None] | None = None
    notified: int | None = None


class _Polled(Protocol):
    def run_head(self, run_id: str) -> RunHead | None: ...

    def runs_marker(self) -> tuple[int, float | None]: ...


def cursor_now(store: _Polled, run_id: str | None, notified: int | None = None) -> ChangeCursor:
    if run_id is None:
        return ChangeCursor(None, marker=store.runs_marker(), notified=notified)
    head = store.run_head(run_id)
    return ChangeCursor(run_id, seq=head.last_seq if head else 0, notified=notified)


def moved(store: _Polled, cursor: ChangeCursor) -> bool:
    """Whether the journal is past ``cursor`` now (one cheap read)."""
    if cursor.run_id is None:
        return store.runs_marker() != cursor.marker
    head = store.run_head(cursor.run_id)
    return head is not None and head.last_seq > cursor.seq


def poll(store: _Polled, cursor: ChangeCursor, timeout: float) -> bool:
    """Read every ``POLL_INTERVAL`` until the journal moves past ``cursor`` or ``timeout``."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        if moved(store, cursor):
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(POLL_INTERVAL, left))
