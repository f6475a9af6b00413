"""A finished run's durations digest (store/digests.py): its ``RunDurations`` as a JSON
object, so a history read takes one row per run instead of its whole journal.

Written once when a run ends (``record``, called by the engine), or lazily: a history read
that finds a finished run without a (fresh) digest computes it from the journal, uses it, and
saves it (``read_history``; a read-only store cannot, ``phasegate estimate`` then saves through
a writable one). ``VERSION`` numbers what a digest holds and how it was computed: a digest of
another version is computed again, so changing ``durations`` only needs a new number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from phasegate.errors import StoreError
from phasegate.estimate.history import RunDurations, durations, durations_of
from phasegate.run.record import JsonDict
from phasegate.store.digests import HistoryRow, dump_digest

if TYPE_CHECKING:
    from phasegate.store.contract import JournalStore

VERSION = 1
PAGE = 2_000  # finished runs per read (a digest is ~1 KB for a dozen steps)


class Digest(TypedDict):
    """What a digest of ``VERSION`` holds (a JSON object in the store)."""

    v: int
    status: str
    vars: JsonDict
    steps: dict[str, float]
    phases: dict[str, float]
    total: float | None
    waited: float
    amounts: dict[str, dict[str, float]]


Pending = tuple[str, int, Digest]  # (run id, last_seq, digest): to save


def to_digest(run: RunDurations) -> Digest:
    return {
        "v": VERSION,
        "status": run.status,
        "vars": run.vars,
        "steps": run.steps,
        "phases": run.phases,
        "total": run.total,
        "waited": run.waited,
        "amounts": run.amounts,
    }


def from_digest(row: HistoryRow) -> RunDurations | None:
    """The run's durations from its digest; None when it has none of this version."""
    stored = row.digest
    if stored is None or stored.get("v") != VERSION:
        return None
    found = cast(Digest, stored)  # written by to_digest: its version says so
    return RunDurations(
        run_id=row.run_id,
        plan=row.plan,
        status=row.status,
        created_at=row.created_at,
        vars=found["vars"],
        steps=found["steps"],
        phases=found["phases"],
        total=found["total"],
        waited=found["waited"],
        amounts=found["amounts"],
    )


def computed(store: JournalStore, row: HistoryRow) -> tuple[RunDurations, Pending]:
    """A run's durations from its journal, and the digest to save for it."""
    events = store.events(row.run_id)
    found = durations_of(row.run_id, row.plan, row.status, row.created_at, events)
    return found, (row.run_id, row.last_seq, to_digest(found))


def read_digested(
    store: JournalStore, plan: str, *, limit: int, exclude: str | None
) -> tuple[list[RunDurations], list[Pending]]:
    """The newest ``limit`` finished runs of ``plan`` (but ``exclude``), oldest first, and the
    digests computed on the way that the store did not have."""
    found: list[RunDurations] = []
    pending: list[Pending] = []
    before: tuple[float, str] | None = None
    # One read transaction for all of it: consistent, and cheaper than one per query.
    with store.snapshot():
        while len(found) < limit:
            rows = store.finished_runs(plan, limit=min(PAGE, limit - len(found) + 1), before=before)
            if not rows:
                break
            for row in rows:
                if row.run_id == exclude or len(found) >= limit:
                    continue
                run = from_digest(row)
                if run is None:
                    run, digest = computed(store, row)
                    pending.append(digest)
                found.append(run)
            before = (rows[-1].created_at, rows[-1].run_id)
    found.reverse()
    return found, pending


def save(store: JournalStore, pending: Sequence[Pending]) -> bool:
    """Save computed digests; False when the store cannot (read-only, or a write failed: they
    are computed again next time)."""
    if not pending:
        return True
    try:
        store.save_digests(pending)
    except StoreError:
        return False
    return True


def read_history(
    store: JournalStore, plan: str, *, limit: int = 10_000, exclude: str | None = None
) -> list[RunDurations]:
    """The newest ``limit`` finished runs of ``plan`` (but ``exclude``), oldest first, from
    their durations digests; a run without one is read from its journal once and its digest
    saved (when the store is writable)."""
    found, pending = read_digested(store, plan, limit=limit, exclude=exclude)
    save(store, pending)
    return found


def record(store: JournalStore, run_id: str) -> None:
    """The digest of a run that has just ended, saved (the engine calls it; best effort)."""
    head = store.get_run(run_id)
    if head.finished_at is None:
        return
    found = durations(head, store.events(run_id))
    save(store, [(run_id, head.last_seq, to_digest(found))])


@dataclass(frozen=True)
class DigestMismatch:
    """A finished run whose saved digest is not what its journal gives (``phasegate check``)."""

    run_id: str
    plan: str
    fields: tuple[str, ...]  # the digest's keys that differ
    expected: Pending  # the digest computed from the journal: what a repair saves


def _normal(value: Any) -> Any:
    """As a JSON round trip leaves it (tuples are lists), so equal digests compare equal."""
    return json.loads(dump_digest(value))


def verify(store: JournalStore) -> tuple[int, list[DigestMismatch]]:
    """Every fresh digest of this ``VERSION`` against its run's journal, in one snapshot:
    ``(digests checked, mismatches)``. A digest of another version or a stale one is never
    read (it is computed again), so it is not checked."""
    checked = 0
    found: list[DigestMismatch] = []
    with store.snapshot():
        for plan in sorted({head.plan_name for head in store.run_heads()}):
            before: tuple[float, str] | None = None
            while True:
                rows = store.finished_runs(plan, limit=PAGE, before=before)
                for row in rows:
                    if row.digest is None or row.digest.get("v") != VERSION:
                        continue
                    checked += 1
                    _, expected = computed(store, row)
                    saved, right = _normal(row.digest), _normal(expected[2])
                    if saved != right:
                        keys = sorted(set(saved) | set(right))
                        fields = tuple(k for k in keys if saved.get(k) != right.get(k))
                        found.append(DigestMismatch(row.run_id, plan, fields, expected))
                if len(rows) < PAGE:
                    break
                before = (rows[-1].created_at, rows[-1].run_id)
    return checked, found


def repair(store: JournalStore, mismatches: Sequence[DigestMismatch]) -> None:
    """Save the journal's digest over each mismatching one (raises ``StoreError`` when the
    store cannot be written)."""
    if mismatches:
        store.save_digests([m.expected for m in mismatches])
