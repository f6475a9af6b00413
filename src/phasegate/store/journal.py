"""A run's journal as its one writer sees it: events are applied to the state at once and
written in batches.

The runner records events as they happen (``record``) and the batch reaches the database at
the latest when the runner next waits, or at once for a durable event (a step about to start)
together with everything before it — one transaction, one fsync. A killed process therefore
loses at most the events of the instant it died in, exactly as if it had died before them.
"""

from __future__ import annotations

import json
from typing import Any

from phasegate.engine.state import RunState, apply
from phasegate.store.sqlite import SqliteStore


class Journal:
    def __init__(self, store: SqliteStore, state: RunState) -> None:
        self.store = store
        self.state = state
        self._rows: list[tuple[str, int, float, str, str]] = []
        self._changed: set[str] = set()

    def record(self, events: list[tuple[str, dict[str, Any], float]], *, durable: bool) -> None:
        state = self.state
        for etype, data, ts in events:
            self._changed |= apply(state, etype, data, ts)
            self._rows.append(
                (
                    state.run_id,
                    state.seq,
                    ts,
                    etype,
                    json.dumps(data, separators=(",", ":"), default=str),
                )
            )
        if durable:
            self.flush(durable=True)

    def flush(self, *, durable: bool = False) -> None:
        if not self._rows:
            return
        rows, changed = self._rows, self._changed
        self._rows, self._changed = [], set()
        with self.store.write(durable) as db:
            self.store.write_rows(db, self.state, rows, changed)

    @property
    def pending(self) -> int:
        return len(self._rows)
