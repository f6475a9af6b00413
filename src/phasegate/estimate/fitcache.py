"""The plan's history, read and fitted once per history version (the dashboard's runway
panel and ``GET …/estimate``, docs/performance.md).

A live run's projection needs its plan's models, learned from the plan's finished runs: with
1,000 of them reading the digests and fitting costs about a second, and the panel projects
again at each change of the run's journal. The history only changes when a run of the plan
finishes (or a finished run's journal moves, e.g. monitoring ends): ``history_version`` reads
those few columns of every run (``run_heads``, no journal, no digest), and the fit is kept
for that version, so a change of the live run's journal only re-projects.

Kept per (store, plan name, plan text, history limit, excluded run — views exclude a finished
run only, so the live runs of a plan share one): the newest ``SIZE`` entries, least recently
used dropped first. Thread-safe (the server's threads share it); two
threads missing the same entry at once both fit, one result is kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from phasegate.estimate.calibration import Judged
from phasegate.estimate.digest import read_history
from phasegate.estimate.estimator import Estimate, Fitted, fit
from phasegate.estimate.history import RunDurations
from phasegate.plan.model import Plan

if TYPE_CHECKING:
    from phasegate.store.contract import JournalStore

# Fitted histories kept (a server watching more plans at once re-fits the oldest): each holds
# up to its limit of runs' durations (the API's 10,000: some MB), so few.
SIZE = 8

HistoryVersion = tuple[int, float, int]


@dataclass
class FittedHistory:
    """A plan's history as read (oldest first, ``Judged``: with its admission) and fitted,
    at ``version``; ``total``: the whole-run estimate, drawn once when first asked for."""

    version: HistoryVersion
    history: list[RunDurations]
    fitted: Fitted
    _total: Estimate | None = field(default=None, repr=False)

    def total(self) -> Estimate:
        if self._total is None:
            self._total = self.fitted.models.estimate()[2]
        return self._total


_cache: OrderedDict[Hashable, FittedHistory] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def history_version(store: JournalStore, plan: str, exclude: str | None) -> HistoryVersion:
    """What changes when the plan's history does: the number of finished runs of ``plan``
    (but ``exclude``), the newest ``finished_at`` among them and the sum of their journals'
    ``last_seq`` (an event appended to a finished run changes its digest)."""
    count, newest, seqs = 0, 0.0, 0
    for head in store.run_heads():
        if head.plan_name != plan or head.finished_at is None or head.id == exclude:
            continue
        count += 1
        newest = max(newest, head.finished_at)
        seqs += head.last_seq
    return count, newest, seqs


def fitted_history(
    store: JournalStore,
    plan_name: str,
    plan: Plan,
    plan_text: str,
    *,
    limit: int,
    exclude: str | None = None,
) -> FittedHistory:
    """The newest ``limit`` finished runs of ``plan_name`` (but ``exclude``) fitted for
    ``plan`` (loaded from ``plan_text``): from the cache while the history's version is the
    one it was fitted at, else read, fitted and kept."""
    digest = hashlib.sha256(plan_text.encode()).hexdigest()
    key = (str(store.state_dir), plan_name, digest, limit, exclude)
    version = history_version(store, plan_name, exclude)
    with _lock:
        found = _cache.get(key)
        if found is not None and found.version == version:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return found
        _stats["misses"] += 1
    history = read_history(store, plan_name, limit=limit, exclude=exclude)
    fitted = fit(plan, history)
    # Judged: each resource budget's fit reuses this admission (the same rule).
    entry = FittedHistory(version, Judged(history, fitted.admission), fitted)
    with _lock:
        _cache[key] = entry
        _cache.move_to_end(key)
        while len(_cache) > SIZE:
            _cache.popitem(last=False)
    return entry


def clear() -> None:
    """Forget every fitted history (the bench's uncached measurement; tests)."""
    with _lock:
        _cache.clear()
        _stats.update(hits=0, misses=0)


def stats() -> dict[str, int]:
    """Hits and misses since the last ``clear``."""
    with _lock:
        return dict(_stats)
