"""A live run's journal folded once, then only what was appended (issue 13; docs/performance.md):
what the server's live views (``GET …/estimate``, the dashboard's runway panel) project a run
from.

Each projection used to read the run's whole journal and fold it three times (the remaining
time's timeline and human waits, the budgets' runway marks, the run's state for resource
budgets): a run watched for hours has thousands of events, and the panel projects again at
every change. A ``LiveFold`` keeps the three folds and a cursor (the last ``seq`` folded); a
projection reads ``events_after(cursor)`` (the store's cursor read, never repeating or
skipping an event) and folds only those. Each fold is the same function a full re-fold runs
(``Timeline``, ``RunwayMarks``, ``run.state.apply_stored``), so the state is the one folding
the whole journal gives (tests/server/test_livefold.py checks it over arbitrary event
sequences cut at arbitrary points).

Kept per (store, run id, created_at): the newest ``SIZE`` runs, least recently used dropped
first. Thread-safe: a run's fold is read and advanced under its own lock (``folded``), so
two threads projecting one run take turns and neither sees a fold half-advanced.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from phasegate.engine.runway import RunwayMarks
from phasegate.estimate.remaining import Timeline
from phasegate.run.state import RunState, apply_stored
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord, StoredEvent

SIZE = 64  # live runs kept folded (a fold is a few KB plus the run's state)
PAGE = 5_000  # events read per cursor read

_Key = tuple[str, str, float]


@dataclass
class LiveFold:
    """A run's journal folded up to ``seq``: its timeline (remaining time), its budgets'
    runway marks and its state."""

    run_id: str
    seq: int = 0
    timeline: Timeline = field(default_factory=Timeline)
    marks: RunwayMarks = field(default_factory=RunwayMarks)
    state: RunState = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.state = RunState(run_id=self.run_id)

    def fold(self, events: Sequence[StoredEvent]) -> None:
        """Fold the events that follow ``seq`` (``seq + 1``, ``seq + 2``…), in order."""
        if not events:
            return
        if events[0].seq != self.seq + 1:
            got, want = events[0].seq, self.seq + 1
            raise ValueError(f"events of run {self.run_id} from {got}, not {want}")
        self.timeline.fold(events)
        self.marks.fold(events)
        for event in events:
            apply_stored(self.state, event.type, event.data, event.ts)
        self.seq = events[-1].seq


_cache: OrderedDict[_Key, LiveFold] = OrderedDict()
_cache_lock = threading.Lock()
_stats = {"folded": 0, "refolds": 0}


def _entry(key: _Key, run_id: str) -> LiveFold:
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = LiveFold(run_id)
        _cache.move_to_end(key)
        while len(_cache) > SIZE:
            _cache.popitem(last=False)
        return found


@contextmanager
def folded(store: JournalStore, record: RunRecord) -> Iterator[LiveFold]:
    """The run's fold, advanced to the journal's end, held (its lock) while the caller reads
    it. A journal that no longer continues the fold (a store replaced under the same path)
    is folded again from its start."""
    key = (str(store.state_dir), record.id, record.created_at)
    entry = _entry(key, record.id)
    with entry.lock:
        try:
            try:
                _advance(store, entry)
            except ValueError:
                entry = LiveFold(record.id)
                _advance(store, entry)
                with _cache_lock:
                    _cache[key] = entry
                    _stats["refolds"] += 1
        except BaseException:
            # A fold that failed half-way (a journal its state refuses, a store error) is
            # not kept: the next projection folds the journal again from its start.
            with _cache_lock:
                _cache.pop(key, None)
            raise
        yield entry


def _advance(store: JournalStore, entry: LiveFold) -> None:
    while True:
        new = store.events_after(entry.run_id, entry.seq, PAGE)
        entry.fold(new)
        with _cache_lock:
            _stats["folded"] += len(new)
        if len(new) < PAGE:
            return


def clear() -> None:
    """Forget every fold (the bench's re-fold measurement; tests)."""
    with _cache_lock:
        _cache.clear()
        _stats.update(folded=0, refolds=0)


def stats() -> dict[str, int]:
    """Events folded and journals folded again from the start, since the last ``clear``."""
    with _cache_lock:
        return dict(_stats)
