"""The live views' incremental fold (issue 13; server/livefold.py, docs/performance.md): a run's
journal folded in pieces, each piece only the events appended since, gives exactly what
folding the whole journal at once gives: the remaining time's timeline and human waits, the
budgets' runway marks (and so the same remaining-time estimate and runways), and the run's
state. Hypothesis over arbitrary event sequences cut at arbitrary points, and a real run's
journal appended to a real SQLite store between projections."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.engine import runway, session
from phasegate.engine.runway import RunwayMarks
from phasegate.estimate import human_waits
from phasegate.estimate.estimator import Models
from phasegate.estimate.history import WaitFold
from phasegate.estimate.remaining import Timeline, remaining, remaining_of
from phasegate.plan.loader import load_plan, load_plan_text
from phasegate.server import livefold
from phasegate.store.fold import replay
from phasegate.store.process import Owner
from phasegate.store.records import StoredEvent
from phasegate.store.sqlite import SqliteStore

PLAN = """\
version: 1
name: folded
budget:
  duration: 10m
  runway: [5m, 1m]
  resources:
    tokens: {limit: 1000, runway: [100]}
phases:
  - id: a
    steps:
      - {id: s1, run: 'true', estimate: {p50: 10s, p90: 30s}}
      - {id: s2, run: 'true'}
  - id: b
    needs: [a]
    estimate: {p50: 1m, p90: 3m}
    steps:
      - {id: s1, run: 'true'}
"""

PHASES = ["a", "b"]
KEYS = ["a/s1", "a/s2", "b/s1", "budget:duration", "budget:tokens"]
STATUSES = ["succeeded", "failed", "awaiting_approval", "retrying", "skipped", "interrupted"]


def _kinds() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Every event type the folds read, with the fields they read (and some they ignore)."""
    key = st.sampled_from(KEYS)
    return st.one_of(
        st.sampled_from(
            [
                ("run.started", {}),
                ("run.paused", {"reason": "approval"}),
                ("run.interrupted", {}),
                ("run.resumed", {}),
                ("run.finished", {"status": "succeeded"}),
                ("run.waiting", {}),
                ("run.wait_ended", {}),
                ("note", {"message": "n"}),
            ]
        ),
        st.builds(lambda p: ("phase.started", {"phase": p}), st.sampled_from(PHASES)),
        st.builds(lambda p: ("phase.finished", {"phase": p}), st.sampled_from(PHASES)),
        st.builds(
            lambda k, kind: ("item.started", {"key": k, "kind": kind}),
            key,
            st.sampled_from(["step", "gate"]),
        ),
        st.builds(
            lambda k, kind, status: ("item.finished", {"key": k, "kind": kind, "status": status}),
            key,
            st.sampled_from(["step", "gate", "budget"]),
            st.sampled_from(STATUSES),
        ),
        st.builds(lambda k: ("approval.granted", {"key": k, "by": "x"}), key),
        st.builds(
            lambda b, t: ("budget.runway", {"budget": b, "threshold": t}),
            st.sampled_from(["duration", "tokens"]),
            st.sampled_from([300.0, 60.0, 100.0]),
        ),
    )


@st.composite
def journals(draw: st.DrawFn) -> tuple[list[StoredEvent], list[int]]:
    """An arbitrary journal (seq 1…, time moving forward) and where a live view read it."""
    kinds = draw(st.lists(_kinds(), max_size=60))
    gaps = draw(st.lists(st.floats(0, 50), min_size=len(kinds), max_size=len(kinds)))
    events, ts = [], 1_000.0
    for seq, ((kind, data), gap) in enumerate(zip(kinds, gaps, strict=True), start=1):
        ts += gap
        events.append(StoredEvent(seq, ts, kind, data))
    cuts = sorted(draw(st.lists(st.integers(0, len(events)), max_size=8)))
    return events, cuts


