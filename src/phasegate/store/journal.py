"""A run's journal as its one writer sees it: events are applied to the state at once and
written in batches.

The runner records events as they happen (``record``). A durable event (a step about to start)
is committed at once together with everything before it: one transaction, one fsync. Other
events follow within milliseconds if they are *urgent* (a command's failure, a pause, a
trip), or within a quarter second if they are *deferrable*: gate observations and phase
transitions, which resume simply derives or observes again if a crash lost them, and a
supervised command's success, which resume reads from the supervisor's record. A process
killed in that window loses those events and nothing else: a step whose end was lost is
found started-but-unfinished, settled from its record (or ``unknown`` without one), and
never silently re-run. A plan of many short steps pays one transaction per step.
"""

from __future__ import annotations

from collections.abc import Sequence

from phasegate.errors import StoreError
from phasegate.run.state import RunState
from phasegate.store.contract import JournalStore
from phasegate.store.fold import EventRow, NewEvent, fold


class Journal:
    def __init__(self, store: JournalStore, state: RunState) -> None:
        self.store = store
        self.state = state
        self._rows: list[EventRow] = []
        self._changed: set[str] = set()
        self.urgent = False
        # A failed commit leaves ``state`` ahead of the stored journal: every later write
        # would be refused as a stale writer ("another process wrote…", exit 2, "nothing
        # ran") and hide the real cause. The first failure is raised again instead, so the
        # run stops with it (JournalWriteFailed/JournalFull: exit 130, resumable).
        self._failed: StoreError | None = None
        # Rows waiting include one recorded with ``sync``: the flush that writes them fsyncs.
        self._sync = False

    def record(
        self,
        events: Sequence[NewEvent],
        *,
        durable: bool,
        urgent: bool = True,
        sync: bool = False,
    ) -> None:
        """``sync``: not committed now, but durably by whichever flush writes it (a group of
        durable events committed together: Runner.journal_durably)."""
        if self._failed is not None:
            raise self._failed
        self._changed |= fold(self.state, events, self._rows)
        self.urgent |= urgent
        self._sync |= sync
        if durable:
            self.flush(durable=True)

    def flush(self, *, durable: bool = False) -> None:
        if self._failed is not None:
            raise self._failed
        if not self._rows:
            return
        rows, changed = self._rows, self._changed
        self._rows, self._changed = [], set()
        self.urgent = False
        durable, self._sync = durable or self._sync, False
        try:
            self.store.commit_applied(self.state, rows, changed, durable=durable)
        except StoreError as exc:
            self._failed = exc
            raise

    @property
    def pending(self) -> int:
        return len(self._rows)
