"""Durations read from real journals (memory and SQLite stores, and a run the engine made):
human waits — approvals, pauses, crashes, change windows — are not counted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.estimate import durations, human_waits, read_history
from phasegate.store.contract import JournalStore
from phasegate.store.memory import MemoryStore
from phasegate.store.records import StoredEvent
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.estimate.journals import Timeline, write_run

STEPS = {"build": [("compile", 40.0), ("test", 20.0)], "ship": [("upload", 30.0)]}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalStore]:
    journal: JournalStore = (
        MemoryStore(tmp_path) if request.param == "memory" else SqliteStore(tmp_path)
    )
    yield journal
    journal.close()


def test_an_approval_wait_is_not_counted_as_duration(store: JournalStore) -> None:
    end = write_run(store, "web", "x", Timeline("r1", 1000.0, STEPS, approval_wait=3600.0))
    [run] = read_history(store, "web")
    assert end - 1000.0 == pytest.approx(3690.0)  # the wall clock includes the hour
    assert run.total == pytest.approx(90.0)
    assert run.phases == pytest.approx({"build": 60.0, "ship": 30.0})
    assert run.steps["build/compile"] == pytest.approx(40.0)
    assert run.waited == pytest.approx(3600.0)


def test_a_pause_is_not_counted_either(store: JournalStore) -> None:
    write_run(store, "web", "x", Timeline("r1", 1000.0, STEPS, pause_wait=600.0))
    [run] = read_history(store, "web")
    assert run.total == pytest.approx(90.0)
    assert run.phases["ship"] == pytest.approx(30.0)
    assert run.waited == pytest.approx(600.0)


def test_history_is_the_same_plans_finished_runs_oldest_first(store: JournalStore) -> None:
    t = 1000.0
    for n in range(5):
        t = write_run(store, "web", "x", Timeline(f"r{n}", t + 1, STEPS, vars={"n": n}))
    write_run(store, "other", "y", Timeline("o1", t + 1, STEPS))
    runs = read_history(store, "web")
    assert [r.run_id for r in runs] == ["r0", "r1", "r2", "r3", "r4"]
    assert [r.vars["n"] for r in runs] == [0, 1, 2, 3, 4]
    assert [r.run_id for r in read_history(store, "web", limit=2)] == ["r3", "r4"]
    assert "r4" not in [r.run_id for r in read_history(store, "web", exclude="r4")]


def _events(*rows: tuple[float, str, dict[str, object]]) -> list[StoredEvent]:
    return [StoredEvent(n, ts, kind, data) for n, (ts, kind, data) in enumerate(rows, 1)]


def test_a_crash_counts_from_the_last_work_to_the_resume() -> None:
    waits = human_waits(
        _events(
            (0.0, "run.started", {}),
            (5.0, "item.started", {"key": "p/s", "kind": "step"}),
            (9.0, "notification.sent", {"channel": "ops"}),  # not work
            (500.0, "run.resumed", {"after": "crashed"}),
        )
    )
    assert waits == [(5.0, 500.0)]


def test_a_window_wait_is_a_human_wait_when_journalled() -> None:
    """The hook for issue 13 §1: `run.waiting` ... `run.wait_ended` (or the next phase start)."""
    events = _events(
        (0.0, "run.started", {}),
        (10.0, "run.waiting", {"rule": "stand-up"}),
        (910.0, "run.wait_ended", {}),
        (920.0, "run.waiting", {}),
        (1000.0, "phase.started", {"phase": "p"}),
    )
    assert human_waits(events) == [(10.0, 910.0), (920.0, 1000.0)]


def test_a_live_runs_open_wait_ends_now() -> None:
    events = _events(
        (0.0, "run.started", {}),
        (
            5.0,
            "item.finished",
            {"key": "p/ok", "kind": "gate", "status": "awaiting_approval"},
        ),
        (5.0, "run.paused", {"reason": "approval"}),
    )
    assert human_waits(events) == []
    assert human_waits(events, until=65.0) == [(5.0, 65.0)]


def test_a_real_run_paused_for_approval(cli: CLI) -> None:
    """The engine's own journal: a run that waits ~1.5 s for `phasegate approve` has a work
    time well under the wall time, and the wait is what was subtracted."""
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: gated
        phases:
          - id: a
            steps:
              - {id: work, run: 'sleep 0.2'}
              - {id: ok, pause: approve}
          - id: b
            needs: [a]
            steps:
              - {id: more, run: 'sleep 0.1'}
        """,
    )
    assert cli("run", str(plan)).returncode == 4
    time.sleep(1.5)
    assert cli("approve", "last").returncode == 0, "approve failed"
    assert cli("resume", "last").returncode == 0, "resume failed"
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        record = store.get_run("last")
        run = durations(record, store.events(record.id))
    finally:
        store.close()
    assert record.finished_at is not None
    wall = record.finished_at - record.created_at
    assert wall > 1.5
    assert run.total is not None and 0.3 <= run.total < wall - 1.4
    assert run.waited >= 1.5
    assert run.steps["a/work"] >= 0.2 and run.steps["a/ok"] < 0.5
    shown = json.loads(cli("estimate", str(plan), "--json").stdout)
    assert shown["calibration"]["admitted"] == 1
    assert shown["run"]["p50"] < 1.4  # the wait did not teach the model


@settings(max_examples=30, deadline=None)
@given(
    compile_=st.floats(0.5, 1e4),
    upload=st.floats(0.5, 1e4),
    approval=st.floats(0, 1e6),
    pause=st.floats(0, 1e6),
)
def test_waits_of_any_length_never_change_a_duration(
    tmp_path_factory: pytest.TempPathFactory,
    compile_: float,
    upload: float,
    pause: float,
    approval: float,
) -> None:
    store = MemoryStore(tmp_path_factory.mktemp("j"))
    steps = {"build": [("compile", compile_)], "ship": [("upload", upload)]}
    write_run(store, "web", "x", Timeline("quick", 1e6, steps))
    write_run(
        store, "web", "x", Timeline("slow", 3e6, steps, approval_wait=approval, pause_wait=pause)
    )
    quick, slow = read_history(store, "web")
    assert slow.total == pytest.approx(quick.total)
    assert slow.phases == pytest.approx(quick.phases)
    assert slow.steps["build/compile"] == pytest.approx(quick.steps["build/compile"])
    assert slow.waited == pytest.approx(approval + pause)
