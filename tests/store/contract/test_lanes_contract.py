"""Lanes on every back end (store/lanes.py): settings and their audit trail, grants up to the
cap in arrival order, slots freed by a run's end or by release, stale tickets reclaimed, a
lowered cap holding for new grants, and caps never exceeded by racing threads and processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from phasegate.errors import UsageError
from phasegate.lanes import POOL, Lane
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from tests.store.contract.conftest import BACKENDS, SHARED, MakeStore
from tests.store.contract.script import SCRIPT, advance, create

ROOT = Path(__file__).resolve().parents[3]


def runs(store: JournalStore, *ids: str, owner: Owner | None = None) -> None:
    for n, run_id in enumerate(ids):
        create(store, run_id, lock=f"plan-{run_id}", ts=1000.0 + n, owner=owner)


def granted(store: JournalStore) -> list[str]:
    return [t.run_id for t in store.lane_tickets() if t.granted]


def test_settings_are_kept_with_who_changed_what(store: JournalStore) -> None:
    assert store.lanes() == [] and store.lane_changes() == []
    store.set_lane("Code-API", cap=4, weight=2.0, by="ana", ts=10.0)
    store.set_lane("Data-Schema", cap=2, weight=None, by="bo", ts=11.0)
    change = store.set_lane("Code-API", cap=1, weight=None, by="cy", ts=12.0)
    assert (change.previous_cap, change.previous_weight, change.weight) == (4, 2.0, 2.0)
    store.set_lane(POOL, cap=5, weight=None, by="ana", ts=13.0)
    assert store.lanes() == [
        Lane(POOL, 5, 1.0, 13.0, "ana"),
        Lane("Code-API", 1, 2.0, 12.0, "cy"),
        Lane("Data-Schema", 2, 1.0, 11.0, "bo"),
    ]
    history = [(c.lane, c.cap, c.previous_cap, c.by) for c in store.lane_changes()]
    assert history == [
        (POOL, 5, None, "ana"),
        ("Code-API", 1, 4, "cy"),
        ("Data-Schema", 2, None, "bo"),
        ("Code-API", 4, None, "ana"),
    ]
    assert [c.by for c in store.lane_changes(lane="Code-API", limit=1)] == ["cy"]


@pytest.mark.parametrize(
    ("name", "cap", "weight"),
    [("bad name", 1, None), ("a", -1, None), ("a", 1, 0.0), ("a", 2**63, None)],
)
def test_bad_settings_are_refused_and_nothing_is_stored(
    store: JournalStore, name: str, cap: int, weight: float | None
) -> None:
    with pytest.raises(UsageError):
        store.set_lane(name, cap=cap, weight=weight, by="ana", ts=1.0)
    assert store.lanes() == [] and store.lane_changes() == []


def test_slots_are_granted_up_to_the_cap_first_come_first_served(store: JournalStore) -> None:
    store.set_lane("api", cap=2, weight=None, by="ana", ts=1.0)
    runs(store, "r1", "r2", "r3", "r4")
    assert store.lane_request("r1", "api", ts=100.0).granted_at == 100.0
    assert store.lane_request("r2", "api", ts=101.0).granted
    third = store.lane_request("r3", "api", ts=102.0)
    assert not third.granted and third.enqueued_at == 102.0
    assert not store.lane_request("r4", "api", ts=103.0).granted
    # Asking again keeps the place in the queue (its first enqueued_at).
    assert store.lane_request("r3", "api", ts=104.0).enqueued_at == 102.0
    assert granted(store) == ["r1", "r2"]
    store.lane_release("r1")
    # r4 asks first, but r3 was queued first: the grant (for everybody) goes to r3.
    assert not store.lane_request("r4", "api", ts=105.0).granted
    assert granted(store) == ["r2", "r3"]
    assert store.lane_request("r3", "api", ts=106.0).granted_at == 105.0


def test_a_run_that_ends_frees_its_slot_in_the_same_write(store: JournalStore) -> None:
    store.set_lane("api", cap=1, weight=None, by="ana", ts=1.0)
    runs(store, "r1", "r2")
    assert store.lane_request("r1", "api", ts=100.0).granted
    assert not store.lane_request("r2", "api", ts=101.0).granted
    advance(store, "r1", len(SCRIPT) - 1)
    assert [t.run_id for t in store.lane_tickets()] == ["r1", "r2"]  # still running
    advance(store, "r1", 1)  # run.finished
    assert [t.run_id for t in store.lane_tickets()] == ["r2"]
    assert store.lane_request("r2", "api", ts=102.0).granted


def test_a_lowered_cap_preempts_nothing_and_holds_for_new_grants(store: JournalStore) -> None:
    store.set_lane("api", cap=3, weight=None, by="ana", ts=1.0)
    runs(store, "r1", "r2", "r3", "r4")
    for n, run_id in enumerate(["r1", "r2", "r3"]):
        assert store.lane_request(run_id, "api", ts=100.0 + n).granted
    store.set_lane("api", cap=1, weight=None, by="bo", ts=110.0)
    assert granted(store) == ["r1", "r2", "r3"]  # nobody pre-empted
    assert not store.lane_request("r4", "api", ts=111.0).granted
    store.lane_release("r1")
    store.lane_release("r2")
    assert not store.lane_request("r4", "api", ts=112.0).granted  # r3 alone fills the cap
    store.lane_release("r3")
    assert store.lane_request("r4", "api", ts=113.0).granted


def test_the_pool_caps_all_lanes_together(store: JournalStore) -> None:
    store.set_lane(POOL, cap=2, weight=None, by="ana", ts=1.0)
    store.set_lane("a", cap=5, weight=None, by="ana", ts=1.0)
    runs(store, "r1", "r2", "r3")
    assert store.lane_request("r1", "a", ts=100.0).granted
    assert store.lane_request("r2", "uncapped", ts=101.0).granted
    assert not store.lane_request("r3", "uncapped", ts=102.0).granted


def test_tickets_of_dead_released_or_ended_owners_are_reclaimed(
    make_store: MakeStore, tmp_path: Path, dead_owner: Owner
) -> None:
    first = make_store(tmp_path / "state")
    first.set_lane("api", cap=3, weight=None, by="ana", ts=1.0)
    runs(first, "dead", owner=dead_owner)
    runs(first, "released", "live")
    for n, run_id in enumerate(["dead", "released"]):
        assert first.lane_request(run_id, "api", ts=100.0 + n).granted
    # A phase's slot (its own ticket) of the dead owner is reclaimed the same way.
    assert first.lane_request("dead", "api", ts=101.5, phase="deploy").granted
    first.release("released", owner=Owner.me())
    memory = type(first).__name__ == "MemoryStore"
    if not memory:
        first.close()  # PostgreSQL: the session holding the dead owner's claim ends
    second = first if memory else make_store(tmp_path / "state")
    assert second.lane_request("live", "api", ts=102.0).granted
    assert [t.run_id for t in second.lane_tickets()] == ["live"]
    second.close()


def test_threads_racing_for_slots_never_exceed_the_cap(
    make_store: MakeStore, tmp_path: Path
) -> None:
    first = make_store(tmp_path / "state")
    first.set_lane("api", cap=3, weight=None, by="ana", ts=1.0)
    ids = [f"r{n:02d}" for n in range(24)]
    runs(first, *ids)
    shared = type(first).__name__ == "MemoryStore"
    answers: list[str] = []
    lock = threading.Lock()

    def race(part: list[str]) -> None:
        own = first if shared else make_store(tmp_path / "state")
        for run_id in part:
            if own.lane_request(run_id, "api", ts=200.0).granted:
                with lock:
                    answers.append(run_id)
        if own is not first:
            own.close()

    threads = [threading.Thread(target=race, args=(ids[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(granted(first)) == 3
    assert set(answers) <= set(granted(first))
    first.close()


@pytest.mark.parametrize("backend", SHARED)
def test_processes_racing_for_slots_never_exceed_the_cap(backend: str, tmp_path: Path) -> None:
    store = BACKENDS[backend](tmp_path / "state")
    store.set_lane("api", cap=2, weight=None, by="ana", ts=1.0)
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from tests.store.contract.conftest import BACKENDS
        from tests.store.contract.script import create
        store = BACKENDS[{backend!r}](Path({str(tmp_path / "state")!r}))
        me = sys.argv[1]
        ids = [f"{{me}}-{{n}}" for n in range(6)]
        for run_id in ids:
            create(store, run_id, lock=run_id)
        print("ready", flush=True)
        sys.stdin.readline()  # all ask together
        won = [r for r in ids if store.lane_request(r, "api", ts=time.time()).granted]
        print(" ".join(won), flush=True)
        sys.stdin.readline()  # alive (owning its runs) until the parent has looked
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
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        won: list[str] = []
        for child in children:
            assert child.stdout is not None
            won.extend(child.stdout.readline().split())
        assert len(won) == 2
        assert sorted(won) == sorted(granted(store))
    finally:
        for child in children:
            if child.stdin is not None:
                child.stdin.close()
            child.wait(timeout=60)
            if child.stdout is not None:
                child.stdout.close()
        store.close()


def test_a_queued_run_reads_its_place_without_writing(store: JournalStore) -> None:
    store.set_lane("api", cap=1, weight=None, by="ana", ts=1.0)
    runs(store, "r1", "r2", "r3", "r4")
    assert store.lane_place("r1") is None
    store.lane_request("r1", "api", ts=100.0)
    store.lane_request("r3", "api", ts=101.0)
    store.lane_request("r2", "api", ts=101.0)  # same instant: the run id decides
    store.lane_request("r4", "other", ts=99.0)  # another lane: not ahead of anyone here
    places = {r: store.lane_place(r) for r in ("r1", "r2", "r3", "r4")}
    assert {r: (p[0].granted, p[1]) for r, p in places.items() if p} == {
        "r1": (True, 0),
        "r2": (False, 1),
        "r3": (False, 2),
        "r4": (True, 0),
    }


def test_a_grant_reads_only_the_head_of_each_queue_yet_decides_as_if_it_read_all(
    store: JournalStore,
) -> None:
    """More queued runs than a grant reads (store.lanes.CANDIDATES): still oldest first."""
    store.set_lane("api", cap=2, weight=None, by="ana", ts=1.0)
    ids = [f"r{n:03d}" for n in range(80)]
    runs(store, *ids)
    for n, run_id in enumerate(reversed(ids)):  # enqueued newest id first
        store.lane_request(run_id, "api", ts=100.0 + n)
    assert granted(store) == ["r079", "r078"]
    store.lane_release("r079")
    store.lane_release("r078")
    store.lane_request("r000", "api", ts=500.0)
    assert granted(store) == ["r077", "r076"]


def test_a_run_holds_its_plan_slot_and_each_phase_slot_apart(store: JournalStore) -> None:
    """A phase's ``lane:`` is a ticket of its own (run, phase): released with the phase, while
    the run's plan-level slot stays; the run's end drops every ticket it had."""
    store.set_lane("api", cap=1, weight=None, by="ana", ts=1.0)
    store.set_lane("deploy", cap=1, weight=None, by="ana", ts=1.0)
    runs(store, "r1", "r2")
    assert store.lane_request("r1", "api", ts=100.0).granted
    first = store.lane_request("r1", "deploy", ts=101.0, phase="a")
    assert (first.phase, first.granted) == ("a", True)
    # Another phase of the same run waits like anybody's: the cap counts phases, not runs.
    assert not store.lane_request("r1", "deploy", ts=102.0, phase="b").granted
    assert not store.lane_request("r2", "deploy", ts=103.0, phase="a").granted
    place = store.lane_place("r1", phase="b")
    assert place is not None and (place[0].phase, place[1]) == ("b", 1)
    store.lane_release("r1", phase="a")
    # r2 asks for api (r1 holds it); its grant decides for everybody: r1's phase b was next.
    assert store.lane_request("r2", "api", ts=104.0).granted is False
    assert store.lane_request("r1", "deploy", ts=105.0, phase="b").granted_at == 104.0
    held = [(t.run_id, t.phase, t.lane) for t in store.lane_tickets() if t.granted]
    assert held == [("r1", "", "api"), ("r1", "b", "deploy")]
    advance(store, "r1", len(SCRIPT))  # to run.finished
    assert [(t.run_id, t.phase) for t in store.lane_tickets()] == [("r2", "a"), ("r2", "")]
    assert store.lane_request("r2", "api", ts=106.0).granted
    assert store.lane_request("r2", "deploy", ts=107.0, phase="a").granted
    store.lane_release("r2")  # None: every ticket of the run
    assert store.lane_tickets() == []


def test_priority_is_a_head_start_in_the_queue_and_aging_still_wins(
    store: JournalStore,
) -> None:
    """Each unit of priority counts as PRIORITY_SECONDS of waiting: a run of priority 2 passes
    runs queued less than two minutes before it, not one queued earlier than that."""
    store.set_lane("api", cap=1, weight=None, by="ana", ts=1.0)
    runs(store, "holder", "old", "low", "high")
    assert store.lane_request("holder", "api", ts=100.0).granted
    store.lane_request("old", "api", ts=101.0)
    store.lane_request("low", "api", ts=300.0)
    store.lane_request("high", "api", ts=302.0, priority=2)  # rank 182: after old, before low
    places = {r: store.lane_place(r) for r in ("old", "low", "high")}
    assert {r: p[1] for r, p in places.items() if p} == {"old": 1, "high": 2, "low": 3}
    for expected in ("old", "high", "low"):
        current = granted(store)[0]
        store.lane_release(current)
        store.lane_request(expected, "api", ts=400.0)
        assert granted(store) == [expected]
    with pytest.raises(UsageError):
        store.lane_request("holder", "api", ts=500.0, priority=101)


def _park(store: JournalStore, run_id: str, lane: str) -> None:
    """What a server's worker leaves of a run it parked while queued: status ``queued``, no
    owner (engine/laning.py ``parkable``)."""
    advance(store, run_id, 1)  # run.started
    state = store.load_state(run_id)
    queued = ("run.queued", {"lane": lane, "cap": 1, "position": 1}, 2100.0)
    store.append(state, [queued], durable=True)
    store.release(run_id, owner=Owner.me())


def test_a_parked_run_keeps_its_place_and_lane_grant_grants_it(store: JournalStore) -> None:
    """A queued run that no process owns was parked by a server's worker: its ticket is not
    stale (a released running run's is), keeps its place ahead of later runs, and is granted
    by ``lane_grant``, which asks for nobody, once the holder's slot frees."""
    store.set_lane("api", cap=1, weight=None, by="ana", ts=1.0)
    runs(store, "holder", "parked", "paused", "later")
    assert store.lane_request("holder", "api", ts=100.0).granted
    assert not store.lane_request("parked", "api", ts=101.0).granted
    assert not store.lane_request("paused", "api", ts=101.5).granted
    _park(store, "parked", "api")
    store.release("paused", owner=Owner.me())  # released unfinished, not queued: stale
    assert store.get_run("parked").owner is None and store.get_run("parked").status == "queued"
    store.lane_grant(ts=102.0)  # nothing frees: nobody is granted, the parked run stays
    assert granted(store) == ["holder"]
    store.lane_release("holder")
    # Asked for nobody: the head of the queue, the parked run, gets the slot; later waits.
    assert not store.lane_request("later", "api", ts=103.0).granted
    assert granted(store) == ["parked"]
    assert store.lane_place("parked") == (store.lane_tickets()[0], 0)
    # A grant of another process still finds the parked run's slot held (not stale).
    store.lane_grant(ts=104.0)
    assert granted(store) == ["parked"]
    # Once it frees, the released (paused) run's ticket is stale: dropped, and later granted.
    store.lane_release("parked")
    store.lane_grant(ts=105.0)
    assert granted(store) == ["later"]
    assert [t.run_id for t in store.lane_tickets()] == ["later"]


def test_lane_grant_without_lanes_or_tickets_does_nothing(store: JournalStore) -> None:
    store.lane_grant(ts=1.0)
    assert store.lane_tickets() == []
