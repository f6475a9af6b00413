"""One reader of the journal for every live page.

A hundred people watching one rollout must not mean a hundred pollers of the database, nor
slow the engine writing it. The hub keeps one feed per watched run (and one for the run list):
the feed polls a single integer (the run's ``last_seq``) every ``interval`` while anyone is
subscribed, rebuilds the page fragment once per change, and wakes every subscriber with that
same HTML. All store access happens on one dedicated thread, which owns the SQLite connection.

Feeds do not poll on a clock for journal changes: one watcher per hub waits for any change
(``wait_for_change`` on a thread and a store of its own; PostgreSQL's NOTIFY wakes it at
commit, SQLite is polled there) and wakes every feed, which re-reads its cheap marker. A feed
still re-renders every ``interval`` without a change, for what is not in the journal (the
running step's log tail), and never more often than its budget allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from phasegate.errors import PhasegateError
from phasegate.store.backends import open_journal
from phasegate.store.changes import ChangeCursor
from phasegate.store.contract import JournalStore

T = TypeVar("T")
log = logging.getLogger(__name__)
LIST_KEY = "*"
BUDGET = 10  # wait ten times as long as the last update took to build
WATCH_TIMEOUT = 5.0  # the watcher's longest wait: it stops this soon after the last subscriber


class _Feed:
    def __init__(self) -> None:
        self.version = 0
        self.html = ""
        self.marker: Any = None
        self.subscribers = 0
        self.changed = asyncio.Condition()
        self.wake = asyncio.Event()  # set by the hub's watcher on a journal change
        self.task: asyncio.Task[None] | None = None


class Hub:
    def __init__(
        self,
        state_dir: Path,
        render: Callable[[str, JournalStore], tuple[Any, Callable[[], str]]],
        interval: float = 0.5,
        url: str | None = None,
        dear: Callable[[str], bool] | None = None,
    ) -> None:
        """``render(key, store)`` returns (a cheap change marker, a function building the
        HTML); it runs on the store thread, the HTML is built only when the marker moved.
        Keys ``dear(key)`` accepts (a runway projection: history and a Monte Carlo) render on
        a second thread with a store of its own, so a slow one never holds up the others."""
        self.state_dir = state_dir
        self.url = url
        self.render = render
        self.interval = interval
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="phasegate-hub")
        self._store: JournalStore | None = None
        self.dear = dear or (lambda key: False)
        self._dear = ThreadPoolExecutor(max_workers=1, thread_name_prefix="phasegate-hub-dear")
        self._dear_store: JournalStore | None = None
        self._feeds: dict[str, _Feed] = {}
        self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="phasegate-hub-wait")
        self._wait_store: JournalStore | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.wakes = 0  # journal changes the watcher reported (tests read it)

    def _on_thread(self, fn: Callable[[JournalStore], T]) -> T:
        if self._store is None:
            self._store = open_journal(self.state_dir, url=self.url)
        return fn(self._store)

    async def read(self, fn: Callable[[JournalStore], T]) -> T:
        """Run ``fn(store)`` on the hub's store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._on_thread, fn)

    def _on_dear_thread(self, fn: Callable[[JournalStore], T]) -> T:
        if self._dear_store is None:
            self._dear_store = open_journal(self.state_dir, url=self.url)
        return fn(self._dear_store)

    async def _read_for(self, key: str, fn: Callable[[JournalStore], T]) -> T:
        """``read``, on the dear thread for a dear key."""
        if not self.dear(key):
            return await self.read(fn)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._dear, self._on_dear_thread, fn)

    def _on_wait_thread(self, fn: Callable[[JournalStore], T]) -> T:
        if self._wait_store is None:
            self._wait_store = open_journal(self.state_dir, url=self.url)
        return fn(self._wait_store)

    async def _waiting(self, fn: Callable[[JournalStore], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._waiter, self._on_wait_thread, fn)

    async def _watch(self) -> None:
        """Wake every feed when the journal changes, while anyone is subscribed."""
        cursor: ChangeCursor | None = None
        while any(feed.subscribers > 0 for feed in self._feeds.values()):
            try:
                if cursor is None:
                    cursor = await self._waiting(lambda store: store.change_cursor())
                    # Feeds may have read before this cursor existed: they read once more.
                    self._wake_all()
                changed = await self._waiting(
                    functools.partial(_wait_for_change, cursor=cursor, timeout=WATCH_TIMEOUT)
                )
                if changed:
                    # The next cursor before the feeds read: a write after it wakes them again.
                    cursor = await self._waiting(lambda store: store.change_cursor())
                    self.wakes += 1
                    self._wake_all()
            except PhasegateError as exc:  # the feeds re-render on their interval meanwhile
                log.warning("live updates wait for the store: %s", exc)
                cursor = None
                await asyncio.sleep(self.interval)

    def _wake_all(self) -> None:
        for feed in self._feeds.values():
            feed.wake.set()

    async def subscribe(self, key: str) -> AsyncIterator[str]:
        """The fragment for ``key`` (a run id, or LIST_KEY), now and after every change."""
        feed = self._feeds.setdefault(key, _Feed())
        feed.subscribers += 1
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(self._poll(key, feed))
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())
        seen = 0

        def fresh() -> bool:
            return feed.version > seen

        try:
            while True:
                async with feed.changed:
                    await feed.changed.wait_for(fresh)
                    seen, html = feed.version, feed.html
                yield html
        finally:
            feed.subscribers -= 1

    async def _poll(self, key: str, feed: _Feed) -> None:
        while feed.subscribers > 0:
            feed.wake.clear()  # a change from now on wakes the wait below
            marker, html, spent = await self._read_for(
                key, lambda store: self._timed_fragment(key, store, feed)
            )
            if marker != feed.marker:
                async with feed.changed:
                    feed.marker, feed.html = marker, html
                    feed.version += 1
                    feed.changed.notify_all()
            # A budget, not a rate: the feed spends at most 1/BUDGET of a core, so a big
            # run's page updates less often instead of slowing the engine it watches. What
            # counts is the feed's own CPU time on its thread, not its wait for a core or for
            # the thread: a dear feed (a runway projection) must not slow the cheap ones.
            await asyncio.sleep(spent * BUDGET)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.wake.wait(), max(self.interval - spent * BUDGET, 0))

    def _timed_fragment(self, key: str, store: JournalStore, feed: _Feed) -> tuple[Any, str, float]:
        # CPU time of this thread, not wall time: on a loaded machine a render waits for a
        # core far longer than it works, and the budget is about what the feed costs.
        began = time.thread_time()
        marker, html = self._fragment(key, store, feed)
        return marker, html, time.thread_time() - began

    def _fragment(self, key: str, store: JournalStore, feed: _Feed) -> tuple[Any, str]:
        marker, build = self.render(key, store)
        if marker == feed.marker:
            return marker, feed.html
        return marker, build()

    async def close(self) -> None:
        tasks = [feed.task for feed in self._feeds.values()] + [self._watcher]
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._wait_store is not None:
            waiting = self._wait_store
            # After the wait in progress (at most WATCH_TIMEOUT): a store is closed on its thread.
            self._waiter.submit(waiting.close)
        self._waiter.shutdown(wait=False)
        if self._store is not None:
            store = self._store
            await asyncio.get_running_loop().run_in_executor(self._executor, store.close)
        self._executor.shutdown(wait=False)
        if self._dear_store is not None:
            dear = self._dear_store
            await asyncio.get_running_loop().run_in_executor(self._dear, dear.close)
        self._dear.shutdown(wait=False)


def _wait_for_change(store: JournalStore, *, cursor: ChangeCursor, timeout: float) -> bool:
    return store.wait_for_change(cursor, timeout)
