"""The budget watch folds the run's journal as it grows (engine/budgets.py ``_journal``): each
look reads only the events appended since the last (the store's cursor read) and hands the
projection thread a copy of the fold. The copy must be exactly the fold of the journal so far,
and must not change while the loop folds on (the projection reads it on another thread)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings

from phasegate.engine.budgets import BudgetWatch
from phasegate.estimate.remaining import Timeline
from phasegate.plan.model import Plan
from phasegate.store.records import StoredEvent
from tests.server.test_livefold import _pieces, journals

PLAN = Plan.model_validate(
    {
        "version": 1,
        "name": "p",
        "budget": {"duration": "1h", "runway": ["10m"]},
        "phases": [{"id": "one", "steps": [{"id": "s", "run": "x"}]}],
    }
)


class _Journal:
    """A store that only answers cursor reads, and counts what it hands out."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.handed = 0

    def events_after(self, run_id: str, seq: int) -> list[StoredEvent]:
        fresh = [e for e in self.events if e.seq > seq]
        self.handed += len(fresh)
        return fresh


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journals())
def test_each_look_is_the_whole_journals_fold_and_stays_what_it_was(
    journal: tuple[list[StoredEvent], list[int]],
) -> None:
    events, cuts = journal
    store = _Journal()
    runner: Any = SimpleNamespace(
        ctx=SimpleNamespace(plan=PLAN), store=store, state=SimpleNamespace(run_id="r")
    )
    watch = BudgetWatch(runner)
    looks: list[tuple[Timeline, int]] = []
    for piece in _pieces(events, cuts):
        store.events.extend(piece)
        looks.append((watch._journal(), len(store.events)))
    # Every event was read once, however many looks there were.
    assert store.handed == len(events)
    for look, upto in looks:
        # What the projection got is the fold of the journal as it was at that look, even
        # after the watch folded everything that came later.
        assert look == Timeline().fold(events[:upto])
    assert looks[-1][0] is not watch._timeline
