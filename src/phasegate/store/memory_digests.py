"""Durations digests in the memory store (``MemoryStore``'s part of the contract;
store/digests.py). Kept as JSON text, as the other stores keep them, so a value that would not
survive the round trip behaves the same here."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from phasegate.store.digests import HistoryRow, dump_digest

if TYPE_CHECKING:
    from phasegate.store.records import RunRecord


class MemoryDigests:
    """Mixed into ``MemoryStore``; one lock of its own. Reads runs through its ``runs_page``
    (declared here for the type checker only)."""

    if TYPE_CHECKING:

        def runs_page(
            self,
            *,
            limit: int,
            plan: str | None = None,
            status: str | None = None,
            before: tuple[float, str] | None = None,
        ) -> list[RunRecord]: ...

        def run_ids(self) -> list[str]: ...

    def __init__(self) -> None:
        self._digests: dict[str, tuple[int, str]] = {}
        self._digest_mutex = threading.Lock()

    def finished_runs(
        self, plan: str, *, limit: int, before: tuple[float, str] | None = None
    ) -> list[HistoryRow]:
        out: list[HistoryRow] = []
        cursor = before
        while len(out) < limit:
            page = self.runs_page(limit=500, plan=plan, before=cursor)
            if not page:
                break
            with self._digest_mutex:
                saved = {r.id: self._digests.get(r.id) for r in page}
            for record in page:
                if record.finished_at is None:
                    continue
                found = saved[record.id]
                fresh = found is not None and found[0] == record.last_seq
                out.append(
                    HistoryRow(
                        run_id=record.id,
                        plan=record.plan_name,
                        status=record.status,
                        created_at=record.created_at,
                        finished_at=record.finished_at,
                        last_seq=record.last_seq,
                        digest=json.loads(found[1]) if fresh and found is not None else None,
                    )
                )
                if len(out) == limit:
                    break
            cursor = (page[-1].created_at, page[-1].id)
        return out

    def save_digests(self, digests: Sequence[tuple[str, int, Mapping[str, object]]]) -> None:
        known = set(self.run_ids())  # a digest of a run the store does not know is ignored
        with self._digest_mutex:
            for run_id, seq, data in digests:
                if run_id in known:
                    self._digests[run_id] = (seq, dump_digest(data))
