"""After a failed commit the writer's state is ahead of the stored journal. The run must stop
with that failure (exit 130, resumable), never with a later "another process wrote to its
journal" refusal (exit 2, "nothing ran") that hides it. A real MemoryStore whose one commit
fails as a read-only journal fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.errors import JournalWriteFailed
from phasegate.run.state import RunState
from phasegate.store.fold import EventRow
from phasegate.store.journal import Journal
from phasegate.store.memory import MemoryStore
from tests.store.contract.script import create


class FailsOnce(MemoryStore):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.fail_next = False

    def commit_applied(
        self, state: RunState, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        if self.fail_next:
            self.fail_next = False
            raise JournalWriteFailed("journal: attempt to write a readonly database")
        super().commit_applied(state, rows, changed, durable=durable)


def test_after_a_failed_commit_every_write_raises_that_failure(tmp_path: Path) -> None:
    store = FailsOnce(tmp_path)
    create(store, "r1")
    journal = Journal(store, store.load_state("r1"))
    journal.record([("run.started", {}, 2000.0)], durable=True)
    assert store.get_run("r1").last_seq == 2

    store.fail_next = True
    with pytest.raises(JournalWriteFailed) as first:
        journal.record([("phase.started", {"phase": "build"}, 2001.0)], durable=True)
    # The store would accept a write now, but the state is ahead of it: the same failure,
    # exit 130, for every later write and flush; nothing more is stored.
    for attempt in (
        lambda: journal.record([("run.interrupted", {}, 2002.0)], durable=True),
        lambda: journal.flush(durable=True),
    ):
        with pytest.raises(JournalWriteFailed) as again:
            attempt()
        assert again.value is first.value and again.value.exit_code == 130
    assert store.get_run("r1").last_seq == 2
    assert store.load_state("r1").seq == 2
