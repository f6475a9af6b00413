"""``store.copy.copy_journal`` into every back end: the destination holds the same runs with
the same events, a second copy changes nothing, a run that went on since is completed, and a
conflicting run stops the copy before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.errors import StoreError
from phasegate.store.contract import JournalStore
from phasegate.store.copy import copy_journal
from phasegate.store.memory import MemoryStore
from tests.store.contract.script import SCRIPT, advance, create


def _source(tmp_path: Path) -> MemoryStore:
    src = MemoryStore(tmp_path / "source")
    create(src, "r1", ts=1000.0, key="k1")
    advance(src, "r1", len(SCRIPT))  # succeeded
    create(src, "r2", lock="api", ts=1001.0)
    advance(src, "r2", 4)  # running, its step started
    src.release("r2", owner=src.get_run("r2").owner)  # type: ignore[arg-type]
    src.add_request("r2", "abort", {"by": "ana"})
    create(src, "r3", lock="db", ts=1002.0)  # pending
    return src


def _same(src: JournalStore, dst: JournalStore) -> None:
    assert dst.run_ids() == src.run_ids()
    for run_id in src.run_ids():
        a, b = src.get_run(run_id), dst.get_run(run_id)
        assert b == a, run_id  # the same status, times, summary, key, options and owner
        assert dst.events(run_id) == src.events(run_id)
        assert dst.load_state(run_id).summary() == src.load_state(run_id).summary()
        assert [(k, d) for _, k, d in dst.take_requests(run_id)] == [
            (k, d) for _, k, d in src.take_requests(run_id)
        ]
    for lock in ("web", "api", "db"):  # held by the same unfinished runs
        assert dst.lock_holder(lock) == src.lock_holder(lock)


def test_a_copy_is_the_same_journal_and_copying_again_changes_nothing(
    store: JournalStore, tmp_path: Path
) -> None:
    src = _source(tmp_path)
    first = copy_journal(src, store)
    assert (first.copied, first.continued, first.unchanged) == (["r1", "r2", "r3"], [], [])
    assert first.events == len(src.events("r1")) + len(src.events("r2")) + 1
    _same(src, store)
    again = copy_journal(src, store)
    assert (again.copied, again.continued, again.unchanged, again.events) == (
        [],
        [],
        ["r1", "r2", "r3"],
        0,
    )
    advance(src, "r2", 3)  # the source run went on: the copy completes it
    later = copy_journal(src, store)
    assert (later.continued, later.events) == (["r2"], 3)
    _same(src, store)


def test_a_conflicting_run_stops_the_copy_before_anything_is_written(
    store: JournalStore, tmp_path: Path
) -> None:
    src = _source(tmp_path)
    create(store, "r2", lock="api", sha="sha-other", ts=1001.0)
    before = store.events("r2")
    with pytest.raises(StoreError, match=r"run r2: .* another plan sha256.*nothing was copied"):
        copy_journal(src, store)
    assert store.run_ids() == ["r2"] and store.events("r2") == before


def test_an_idempotency_key_taken_by_another_run_is_a_conflict(
    store: JournalStore, tmp_path: Path
) -> None:
    src = _source(tmp_path)
    create(store, "elsewhere", lock="x", key="k1", ts=500.0)
    with pytest.raises(StoreError, match="its idempotency key is run elsewhere's"):
        copy_journal(src, store)
    assert store.run_ids() == ["elsewhere"]


def test_step_logs_are_copied_once(store: JournalStore, tmp_path: Path) -> None:
    src = _source(tmp_path)
    src.append_logs("r1", [("build/compile", b"compiled\n"), ("deploy/push", b"pushed\n")])
    first = copy_journal(src, store)
    assert first.log_bytes == len(b"compiled\npushed\n")
    assert store.read_log("r1", "build/compile").data == b"compiled\n"
    assert store.read_log("r1", "deploy/push").data == b"pushed\n"
    src.append_logs("r1", [("deploy/push", b"more\n")])  # a log that grew since
    again = copy_journal(src, store)
    assert again.log_bytes == len(b"more\n")
    assert store.read_log("r1", "deploy/push").data == b"pushed\nmore\n"
    assert copy_journal(src, store).log_bytes == 0


def _scheduled(src: MemoryStore) -> None:
    from phasegate.store.schedules import ScheduleRecord

    spec = {"plan": "/plans/nightly.yaml", "rule": {"every": 60}, "timezone": "UTC"}
    assert src.add_schedule(ScheduleRecord("nightly", spec, 900.0, "ops"))
    assert src.claim_slot("nightly", 960, by="h:1", ts=961.0)
    src.record_slot("nightly", 960, outcome="fired", run_id="r1")
    assert src.claim_slot("nightly", 1020, by="h:2", ts=1021.0)
    src.record_slot("nightly", 1020, outcome="skipped", note="lock held")
    assert src.claim_slot("nightly", 1080, by="h:2", ts=1081.0)  # its server died: claimed


def test_schedules_and_their_slots_are_copied_and_a_copied_slot_never_fires_again(
    store: JournalStore, tmp_path: Path
) -> None:
    src = _source(tmp_path)
    _scheduled(src)
    first = copy_journal(src, store)
    assert first.schedules == ["nightly"] and first.slots == 3
    assert store.schedules() == src.schedules()
    assert store.slots("nightly") == src.slots("nightly")  # who, when, outcome, run, note
    # a server on the destination cannot fire a slot the source already claimed
    assert not store.claim_slot("nightly", 960, by="h:9", ts=2000.0)
    again = copy_journal(src, store)
    assert (again.schedules, again.slots) == ([], 0)
    # what became of a slot left claimed is completed by a later copy
    src.record_slot("nightly", 1080, outcome="fired", run_id="r3")
    later = copy_journal(src, store)
    assert later.slots == 1
    assert store.slots("nightly") == src.slots("nightly")


def test_a_schedule_defined_otherwise_in_the_destination_copies_nothing(
    store: JournalStore, tmp_path: Path
) -> None:
    from phasegate.store.schedules import ScheduleRecord

    src = _source(tmp_path)
    _scheduled(src)
    other = {"plan": "/plans/other.yaml", "rule": {"every": 60}, "timezone": "UTC"}
    assert store.add_schedule(ScheduleRecord("nightly", other, 1.0, "someone"))
    with pytest.raises(StoreError, match="schedule nightly"):
        copy_journal(src, store)
    assert store.run_ids() == []  # nothing copied
    assert store.slots("nightly") == []


def test_lane_settings_and_their_history_are_copied(store: JournalStore, tmp_path: Path) -> None:
    src = _source(tmp_path)
    src.set_lane("Code-API", cap=4, weight=None, by="ana", ts=1000.0)
    src.set_lane("Code-API", cap=2, weight=3.0, by="bo", ts=1010.0)
    src.set_lane("Data-Schema", cap=2, weight=None, by="ana", ts=1005.0)
    first = copy_journal(src, store)
    assert sorted(first.lanes) == ["Code-API", "Data-Schema"]
    assert [(x.name, x.cap, x.weight) for x in store.lanes()] == [
        (x.name, x.cap, x.weight) for x in src.lanes()
    ]
    assert [
        (c.lane, c.cap, c.weight, c.previous_cap, c.by, c.at) for c in store.lane_changes()
    ] == [(c.lane, c.cap, c.weight, c.previous_cap, c.by, c.at) for c in src.lane_changes()]
    assert copy_journal(src, store).lanes == []  # again: nothing to write
    src.set_lane("Code-API", cap=1, weight=None, by="cy", ts=1020.0)
    assert copy_journal(src, store).lanes == ["Code-API"]  # the later change, copied
    assert [x.cap for x in store.lanes() if x.name == "Code-API"] == [1]
    store.set_lane("Data-Schema", cap=9, weight=None, by="dee", ts=1030.0)
    src.set_lane("Data-Schema", cap=3, weight=None, by="ana", ts=1031.0)
    with pytest.raises(StoreError, match="lane Data-Schema"):
        copy_journal(src, store)  # both changed it since: nothing is written
    assert [x.cap for x in store.lanes() if x.name == "Data-Schema"] == [9]


def test_durations_digests_are_copied_equal_to_what_the_copys_journal_gives(
    store: JournalStore, tmp_path: Path
) -> None:
    from phasegate.estimate import digest, read_history

    src = _source(tmp_path)
    create(src, "r4", ts=1003.0)  # a second finished run of plan web, no digest saved
    advance(src, "r4", len(SCRIPT))
    create(src, "r5", lock="api2", ts=1004.0)  # another plan, finished, with a digest
    advance(src, "r5", len(SCRIPT))
    # r1 and r5 get their digests through the history read; r4's is left unsaved
    read_history(src, "web", limit=1, exclude="r4")
    read_history(src, "api2")
    saved = {
        row.run_id: row.digest
        for plan in ("web", "api2")
        for row in src.finished_runs(plan, limit=10)
        if row.digest is not None
    }
    assert sorted(saved) == ["r1", "r5"]
    first = copy_journal(src, store)
    assert first.digests == 2
    copied = {
        row.run_id: row.digest
        for plan in ("web", "api2")
        for row in store.finished_runs(plan, limit=10)
        if row.digest is not None
    }
    assert copied == saved  # the same objects, so history reads on the copy read no journal
    assert digest.verify(store) == (2, [])  # and each is what the copy's own journal gives
    assert copy_journal(src, store).digests == 0  # nothing again
    # A digest the destination holds already is never overwritten by the copy.
    mine = {"v": 1, "kept": True}
    store.save_digests([("r4", store.get_run("r4").last_seq, mine)])
    read_history(src, "web")  # the source now has r4's digest too: the copy says they differ
    before = store.events("r4")
    with pytest.raises(StoreError, match=r"run r4: digest differ") as failed:
        copy_journal(src, store)
    assert "marked" not in str(failed.value)  # a cache: repaired, not marked
    assert store.events("r4") == before
    assert {r.run_id: r.digest for r in store.finished_runs("web", limit=5)}["r4"] == mine


def test_a_destination_that_differs_after_copying_is_marked_and_named(
    store: JournalStore, tmp_path: Path
) -> None:
    """A copy compares every run on both sides once it has written (record, events, outputs,
    logs, durations digest). A destination whose log of r1 gained bytes the source never had,
    and whose digest of r1 is another, fails the next copy naming r1 and both parts; r1 is
    marked there (a warning in its journal) and a later copy refuses it as a conflict; r2 and
    r3, the same on both sides, are not marked."""
    src = _source(tmp_path)
    src.append_logs("r1", [("build/compile", b"compiled\n")])
    head = src.run_head("r1")
    assert head is not None
    src.save_digests([("r1", head.last_seq, {"steps": {"build/compile": 1.5}})])
    first = copy_journal(src, store)
    assert first.log_bytes == len(b"compiled\n") and first.digests == 1  # verified: no error

    store.append_logs("r1", [("build/compile", b"tampered\n")])
    store.save_digests([("r1", head.last_seq, {"steps": {"build/compile": 99.0}})])
    r2_before = store.events("r2")
    with pytest.raises(StoreError) as failed:
        copy_journal(src, store)
    message = str(failed.value)
    assert "the copy of 1 of 3 runs differs from the source" in message
    assert "run r1: logs, digest differ" in message and "r2" not in message
    assert "marked in the destination with a warning: r1" in message
    marks = [e.data["message"] for e in store.events("r1") if e.type == "warning"]
    assert marks == [
        "store copy: this run's copy differs from its source (logs); do not trust it here"
    ]
    assert store.events("r2") == r2_before  # the same on both sides: left alone
    assert store.load_state("r1").warnings[-1]["message"] == marks[0]  # in its status

    with pytest.raises(StoreError, match=r"run r1: the destination's run r1 has other events"):
        copy_journal(src, store)  # marked: never taken for copied
