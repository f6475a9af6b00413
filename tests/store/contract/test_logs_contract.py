"""Step logs and outputs in the store contract (``append_logs``, ``read_log``,
``step_outputs``), on every back end: what one writer appends, any reader reads, in order,
from any offset."""

from __future__ import annotations

import random
from pathlib import Path

from phasegate.store.contract import JournalStore
from tests.store.contract.conftest import MakeStore
from tests.store.contract.script import SCRIPT, advance, create


def test_chunks_read_back_in_order_per_item(store: JournalStore) -> None:
    create(store, "r1")
    store.append_logs("r1", [("build/compile", b"one\n"), ("deploy/push", b"x\n")])
    store.append_logs("r1", [("build/compile", b"two\n"), ("build/compile", b"three\n")])
    log = store.read_log("r1", "build/compile")
    assert (log.data, log.end) == (b"one\ntwo\nthree\n", 14)
    assert log.text == "one\ntwo\nthree\n"
    assert store.read_log("r1", "deploy/push").data == b"x\n"


def test_a_tail_from_an_offset_never_repeats_or_skips(store: JournalStore) -> None:
    create(store, "r1")
    rng = random.Random(12)
    written = bytearray()
    read = bytearray()
    offset = 0
    for n in range(40):
        chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        store.append_logs("r1", [("build/compile", chunk)])
        written += chunk
        if n % 3 == 0:
            tail = store.read_log("r1", "build/compile", offset)
            assert tail.end == len(written)
            read += tail.data
            offset = tail.end
    read += store.read_log("r1", "build/compile", offset).data
    assert bytes(read) == bytes(written)  # raw bytes, not only UTF-8, round-trip
    middle = len(written) // 2
    assert store.read_log("r1", "build/compile", middle).data == bytes(written[middle:])
    last = store.read_log("r1", "build/compile", -100)
    assert (last.data, last.end) == (bytes(written[-100:]), len(written))
    whole = store.read_log("r1", "build/compile", -10 * len(written))
    assert whole.data == bytes(written)


def test_nothing_printed_reads_empty_at_the_offset(store: JournalStore) -> None:
    create(store, "r1")
    assert (store.read_log("r1", "build/compile").data, store.read_log("r1", "x").end) == (b"", 0)
    store.append_logs("r1", [("build/compile", b"abc")])
    assert store.read_log("r1", "build/compile", 3) == store.read_log("r1", "build/compile", 3)
    assert (store.read_log("r1", "build/compile", 3).data, store.read_log("r1", "y", 7).end) == (
        b"",
        7,
    )


def test_a_big_log_round_trips(store: JournalStore) -> None:
    create(store, "r1")
    line = "é line with text that goes on for a while\n".encode()
    chunk = line * (64 * 1024 // len(line) + 1)
    store.append_logs("r1", [("build/compile", chunk)] * 8)
    log = store.read_log("r1", "build/compile")
    assert log.data == chunk * 8 and log.end == len(chunk) * 8


def test_logs_of_runs_are_apart(store: JournalStore) -> None:
    create(store, "r1")
    create(store, "r2", lock="other")
    store.append_logs("r1", [("build/compile", b"of r1")])
    store.append_logs("r2", [("build/compile", b"of r2")])
    assert store.read_log("r1", "build/compile").data == b"of r1"
    assert store.read_log("r2", "build/compile").data == b"of r2"
    assert "r1" in store.log_location("r1", "build/compile")


def test_another_instance_reads_what_one_wrote(make_store: MakeStore, tmp_path: Path) -> None:
    writer = make_store(tmp_path / "state")
    create(writer, "r1")
    writer.append_logs("r1", [("build/compile", b"from the writer\n")])
    reader = writer if type(writer).__name__ == "MemoryStore" else make_store(tmp_path / "state")
    assert reader.read_log("r1", "build/compile").data == b"from the writer\n"
    for opened in {id(writer): writer, id(reader): reader}.values():
        opened.close()


def test_step_outputs_come_from_the_journal(store: JournalStore) -> None:
    create(store, "r1")
    advance(store, "r1", 3)  # build/compile started
    state = store.load_state("r1")
    finished = {**SCRIPT[3][1], "outputs": {"version": "1.2.3", "url": "http://x"}}
    store.append(state, [("item.finished", finished, 3000.0)], durable=False)
    assert store.step_outputs("r1") == {"build/compile": {"version": "1.2.3", "url": "http://x"}}
    assert store.step_outputs("nope") == {}
