"""Change notifications from PostgreSQL: ``LISTEN``/``NOTIFY`` behind the contract's
``change_cursor``/``wait_for_change`` (store/changes.py).

Every journal write sends ``NOTIFY phasegate_journal, 'RUN SEQ'`` in its own transaction
(store.py ``_write_rows``), so the notification is delivered when, and only if, the events
are committed. One process listens once per database: a ``Listener`` thread with its own
connection counts the notifications and wakes every waiting thread of the process, however
many views wait (a hundred SSE clients cost one connection, not a hundred).

A cursor records the listener's count when it was taken; ``wait_for_change`` returns when a
notification for its run (any run, for a cursor over every run) arrives after that. A lost
listening connection (a restarted server) counts as "anything may have changed": waiters
wake and read again, and wait by polling until the listener is back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from phasegate.errors import StoreError
from phasegate.store.changes import ChangeCursor, cursor_now, poll
from phasegate.store.postgres.connection import connect, pg_errors
from phasegate.store.postgres.views import PostgresViews

CHANNEL = "phasegate_journal"
READY_SECONDS = 5.0  # a listener not up by then: waiters poll meanwhile
RETRY_SECONDS = 1.0  # between reconnections of a lost listener
TICK = 0.5  # how often the listening thread checks whether it should stop


class Listener:
    def __init__(self, url: str, location: str) -> None:
        self.url, self.location = url, location
        self.changed = threading.Condition()
        self.count = 0  # notifications received (and reconnections)
        self.latest: dict[str, int] = {}  # run id -> count at its newest notification
        self.reset = 0  # count at the last reconnection after a loss
        self.up = False
        self.users = 0
        self.stopping = False
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._listen, name="phasegate-listen", daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        lost = False
        while not self.stopping:
            conn: psycopg.Connection[Any] | None = None
            try:
                conn = connect(self.url, self.location)
                conn.execute(f"LISTEN {CHANNEL}".encode())
                with self.changed:
                    if lost:  # notifications sent while nobody listened are gone
                        self.count += 1
                        self.reset = self.count
                    self.up = True
                    self.changed.notify_all()
                self.ready.set()
                while not self.stopping:
                    for note in conn.notifies(timeout=TICK):
                        run_id = note.payload.rpartition(" ")[0]
                        with self.changed:
                            self.count += 1
                            self.latest[run_id] = self.count
                            self.changed.notify_all()
            except (psycopg.Error, StoreError):
                with self.changed:
                    self.up, lost = False, True
                    self.changed.notify_all()
                self.ready.set()
                time.sleep(RETRY_SECONDS)
            finally:
                if conn is not None:
                    conn.close()

    def position(self) -> int | None:
        self.ready.wait(READY_SECONDS)
        with self.changed:
            return self.count if self.up else None

    def wait(self, cursor: ChangeCursor, timeout: float) -> bool | None:
        """True on a change past ``cursor``, False at the timeout, None when the listener
        is down (the caller polls)."""
        seen = cursor.notified
        assert seen is not None

        def woken() -> bool:
            if not self.up or self.reset > seen:
                return True
            if cursor.run_id is None:
                return self.count > seen
            return self.latest.get(cursor.run_id, 0) > seen

        with self.changed:
            if not self.changed.wait_for(woken, max(timeout, 0.0)):
                return False
            return True if self.up else None


_listeners: dict[str, Listener] = {}
_registry = threading.Lock()


def acquire(url: str, location: str) -> Listener:
    with _registry:
        listener = _listeners.get(url)
        if listener is None or listener.stopping:
            listener = _listeners[url] = Listener(url, location)
        listener.users += 1
        return listener


def release(listener: Listener) -> None:
    with _registry:
        listener.users -= 1
        if listener.users <= 0:
            listener.stopping = True  # the thread ends within TICK and closes its connection
            if _listeners.get(listener.url) is listener:
                del _listeners[listener.url]


class PostgresChanges(PostgresViews):
    _listener: Listener | None = None

    def _listening(self) -> Listener:
        if self._listener is None:
            self._listener = acquire(self.url, self.location)
        return self._listener

    def stop_listening(self) -> None:
        if self._listener is not None:
            release(self._listener)
            self._listener = None

    @pg_errors
    def change_cursor(self, run_id: str | None = None) -> ChangeCursor:
        # The count first, then the read: a write committed between them notifies after the
        # count, so the wait sees it (at worst it wakes once for a change already read).
        return cursor_now(self, run_id, self._listening().position())

    @pg_errors
    def wait_for_change(self, cursor: ChangeCursor, timeout: float) -> bool:
        started = time.monotonic()
        if cursor.notified is not None:
            woken = self._listening().wait(cursor, timeout)
            if woken is not None:
                return woken
        return poll(self, cursor, timeout - (time.monotonic() - started))
