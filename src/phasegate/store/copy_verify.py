"""What ``phasegate store copy`` checks once it has written (store/copy.py): every run of the
source, on both sides, reduced to a digest per part, compared part by part.

A run's parts: its ``record`` (plan, lock, idempotency key, creation time, options: what the
copy must keep; status, times and summary follow from the events), its ``events`` (seq, time,
type and data of each), its ``outputs`` (the steps' outputs as the store materializes them),
its ``logs`` (every item's and monitor's log bytes) and its durations ``digest`` (when the
source holds a fresh one). Each part is a SHA-256 over a canonical JSON (sorted keys) or the
bytes themselves, so a mismatch names the part, not only the run, and two back ends that
store the same thing differently (JSON columns, log files or chunks) digest alike.

A copy writes through the contract and verifies what it reads back; what this catches is what
the contract cannot see: a destination that stores something other than what it was given (a
float rounded, a log chunk lost, bytes changed on disk since an earlier copy).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from phasegate.store.contract import JournalStore

PARTS = ("record", "events", "outputs", "logs", "digest")
DIGEST_PAGE = 2_000  # finished runs per read, as the history read pages them


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RunDigest:
    """One run's parts as digests (``digest`` is None when no fresh durations digest is
    held)."""

    run_id: str
    record: str
    events: str
    outputs: str
    logs: str
    digest: str | None

    def differs(self, other: RunDigest) -> list[str]:
        """The parts that differ from ``other``'s, in ``PARTS`` order."""
        return [p for p in PARTS if getattr(self, p) != getattr(other, p)]


def durations_digests(store: JournalStore, plans: Iterable[str]) -> dict[str, str]:
    """run id -> the SHA-256 of its fresh durations digest, for the finished runs of
    ``plans``."""
    found: dict[str, str] = {}
    for plan in sorted(set(plans)):
        before: tuple[float, str] | None = None
        while True:
            rows = store.finished_runs(plan, limit=DIGEST_PAGE, before=before)
            for row in rows:
                if row.digest is not None:
                    found[row.run_id] = _sha([row.last_seq, row.digest])
            if len(rows) < DIGEST_PAGE:
                break
            before = (rows[-1].created_at, rows[-1].run_id)
    return found


def run_digest(store: JournalStore, run_id: str, digests: dict[str, str]) -> RunDigest:
    """The run's parts on ``store``; ``digests``: ``durations_digests`` of its plan."""
    record = store.get_run(run_id)
    state = store.load_state(run_id)
    logs = hashlib.sha256()
    for key in sorted({*state.items, *state.monitors}):
        data = store.read_log(run_id, key).data
        # Length-prefixed: "a" + "bc" and "ab" + "c" are different logs.
        logs.update(f"{key}\0{len(data)}\0".encode())
        logs.update(data)
    return RunDigest(
        run_id=run_id,
        record=_sha(
            [
                record.plan_name,
                record.plan_path,
                record.plan_sha256,
                record.plan_text,
                record.lock_name,
                record.idempotency_key,
                record.created_at,
                record.options,
            ]
        ),
        events=_sha([[e.seq, e.ts, e.type, e.data] for e in store.events(run_id)]),
        outputs=_sha(store.step_outputs(run_id)),
        logs=logs.hexdigest(),
        digest=digests.get(run_id),
    )


@dataclass(frozen=True, slots=True)
class Mismatch:
    run_id: str
    parts: list[str]  # what differs; ["missing"]: the destination lacks the run

    def words(self) -> str:
        if self.parts == ["missing"]:
            return f"run {self.run_id}: missing from the destination"
        return f"run {self.run_id}: {', '.join(self.parts)} differ"


def compare(src: JournalStore, dst: JournalStore, run_ids: list[str]) -> list[Mismatch]:
    """Each run of ``run_ids`` whose parts differ between ``src`` and ``dst``, in order."""
    plans = {src.get_run(run_id).plan_name for run_id in run_ids}
    ours, theirs = durations_digests(src, plans), durations_digests(dst, plans)
    found = []
    for run_id in run_ids:
        if dst.run_head(run_id) is None:
            found.append(Mismatch(run_id, ["missing"]))
            continue
        parts = run_digest(src, run_id, ours).differs(run_digest(dst, run_id, theirs))
        if parts:
            found.append(Mismatch(run_id, parts))
    return found
