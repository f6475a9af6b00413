"""The plan's history fitted once per history version (estimate/fitcache.py): a change of a
live run's journal keeps the fit; a run of the plan that finishes, or a finished run's
journal that moves, fits again with it; other plans, limits and stores are kept apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phasegate.estimate import admit, fitcache
from phasegate.plan.loader import load_plan_text
from phasegate.run import events as ev
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore
from tests.estimate.journals import Timeline, write_run

PLAN = """\
version: 1
name: web
phases:
  - id: build
    steps:
      - {id: compile, run: make}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    fitcache.clear()
    opened = SqliteStore(tmp_path / "state")
    try:
        yield opened
    finally:
        opened.close()
        fitcache.clear()


def _history(store: SqliteStore, runs: int, start: float = 1_000_000.0) -> float:
    t = start
    for n in range(runs):
        t = write_run(
            store, "web", PLAN, Timeline(f"r{n:02}", t + 1, {"build": [("compile", 60.0)]})
        )
    return t


def _live(store: SqliteStore, run_id: str, t: float) -> None:
    store.create_run(
        run_id=run_id,
        plan_name="web",
        plan_path="plan.yaml",
        plan_sha256="x",
        plan_text=PLAN,
        lock_name=f"web-{run_id}",
        idempotency_key=None,
        options={},
        phases=["build"],
        needs={},
        owner=Owner.me(),
        ts=t,
    )
    store.append(store.load_state(run_id), [(ev.RunStarted(vars={}), t + 1)], durable=False)


def _fitted(store: SqliteStore, *, limit: int = 100) -> fitcache.FittedHistory:
    plan = load_plan_text(PLAN, Path("plan.yaml")).plan
    return fitcache.fitted_history(store, "web", plan, PLAN, limit=limit, exclude="live")


def test_a_live_runs_journal_keeps_the_fit_a_finished_run_refits(store: SqliteStore) -> None:
    t = _history(store, 5)
    first = _fitted(store)
    assert len(first.history) == 5 and len(first.fitted.admission.admitted) == 5
    assert first.version[0] == 5

    # A live run of the plan (not finished): its journal moves, the history does not.
    _live(store, "live", t + 10)
    store.append(
        store.load_state("live"), [(ev.PhaseStarted(phase="build"), t + 12)], durable=False
    )
    again = _fitted(store)
    assert again is first
    assert fitcache.stats() == {"hits": 1, "misses": 1}

    # Another run of the plan finishes: the history has 6 runs, fitted again.
    t = write_run(store, "web", PLAN, Timeline("r99", t + 100, {"build": [("compile", 600.0)]}))
    third = _fitted(store)
    assert third is not first
    assert len(third.history) == 6 and len(third.fitted.admission.admitted) == 6
    assert third.history[-1].run_id == "r99" and third.version[0] == 6
    # The new run's 600 s moves the compile estimate up.
    assert third.total().p50 > first.total().p50
    assert _fitted(store) is third
    assert fitcache.stats() == {"hits": 2, "misses": 2}


def test_an_event_appended_to_a_finished_run_refits(store: SqliteStore) -> None:
    t = _history(store, 3)
    first = _fitted(store)
    store.append(store.load_state("r02"), [(ev.Warning(message="late note"), t + 5)], durable=False)
    assert _fitted(store) is not first
    assert fitcache.stats()["misses"] == 2


def test_limits_and_stores_are_kept_apart(store: SqliteStore, tmp_path: Path) -> None:
    _history(store, 4)
    assert len(_fitted(store, limit=2).history) == 2
    assert len(_fitted(store, limit=100).history) == 4
    other = SqliteStore(tmp_path / "other")
    try:
        _history(other, 4)  # the same plan, the same count of runs, another store
        found = _fitted(other)
        assert found is not _fitted(store)
        assert len(found.history) == 4
    finally:
        other.close()
    assert fitcache.stats()["misses"] == 3


def test_the_fitted_history_carries_its_admission_for_the_resource_fits(
    store: SqliteStore,
) -> None:
    """The cached history answers its own rule's admission (what each resource budget's fit
    asks again) without judging; another rule judges the runs afresh."""
    t = _history(store, 3)
    write_run(
        store, "web", PLAN, Timeline("bad", t + 1, {"build": [("compile", 5.0)]}, status="failed")
    )
    entry = _fitted(store)
    rule = entry.fitted.admission.rule
    assert admit(rule, entry.history) is entry.fitted.admission
    assert [r.run_id for r in entry.fitted.admission.admitted] == ["r00", "r01", "r02"]
    other = admit("true", entry.history)
    assert [r.run_id for r in other.admitted] == ["r00", "r01", "r02", "bad"]
    assert admit(rule, list(entry.history)).admitted == entry.fitted.admission.admitted


def test_the_live_runs_of_a_plan_share_one_fit_a_finished_run_is_not_its_own_history(
    store: SqliteStore,
) -> None:
    """Two live runs' estimates: one fit for both (neither is a finished run of the plan); a
    finished run's estimate leaves it out of its own history (5 of the 6 runs)."""
    from phasegate.server.api.estimates import run_estimate

    t = _history(store, 6)
    _live(store, "one", t + 10)
    _live(store, "two", t + 20)
    first = run_estimate(store, store.get_run("one"))
    second = run_estimate(store, store.get_run("two"))
    assert first.admitted == second.admitted == 6
    assert first.total == second.total and first.remaining.p50 > 0
    assert fitcache.stats() == {"hits": 1, "misses": 1}
    done = run_estimate(store, store.get_run("r05"))
    assert done.admitted == 5 and done.remaining.p50 == 0
    assert fitcache.stats() == {"hits": 1, "misses": 2}