def _pieces(events: list[StoredEvent], cuts: list[int]) -> list[list[StoredEvent]]:
    bounds = [0, *cuts, len(events)]
    return [events[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journals(), st.floats(0, 5_000))
def test_folding_in_pieces_equals_folding_the_whole_journal(
    journal: tuple[list[StoredEvent], list[int]], later: float
) -> None:
    events, cuts = journal
    timeline, marks, waits = Timeline(), RunwayMarks(), WaitFold()
    for piece in _pieces(events, cuts):
        timeline.fold(piece)
        marks.fold(piece)
        waits.fold(piece)
    whole = Timeline().fold(events)
    assert timeline == whole
    assert marks == RunwayMarks().fold(events)
    assert timeline.seq == (events[-1].seq if events else 0)
    now = (events[-1].ts if events else 1_000.0) + later
    for until in (None, now):
        assert waits.intervals(until) == human_waits(events, until=until)
    for budget in ("duration", "tokens"):
        assert marks.of(budget) == runway.journalled(events, budget)
    # And so the projection: the same draws from the same fold (fixed seed).
    models = Models(load_plan_text(PLAN, Path("plan.yaml")).plan)
    assert remaining_of(models, timeline, now, samples=200) == remaining(
        models, events, now, samples=200
    )


def _real_journal(tmp_path: Path) -> list[StoredEvent]:
    """A real run's journal: the plan above run through the engine on SQLite."""
    path = tmp_path / "folded.yaml"
    path.write_text(PLAN)
    store = SqliteStore(tmp_path / "source")
    try:
        options = session.RunOptions(console_stream=io.StringIO(), quiet=True)
        run_id, status, _ = session.start(store, load_plan(path), options)
        assert status == "succeeded"
        return store.events(run_id)
    finally:
        store.close()


@pytest.fixture(scope="module")
def real_journal(tmp_path_factory: pytest.TempPathFactory) -> list[StoredEvent]:
    return _real_journal(tmp_path_factory.mktemp("journal"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_real_runs_state_folded_in_pieces_is_its_whole_fold(
    real_journal: list[StoredEvent], data: st.DataObject
) -> None:
    events = real_journal
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=10)))
    fold = livefold.LiveFold("r")
    for piece in _pieces(events, cuts):
        fold.fold(piece)
    assert fold.state == replay("r", events)
    assert fold.timeline == Timeline().fold(events)
    assert fold.marks == RunwayMarks().fold(events)
    # A piece that does not continue the fold is refused, and changes nothing.
    if len(events) > 2 and fold.seq < len(events):
        with pytest.raises(ValueError, match="not"):
            fold.fold(events[fold.seq + 1 :])


def test_a_live_view_folds_only_what_was_appended_since_its_last_projection(
    tmp_path: Path, real_journal: list[StoredEvent]
) -> None:
    """A real SQLite store the run's journal is appended to in pieces: after each, the view's
    fold equals the store's own fold of the whole journal, and it read only the new events."""
    store = SqliteStore(tmp_path / "live")
    livefold.clear()
    try:
        first = real_journal[0]
        store.create_run(
            run_id="live",
            plan_name="folded",
            plan_path="folded.yaml",
            plan_sha256="x",
            plan_text=PLAN,
            lock_name="folded-live",
            idempotency_key=None,
            options={},
            phases=list(first.data["phases"]),
            needs={k: list(v) for k, v in first.data.get("needs", {}).items()},
            owner=Owner.me(),
            ts=first.ts,
        )
        state = store.load_state("live")
        rest = real_journal[1:]
        folded_so_far = 1
        for start in range(0, len(rest), 7):
            piece = rest[start : start + 7]
            store.append(state, [(e.type, e.data, e.ts) for e in piece], durable=False)
            record = store.get_run("live")
            before = livefold.stats()["folded"]
            with livefold.folded(store, record) as fold:
                assert fold.seq == len(store.events("live"))
                assert fold.state == store.load_state("live")
                assert fold.timeline == Timeline().fold(store.events("live"))
                assert fold.marks == RunwayMarks().fold(store.events("live"))
            new = livefold.stats()["folded"] - before
            # the first projection folds the journal so far; later ones only the piece
            assert new == (folded_so_far + len(piece) if start == 0 else len(piece))
            folded_so_far += len(piece)
        assert livefold.stats()["refolds"] == 0
    finally:
        store.close()
        livefold.clear()
