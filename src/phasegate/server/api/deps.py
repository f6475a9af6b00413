"""What routes share: the journal (one connection per thread), the pool, the config."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, cast

from fastapi import Request

from phasegate.server.config import ServerConfig
from phasegate.server.idempotency import IdempotencyLedger
from phasegate.server.workers import WorkerPool
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore


class ThreadStores:
    """A ``JournalStore`` per thread: routes run in a thread pool, and a SQLite connection
    belongs to the thread that opened it."""

    def __init__(self, state_dir: Path, url: str | None = None) -> None:
        self.state_dir = state_dir
        self.url = url
        self._local = threading.local()
        self._opened: list[JournalStore] = []
        self._lock = threading.Lock()

    def get(self) -> JournalStore:
        store: JournalStore | None = getattr(self._local, "store", None)
        if store is None:
            store = open_journal(self.state_dir, url=self.url)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        """Close every thread's store (the server is stopping; its threads are idle). A
        connection that refuses to be closed from this thread goes with the process."""
        with self._lock:
            opened, self._opened = self._opened, []
        for store in opened:
            with contextlib.suppress(Exception):
                store.close()

    def __getattr__(self, name: str) -> Any:
        # FastAPI runs each sync dependency and the route in possibly different threads of
        # its pool: routes get this object, which finds the calling thread's store on use.
        return getattr(self.get(), name)


def store(request: Request) -> JournalStore:
    """The journal, as seen from whichever thread uses it."""
    return cast(JournalStore, request.app.state.stores)


def pool(request: Request) -> WorkerPool:
    found: WorkerPool = request.app.state.pool
    return found


def config(request: Request) -> ServerConfig:
    found: ServerConfig = request.app.state.config
    return found


def idempotency_ledger(request: Request) -> IdempotencyLedger:
    found: IdempotencyLedger = request.app.state.ledger
    return found
