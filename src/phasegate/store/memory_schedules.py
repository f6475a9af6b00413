"""Schedules in memory (``MemoryStore``'s part of the contract; store/schedules.py)."""

from __future__ import annotations

import threading
from dataclasses import replace

from phasegate.store.schedules import CLAIMED, ScheduleRecord, SlotRecord


class MemorySchedules:
    """Mixed into ``MemoryStore``; one lock of its own (nothing here touches runs)."""

    def __init__(self) -> None:
        self._schedules: dict[str, ScheduleRecord] = {}
        self._slots: dict[tuple[str, int], SlotRecord] = {}
        self._schedule_mutex = threading.Lock()

    def add_schedule(self, record: ScheduleRecord) -> bool:
        with self._schedule_mutex:
            if record.name in self._schedules:
                return False
            self._schedules[record.name] = record
            return True

    def schedules(self) -> list[ScheduleRecord]:
        with self._schedule_mutex:
            return [self._schedules[name] for name in sorted(self._schedules)]

    def schedule_named(self, name: str) -> ScheduleRecord | None:
        with self._schedule_mutex:
            return self._schedules.get(name)

    def remove_schedule(self, name: str) -> bool:
        with self._schedule_mutex:
            for key in [k for k in self._slots if k[0] == name]:
                del self._slots[key]
            return self._schedules.pop(name, None) is not None

    def claim_slot(self, name: str, slot: int, *, by: str, ts: float) -> bool:
        with self._schedule_mutex:
            if name not in self._schedules or (name, slot) in self._slots:
                return False
            self._slots[(name, slot)] = SlotRecord(name, slot, ts, by, CLAIMED)
            return True

    def record_slot(
        self, name: str, slot: int, *, outcome: str, run_id: str | None = None, note: str = ""
    ) -> None:
        with self._schedule_mutex:
            found = self._slots.get((name, slot))
            if found is not None:
                self._slots[(name, slot)] = replace(
                    found, outcome=outcome, run_id=run_id, note=note
                )

    def slots(self, name: str, *, limit: int = 50) -> list[SlotRecord]:
        with self._schedule_mutex:
            found = [r for (n, _), r in self._slots.items() if n == name]
        return sorted(found, key=lambda r: r.slot, reverse=True)[:limit]
