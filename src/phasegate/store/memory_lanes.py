"""Lanes in memory (``MemoryStore``'s part of the contract; store/lanes.py). The store's one
mutex makes a grant atomic; stale tickets are judged from the runs this store keeps."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from phasegate.lanes.model import Lane, LaneChange, Ticket
from phasegate.lanes.scheduler import grants
from phasegate.run.state import TERMINAL
from phasegate.store.lanes import check_setting, new_setting
from phasegate.store.records import RunRecord


class MemoryLanes:
    """Mixed into ``MemoryStore``, which owns ``_mutex`` and the runs (``_record``; declared
    here for the type checker only, so nothing here shadows it)."""

    _mutex: threading.RLock

    if TYPE_CHECKING:

        def _record(self, run_id: str) -> RunRecord | None: ...

    def __init__(self) -> None:
        self._lanes: dict[str, Lane] = {}
        self._lane_changes: list[LaneChange] = []
        self._tickets: dict[str, Ticket] = {}

    def lanes(self) -> list[Lane]:
        with self._mutex:
            return [self._lanes[name] for name in sorted(self._lanes)]

    def set_lane(
        self, name: str, *, cap: int | None, weight: float | None, by: str, ts: float
    ) -> LaneChange:
        check_setting(name, cap, weight)
        with self._mutex:
            lane, change = new_setting(self._lanes.get(name), name, cap, weight, by, ts)
            self._lanes[name] = lane
            self._lane_changes.append(change)
            return change

    def lane_changes(self, *, lane: str | None = None, limit: int = 50) -> list[LaneChange]:
        with self._mutex:
            found = [c for c in self._lane_changes if lane is None or c.lane == lane]
        return found[::-1][:limit]

    def lane_tickets(self) -> list[Ticket]:
        with self._mutex:
            return sorted(self._tickets.values(), key=lambda t: (t.enqueued_at, t.run_id))

    def lane_request(self, run_id: str, lane: str, *, ts: float) -> Ticket:
        with self._mutex:
            for other in list(self._tickets):
                if other != run_id and self._stale(other):
                    del self._tickets[other]
            if run_id not in self._tickets:
                self._tickets[run_id] = Ticket(run_id, lane, ts)
            for granted in grants(self._lanes, list(self._tickets.values())):
                self._tickets[granted] = replace(self._tickets[granted], granted_at=ts)
            return self._tickets[run_id]

    def lane_release(self, run_id: str) -> None:
        with self._mutex:
            self._tickets.pop(run_id, None)

    def _stale(self, run_id: str) -> bool:
        record = self._record(run_id)
        if record is None or record.status in TERMINAL or record.owner is None:
            return True
        return record.owner.alive() is False
