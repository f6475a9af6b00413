"""The scheduler's ticks over a fake clock, on the memory store: fires, catch-up and skip
after an outage, several schedulers on one store, a held lock, a plan that stopped loading.
Runs are started through a recording pool (the real path is covered by test_schedules_serve)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from phasegate.engine.session import RunOptions
from phasegate.errors import LockHeld
from phasegate.plan.loader import LoadedPlan
from phasegate.server.config import ServerConfig
from phasegate.server.scheduler import Scheduler
from phasegate.store.contract import JournalStore
from phasegate.store.memory import MemoryStore
from phasegate.store.schedules import ERROR, FIRED, MISSED, SKIPPED, ScheduleRecord

PLAN = "version: 1\nname: inv\nphases:\n  - id: p\n    steps:\n      - {run: 'true'}\n"
T0 = datetime(2026, 12, 6, 0, 0, 30, tzinfo=UTC).timestamp()


@dataclass
class RecordingPool:
    started: list[RunOptions] = field(default_factory=list)
    lock_held: bool = False

    def start_run(
        self, store: JournalStore, loaded: LoadedPlan, options: RunOptions
    ) -> tuple[str, bool]:
        if self.lock_held:
            raise LockHeld("lock 'inv' is held by run r0")
        self.started.append(options)
        return f"run-{options.slot}", True


def scheduler(tmp_path: Path, pool: RecordingPool) -> Scheduler:
    return Scheduler(ServerConfig(state_dir=tmp_path), pool)  # type: ignore[arg-type]


def add(store: MemoryStore, tmp_path: Path, rule: dict[str, str], missed: str = "skip") -> None:
    plan = tmp_path / "inv.yaml"
    plan.write_text(PLAN)
    spec: dict[str, Any] = {"plan": str(plan), "plan_name": "inv", "rule": rule}
    spec |= {"timezone": "UTC", "vars": {"K": "v"}, "missed": missed}
    assert store.add_schedule(ScheduleRecord("inv", spec, T0, "ana"))


@pytest.fixture
def store(tmp_path: Path) -> MemoryStore:
    return MemoryStore(tmp_path)


def test_each_slot_fires_once_with_the_schedule_in_its_options(
    store: MemoryStore, tmp_path: Path
) -> None:
    add(store, tmp_path, {"kind": "every", "text": "2s"})
    pool = RecordingPool()
    first, second = scheduler(tmp_path, pool), scheduler(tmp_path, pool)
    now = T0
    while now < T0 + 10:
        first.tick(store, now)
        second.tick(store, now + 0.1)
        now += 0.25
    assert [o.slot for o in pool.started] == [int(T0) + n for n in (2, 4, 6, 8)]
    options = pool.started[0]
    assert options.schedule == "inv" and options.started_by == "schedule:inv"
    assert options.overrides == {"K": "v"}
    assert options.idempotency_key == f"schedule:inv:{int(T0) + 2}"
    assert [(s.outcome, s.run_id) for s in store.slots("inv")] == [
        (FIRED, f"run-{int(T0) + n}") for n in (8, 6, 4, 2)
    ]


@pytest.mark.parametrize(
    ("missed", "outcome", "fired"), [("skip", MISSED, 0), ("catch-up-one", FIRED, 1)]
)
def test_after_an_outage_the_policy_decides(
    store: MemoryStore, tmp_path: Path, missed: str, outcome: str, fired: int
) -> None:
    add(store, tmp_path, {"kind": "cron", "text": "0 * * * *"}, missed)
    pool = RecordingPool()
    back = T0 + 5 * 3600 + 600  # five hourly slots passed while no server ran
    for n in range(4):
        scheduler(tmp_path, pool).tick(store, back + n)  # restarted servers, one after another
    [slot] = store.slots("inv")
    assert (slot.slot, slot.outcome) == (int(T0 - 30 + 5 * 3600), outcome)
    assert len(pool.started) == fired
    if fired:
        assert "catch-up" in slot.note
    # the next slot fires on time, once
    following = scheduler(tmp_path, pool)
    following.tick(store, T0 - 30 + 6 * 3600 + 1)
    following.tick(store, T0 - 30 + 6 * 3600 + 2)
    assert len(pool.started) == fired + 1
    assert store.slots("inv")[0].note == ""


def test_a_held_lock_skips_the_slot_and_a_broken_plan_is_an_error(
    store: MemoryStore, tmp_path: Path
) -> None:
    add(store, tmp_path, {"kind": "every", "text": "2s"})
    pool = RecordingPool(lock_held=True)
    ticking = scheduler(tmp_path, pool)
    ticking.tick(store, T0 + 2.1)
    (tmp_path / "inv.yaml").write_text("version: 1\nname: inv\nphases: nope\n")
    ticking.tick(store, T0 + 4.1)
    newest, oldest = store.slots("inv")
    assert (oldest.outcome, newest.outcome) == (SKIPPED, ERROR)
    assert "held by run r0" in oldest.note and "not run:" in newest.note
    assert pool.started == []


def test_a_removed_schedule_stops_and_a_re_added_one_starts_from_its_creation(
    store: MemoryStore, tmp_path: Path
) -> None:
    add(store, tmp_path, {"kind": "every", "text": "2s"})
    pool = RecordingPool()
    ticking = scheduler(tmp_path, pool)
    ticking.tick(store, T0 + 2.1)
    store.remove_schedule("inv")
    ticking.tick(store, T0 + 4.1)
    assert len(pool.started) == 1
