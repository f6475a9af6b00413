"""Durations digests: a finished run's small summary, kept so history reads need no journal
(store/contract.py, ``JournalStore`` "digests"; issue 13 §4's performance goal).

Reading 10,000 runs' journals to learn a plan's durations costs seconds; a digest is one row
per finished run (what its steps and phases took, human waits removed, and the facts the
calibration rule reads), written once when the run ends, or lazily, the first time a history
read finds a finished run without one. The store keeps it as an opaque JSON object with the
run's ``last_seq`` at the time: a digest whose ``last_seq`` is not the run's (the run was
resumed, rolled back later) is not returned, so a stale digest is never read. What a digest
holds is the estimate package's business (estimate/digest.py); the store never interprets it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phasegate.run.record import JsonDict


@dataclass(frozen=True)
class HistoryRow:
    """A finished run of a plan as a history read sees it: its few columns and its digest."""

    run_id: str
    plan: str
    status: str
    created_at: float
    finished_at: float
    last_seq: int
    digest: JsonDict | None  # None: none saved, or saved at another last_seq


# The columns ``history_from_row`` reads, runs ``r`` joined with digests ``d``.
HISTORY_COLUMNS = (
    "r.id, r.plan_name, r.status, r.created_at, r.finished_at, r.last_seq, d.last_seq, d.data"
)


def history_from_row(row: tuple[Any, ...]) -> HistoryRow:
    fresh = row[6] is not None and int(row[6]) == int(row[5])
    return HistoryRow(
        run_id=str(row[0]),
        plan=str(row[1]),
        status=str(row[2]),
        created_at=float(row[3]),
        finished_at=float(row[4]),
        last_seq=int(row[5]),
        digest=json.loads(row[7]) if fresh else None,
    )


def dump_digest(digest: Mapping[str, object]) -> str:
    return json.dumps(digest, separators=(",", ":"), ensure_ascii=False)
