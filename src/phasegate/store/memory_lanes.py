"""Lanes in memory (``MemoryStore``'s part of the contract; store/lanes.py). The store's one
mutex makes a grant atomic; stale tickets are judged from the runs this store keeps."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from phasegate.lanes.model import Lane, LaneChange, Ticket, ticket_id
from phasegate.store.lanes import (
    Held,
    check_priority,
    check_setting,
    grant_time,
    new_setting,
    settle,
)
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
            return sorted(self._tickets.values(), key=lambda t: (t.enqueued_at, t.run_id, t.phase))

    def lane_place(self, run_id: str, *, phase: str = "") -> tuple[Ticket, int] | None:
        with self._mutex:
            ticket = self._tickets.get(ticket_id(run_id, phase))
            if ticket is None:
                return None
            if ticket.granted:
                return ticket, 0
            mine = (ticket.rank, ticket.run_id, ticket.phase)
            ahead = sum(
                1
                for t in self._tickets.values()
                if t.lane == ticket.lane and not t.granted and (t.rank, t.run_id, t.phase) < mine
            )
            return ticket, ahead + 1

    def lane_request(
        self,
        run_id: str,
        lane: str,
        *,
        ts: float | None = None,
        phase: str = "",
        priority: int = 0,
    ) -> Ticket:
        check_priority(priority)
        key = ticket_id(run_id, phase)
        with self._mutex:
            ts = grant_time(ts)
            if key not in self._tickets:
                self._tickets[key] = Ticket(run_id, lane, ts, phase=phase, priority=priority)
            self._grant(ts, keep=run_id)
            return self._tickets[key]

    def lane_grant(self, *, ts: float | None = None) -> None:
        with self._mutex:
            self._grant(grant_time(ts), keep="")

    def _grant(self, ts: float, *, keep: str) -> None:
        held = []
        for ticket in self._tickets.values():
            record = self._record(ticket.run_id)
            status = None if record is None else record.status
            held.append(Held(ticket, status, None if record is None else record.owner))
        granted, stale = settle(self._lanes, held, keep=keep, dead=_dead_here)
        for gone in stale:
            del self._tickets[gone]
        for granted_id in granted:
            self._tickets[granted_id] = replace(self._tickets[granted_id], granted_at=ts)

    def lane_release(self, run_id: str, *, phase: str | None = None) -> None:
        with self._mutex:
            if phase is not None:
                self._tickets.pop(ticket_id(run_id, phase), None)
                return
            for key in [k for k, t in self._tickets.items() if t.run_id == run_id]:
                del self._tickets[key]


def _dead_here(held: Held) -> bool:
    return held.owner is not None and held.owner.alive() is False
