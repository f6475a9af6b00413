"""Schedules and their slots, on every back end: a slot is claimed exactly once, by threads
of one process and (on the shared back ends) by racing processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from phasegate.store.contract import JournalStore
from phasegate.store.schedules import CLAIMED, FIRED, MISSED, ScheduleRecord
from tests.store.contract.conftest import BACKENDS, SHARED, MakeStore

ROOT = Path(__file__).resolve().parents[3]


def record(name: str, ts: float = 1000.0) -> ScheduleRecord:
    spec = {"plan": "/plans/inv.yaml", "rule": {"cron": "0 2 * * *"}, "timezone": "UTC"}
    return ScheduleRecord(name, {**spec, "vars": {"K": "ü"}}, ts, "ana")


def test_schedules_are_added_listed_by_name_and_removed(store: JournalStore) -> None:
    assert store.schedules() == [] and store.schedule_named("inv") is None
    assert store.add_schedule(record("nightly", 2000.0))
    assert store.add_schedule(record("inv"))
    assert not store.add_schedule(record("inv", 3000.0))  # the first one stays
    assert [s.name for s in store.schedules()] == ["inv", "nightly"]
    assert store.schedule_named("inv") == record("inv")
    assert store.remove_schedule("inv")
    assert not store.remove_schedule("inv")
    assert [s.name for s in store.schedules()] == ["nightly"]


def test_a_slot_is_claimed_once_and_records_what_happened(store: JournalStore) -> None:
    store.add_schedule(record("inv"))
    assert not store.claim_slot("nobody", 60, by="a", ts=1.0)  # no such schedule
    assert store.claim_slot("inv", 60, by="a:1", ts=61.0)
    assert not store.claim_slot("inv", 60, by="b:2", ts=61.5)
    assert store.claim_slot("inv", 120, by="b:2", ts=121.0)
    assert store.claim_slot("inv", 180, by="a:1", ts=181.0)
    store.record_slot("inv", 60, outcome=FIRED, run_id="r-60")
    store.record_slot("inv", 120, outcome=MISSED, note="no server was up")
    store.record_slot("inv", 999, outcome=FIRED, run_id="ghost")  # never claimed: no-op
    found = [(s.slot, s.claimed_by, s.outcome, s.run_id, s.note) for s in store.slots("inv")]
    assert found == [
        (180, "a:1", CLAIMED, None, ""),
        (120, "b:2", MISSED, None, "no server was up"),
        (60, "a:1", FIRED, "r-60", ""),
    ]
    assert [s.slot for s in store.slots("inv", limit=1)] == [180]


def test_removing_a_schedule_forgets_its_slots_and_refuses_new_claims(
    store: JournalStore,
) -> None:
    store.add_schedule(record("inv"))
    assert store.claim_slot("inv", 60, by="a", ts=61.0)
    store.remove_schedule("inv")
    assert not store.claim_slot("inv", 120, by="a", ts=121.0)
    store.add_schedule(record("inv", 5000.0))  # a new schedule of that name starts afresh
    assert store.slots("inv") == []
    assert store.claim_slot("inv", 60, by="a", ts=5001.0)


def test_threads_racing_for_slots_each_slot_won_once(make_store: MakeStore, tmp_path: Path) -> None:
    first = make_store(tmp_path / "state")
    first.add_schedule(record("inv"))
    shared = type(first).__name__ == "MemoryStore"
    wins: list[tuple[int, int]] = []
    lock = threading.Lock()

    def race(who: int) -> None:
        # One instance per thread (the contract's rule), except the memory store, which
        # lives in its one instance.
        own = first if shared else make_store(tmp_path / "state")
        for slot in range(0, 40, 2):
            if own.claim_slot("inv", slot, by=f"t{who}", ts=float(slot)):
                with lock:
                    wins.append((slot, who))
        if own is not first:
            own.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(slot for slot, _ in wins) == list(range(0, 40, 2))
    by_slot = {s.slot: s.claimed_by for s in first.slots("inv", limit=100)}
    assert by_slot == {slot: f"t{who}" for slot, who in wins}
    first.close()


@pytest.mark.parametrize("backend", SHARED)
def test_processes_racing_for_slots_each_slot_won_once(backend: str, tmp_path: Path) -> None:
    store = BACKENDS[backend](tmp_path / "state")
    store.add_schedule(record("inv"))
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from tests.store.contract.conftest import BACKENDS
        store = BACKENDS[{backend!r}](Path({str(tmp_path / "state")!r}))
        sys.stdin.readline()  # all start together
        won = [s for s in range(30) if store.claim_slot("inv", s, by=sys.argv[1], ts=1.0)]
        print(" ".join(map(str, won)))
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"p{n}"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    won: list[int] = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        won.extend(int(s) for s in out.split())
    assert sorted(won) == list(range(30))
    assert len(store.slots("inv", limit=100)) == 30
    store.close()
