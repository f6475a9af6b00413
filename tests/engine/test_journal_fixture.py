"""Old journals keep loading: a journal written by the release before the typed vocabulary
(tests/fixtures/journal-v1, see its README) is read event by event exactly, folds into the
rows that release materialized, and `phasegate status --json` prints what it printed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate.run.events import EVENT_CLASSES, from_stored
from phasegate.store.fold import replay
from tests.conftest import CLI

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "journal-v1"


@pytest.fixture(scope="module")
def rows() -> Iterator[list[tuple[str, int, float, str, str]]]:
    db = sqlite3.connect(f"file:{FIXTURE / 'phasegate.db'}?mode=ro", uri=True)
    try:
        yield db.execute(
            "SELECT run_id, seq, ts, type, data FROM events ORDER BY run_id, seq"
        ).fetchall()
    finally:
        db.close()


def test_the_fixture_holds_every_kind_of_run(rows: list[tuple[str, int, float, str, str]]) -> None:
    kinds = {row[3] for row in rows}
    assert len({row[0] for row in rows}) == 9
    # The most frequent events and each way a run ends are in it.
    for etype in (
        "item.finished",
        "item.started",
        "phase.started",
        "rollback.started",
        "traffic.changed",
        "analysis.measured",
        "approval.granted",
        "approval.rejected",
        "run.abort_requested",
        "trigger.tripped",
        "run.interrupted",
        "monitor.finished",
        "notification.failed",
    ):
        assert etype in kinds
    assert kinds <= set(EVENT_CLASSES)


def test_every_stored_event_reads_back_to_exactly_the_json_stored(
    rows: list[tuple[str, int, float, str, str]],
) -> None:
    for run_id, seq, _, etype, text in rows:
        data = json.loads(text)
        event = from_stored(etype, data)
        assert type(event).type == etype
        # The same object (keys may come in the class's order: JSON objects are unordered).
        assert event.to_json() == data, (run_id, seq, etype)


def test_typed_fields_read_what_the_dicts_held(
    rows: list[tuple[str, int, float, str, str]],
) -> None:
    from phasegate.run.events import ItemFinished, RollbackStarted, TrafficChanged

    finished = [from_stored(t, json.loads(d)) for _, _, _, t, d in rows if t == "item.finished"]
    assert all(isinstance(e, ItemFinished) for e in finished)
    smoke = [e for e in finished if isinstance(e, ItemFinished) and e.name == "smoke test"]
    assert [e.status for e in smoke] == ["passed", "failed"]
    assert smoke[1].action == "rollback" and smoke[1].message == "exit 1, expected exit 0"
    traffic = [from_stored(t, json.loads(d)) for _, _, _, t, d in rows if t == "traffic.changed"]
    assert [e.confirmed for e in traffic if isinstance(e, TrafficChanged)] == [
        {"stable": 90, "canary": 10},
        {"stable": 50, "canary": 50},
        {"stable": 0, "canary": 100},
    ]
    started = [from_stored(t, json.loads(d)) for _, _, _, t, d in rows if t == "rollback.started"]
    first = started[0]
    assert isinstance(first, RollbackStarted)
    assert [(a.key, a.kind) for a in first.order] == [
        ("rollback:deploy/0", "rollback"),
        ("undo:build/0", "undo"),
    ] or all(a.kind in ("rollback", "undo", "traffic") for a in first.order)


# Run-summary fields added after the fixture's release, each with its empty value and why.
SUMMARY_ADDED_SINCE: list[tuple[str, Any]] = [
    ("wait", None),  # issue 13 §1: the change window a run waits for
    ("waits", []),  # issue 13 §1: the waits that ended (how, by whom)
    ("budgets", {}),  # issue 13 §5: the runway thresholds a run passed
    ("queue", None),  # issue 14 §5: the lane slot a run waits for
    ("lane", None),  # issue 14 §5: the lane slot a run holds
    ("monitoring", None),  # issue 13 §3: post-rollout monitoring (None: not monitored)
    ("children", {}),  # issue 14 §1: a program's child runs by phase
    ("parent", None),  # issue 14 §1: a child run's program
    ("readiness", {}),  # issue 14 §2: the last readiness evaluation per program phase
]


def _stored_rows(db: sqlite3.Connection, run_id: str) -> tuple[Any, Any, Any]:
    summary = json.loads(
        db.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    )
    items = {
        key: json.loads(data)
        for key, data in db.execute("SELECT key, data FROM items WHERE run_id = ?", (run_id,))
    }
    phases = {
        phase: json.loads(data)
        for phase, data in db.execute("SELECT phase, data FROM phases WHERE run_id = ?", (run_id,))
    }
    return summary, items, phases


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_replaying_the_old_journal_gives_the_rows_that_release_wrote(
    rows: list[tuple[str, int, float, str, str]],
) -> None:
    db = sqlite3.connect(f"file:{FIXTURE / 'phasegate.db'}?mode=ro", uri=True)
    try:
        for run_id in sorted({row[0] for row in rows}):
            events = [(seq, ts, t, json.loads(d)) for rid, seq, ts, t, d in rows if rid == run_id]
            state = replay(run_id, events)
            summary, items, phases = _stored_rows(db, run_id)
            replayed = _as_json(state.summary())
            # Summary fields added since that release: an old run replays them empty.
            for name, empty in SUMMARY_ADDED_SINCE:
                assert replayed.pop(name) == empty, (run_id, name)
            assert replayed == summary, run_id
            assert {k: _as_json(i.__dict__) for k, i in state.items.items()} == items, run_id
            assert {k: _as_json(p.__dict__) for k, p in state.phases.items()} == phases, run_id
    finally:
        db.close()


# (section, field) of `status --json` added after the fixture's release, each with why.
ADDED_SINCE: list[tuple[str | None, str, Any]] = [
    ("run", "review", None),  # issue 11 §13: the review a Markdown run ran under (YAML: None)
    (None, "wait", None),  # issue 13 §1: the change window the run waits for
    (None, "waits", []),  # issue 13 §1: the waits that ended
    (None, "queue", None),  # issue 14 §5: the lane slot the run waits for
    (None, "lane", None),  # issue 14 §5: the lane slot the run holds
    (None, "monitoring", None),  # issue 13 §3: post-rollout monitoring
    (None, "program", None),  # issue 14 §1: a program's children, a child's parent
    (None, "budgets", {}),  # issue 13 §5: runway thresholds passed
    (None, "fleet_strata", []),  # issue 15 §5: a sampled fleet phase's per-stratum outcomes
    (None, "fleet_hosts", []),  # issue 15 §7: fleet phases host by host
]


@pytest.mark.parametrize(
    "status_file", sorted(p.name for p in FIXTURE.glob("status-*.json")), ids=lambda n: n[7:-5]
)
def test_status_of_an_old_run_prints_what_its_release_printed(cli: CLI, status_file: str) -> None:
    cli.state_dir.mkdir(parents=True)
    shutil.copy(FIXTURE / "phasegate.db", cli.state_dir / "phasegate.db")
    run_id = status_file[len("status-") : -len(".json")]
    expected = json.loads((FIXTURE / status_file).read_text())
    shown = cli.status(run_id)
    # Fields added to `status --json` since that release: an old run has nothing to say in
    # them (None), and everything it printed is printed unchanged.
    for section, key, empty in ADDED_SINCE:
        where = shown if section is None else shown[section]
        assert where.pop(key) == empty, (section, key)
    # Issue 13: the run's duration is its work time (human waits removed); the release's
    # duration, the wall time, is `wall_time` now, and the waits are `waited`.
    run = shown["run"]
    wall, waited = run.pop("wall_time"), run.pop("waited")
    assert wall == expected["run"]["duration"]
    if wall is not None:
        assert run["duration"] == pytest.approx(wall - waited, abs=1e-5)
        assert waited >= 0.0
        run["duration"] = wall
    assert shown == expected
