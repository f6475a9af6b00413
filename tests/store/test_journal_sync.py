"""Rows recorded with ``sync`` (a group of durable starts, Runner.journal_durably) are
committed durably by whichever flush writes them first, never by a plain one; later plain
rows are not made durable by them."""

from __future__ import annotations

from pathlib import Path

from phasegate.run.state import RunState
from phasegate.store.fold import EventRow
from phasegate.store.journal import Journal
from phasegate.store.memory import MemoryStore
from tests.store.contract.script import create


class Commits(MemoryStore):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.commits: list[tuple[int, bool]] = []

    def commit_applied(
        self, state: RunState, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        self.commits.append((len(rows), durable))
        super().commit_applied(state, rows, changed, durable=durable)


def test_a_plain_flush_of_sync_rows_is_durable_and_only_once(tmp_path: Path) -> None:
    store = Commits(tmp_path)
    create(store, "r1")
    journal = Journal(store, store.load_state("r1"))
    journal.record([("run.started", {}, 2000.0)], durable=False, sync=True)
    journal.record([("phase.started", {"phase": "build"}, 2001.0)], durable=False, sync=True)
    journal.flush()  # the periodic, non-durable flush got there first
    journal.flush(durable=True)  # the group's own commit: nothing left to write
    journal.record(
        [
            (
                "item.started",
                {"key": "build/s", "kind": "step", "phase": "build", "name": "s"},
                2002.0,
            )
        ],
        durable=False,
    )
    journal.flush()
    assert store.commits == [(2, True), (1, False)]
    assert store.get_run("r1").last_seq == 4
