"""``phasegate check``: prove the journal is consistent.

Everything is read in one read transaction (``SqliteStore.snapshot``), so a run that commits
while the check reads is seen wholly before or wholly after, never half: reading events and
then the materialized rows in separate transactions reported false violations during live
runs. Then, for every run: its rows decode (text is UTF-8, event data is JSON: a damaged row
is a violation, not a crash), its events are numbered 1..n without gaps, each is a legal
transition of the state machine, and the materialized rows equal the replay of its events.
Locks point at runs that have not finished. SQLite's own ``integrity_check`` (b-trees,
indexes, page accounting) is part of the result.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from typing import Any, NotRequired, Protocol, TypedDict

from phasegate.errors import EventUnreadable, InvalidTransition, StoreError
from phasegate.lanes.model import Ticket
from phasegate.run.state import TERMINAL, Item, PhaseState, RunState, apply_stored
from phasegate.store.connect import integrity_problems
from phasegate.store.records import RunRecord
from phasegate.store.sqlite import SqliteStore


class Materialized(Protocol):
    """What the comparison with the replay reads: SQLite's and PostgreSQL's stores both keep
    materialized rows (store/postgres/check.py checks the latter with these functions)."""

    def materialized(
        self, run_id: str
    ) -> tuple[dict[str, Any], dict[str, PhaseState], dict[str, Item], str]: ...

    def get_run(self, run_ref: str) -> RunRecord: ...


class DigestCheck(TypedDict):
    """The durations digests verified (cli/read.py ``check``): the runs whose digest was
    wrong, and those recomputed with ``--repair-digests``."""

    checked: int
    wrong: list[str]
    repaired: list[str]


class CheckReport(TypedDict):
    """What ``phasegate check`` reports (``--json``), on SQLite and PostgreSQL alike."""

    ok: bool
    runs: int
    events: int
    schema_version: int | None
    integrity_check: list[str]  # SQLite's integrity_check lines (PostgreSQL: not run)
    violations: list[dict[str, str]]  # {run, what}
    digests: NotRequired[DigestCheck]


INTEGRITY_LINES = 20  # integrity_check stops after this many problems


def _norm(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def check_store(store: SqliteStore) -> CheckReport:
    violations: list[dict[str, str]] = []
    counts = {"runs": 0, "events": 0}
    integrity: list[str] = []
    schema_version: int | None = None
    with store.snapshot():
        integrity = integrity_problems(store.db, INTEGRITY_LINES)
        if integrity != ["ok"]:
            for line in integrity:
                violations.append({"run": "-", "what": f"SQLite integrity_check: {line}"})
        try:
            schema_version = store.schema_version
            _check_runs(store, violations, counts)
            _check_locks(store, violations)
            check_lane_tickets(store, store.lane_tickets(), violations)
        except StoreError as exc:
            violations.append({"run": "-", "what": exc.message})
        except (sqlite3.Error, UnicodeDecodeError) as exc:  # too damaged to read further
            violations.append({"run": "-", "what": f"cannot read further: {exc!r}"})
    return {
        "ok": not violations,
        "runs": counts["runs"],
        "events": counts["events"],
        "schema_version": schema_version,
        "integrity_check": integrity,
        "violations": violations,
    }


def _text(raw: object) -> str | None:
    """A column read as a blob, decoded; None when it is not valid UTF-8."""
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None if raw is None else str(raw)


def _check_runs(
    store: SqliteStore, violations: list[dict[str, str]], counts: dict[str, int]
) -> None:
    rows = store.db.execute("SELECT CAST(id AS BLOB) FROM runs ORDER BY created_at").fetchall()
    for (raw_id,) in rows:
        counts["runs"] += 1
        run_id = _text(raw_id)
        if run_id is None:
            violations.append(
                {"run": repr(raw_id), "what": "the run's id is not valid UTF-8 (damaged row)"}
            )
            continue
        events = _decoded_events(store, run_id, violations)
        if events is None:
            continue
        counts["events"] += len(events)
        state = replay_checked(run_id, events, violations)
        if state is None:
            continue
        try:
            compare(store, run_id, state, violations)
        except StoreError as exc:
            violations.append({"run": run_id, "what": exc.message})


Event = tuple[int, float, str, dict[str, Any]]


def _decoded_events(
    store: SqliteStore, run_id: str, violations: list[dict[str, str]]
) -> list[Event] | None:
    """The run's events; None when a row is damaged (reported; nothing to replay then)."""
    out: list[Event] = []
    for seq, ts, raw_type, raw_data in store.db.execute(
        "SELECT seq, ts, CAST(type AS BLOB), CAST(data AS BLOB) FROM events WHERE run_id = ?"
        " ORDER BY seq",
        (run_id,),
    ):
        etype, text = _text(raw_type), _text(raw_data)
        problem = None
        data: Any = None
        if etype is None or text is None:
            problem = "is not valid UTF-8"
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                problem = "has data that is not JSON"
            else:
                if not isinstance(data, dict):
                    problem = "has data that is not a JSON object"
        if problem is not None or not isinstance(seq, int) or not isinstance(ts, float | int):
            violations.append(
                {"run": run_id, "what": f"event #{seq} {problem or 'has a bad seq or time'}"}
            )
            return None
        assert etype is not None
        out.append((seq, float(ts), etype, data))
    return out


def replay_checked(
    run_id: str, events: list[Event], violations: list[dict[str, str]]
) -> RunState | None:
    state = RunState(run_id=run_id)
    for expected, (seq, ts, etype, data) in enumerate(events, start=1):
        if seq != expected:
            violations.append(
                {
                    "run": run_id,
                    "what": f"event #{seq} where #{expected} was expected (gap or reorder)",
                }
            )
            return None
        try:
            apply_stored(state, etype, data, ts)
        except (InvalidTransition, EventUnreadable) as exc:
            violations.append({"run": run_id, "what": str(exc)})
            return None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Valid JSON of the wrong shape: a damaged or hand-edited row.
            violations.append(
                {"run": run_id, "what": f"event #{seq} ({etype}) cannot be applied: {exc!r}"}
            )
            return None
    return state


def compare(
    store: Materialized, run_id: str, state: RunState, violations: list[dict[str, str]]
) -> None:
    summary, phases, items, status = store.materialized(run_id)
    if status != state.status:
        violations.append(
            {
                "run": run_id,
                "what": f"status column {status!r} but events replay to {state.status!r}",
            }
        )
    if _norm(summary) != _norm(_as_stored(state.summary(), summary)):
        violations.append({"run": run_id, "what": "run summary differs from the replay"})
    if set(phases) != set(state.phases) or any(
        _norm(asdict(phases[k])) != _norm(asdict(v)) for k, v in state.phases.items()
    ):
        violations.append({"run": run_id, "what": "phase rows differ from the replay"})
    for key, item in state.items.items():
        row = items.get(key)
        if row is None or _norm(asdict(row)) != _norm(asdict(item)):
            violations.append({"run": run_id, "what": f"item {key} differs from the replay"})
    for key in set(items) - set(state.items):
        violations.append({"run": run_id, "what": f"item row {key} has no events"})


def _check_locks(store: SqliteStore, violations: list[dict[str, str]]) -> None:
    check_lock_rows(
        store, store.db.execute("SELECT name, run_id FROM locks").fetchall(), violations
    )


def check_lock_rows(
    store: Materialized, rows: list[tuple[str, str]], violations: list[dict[str, str]]
) -> None:
    """Locks point at runs that exist and have not finished."""
    for name, run_id in rows:
        try:
            record = store.get_run(run_id)
        except StoreError as exc:
            violations.append({"run": run_id, "what": f"lock {name!r}: {exc.message}"})
            continue
        if record.status in TERMINAL:
            violations.append({"run": run_id, "what": f"lock {name!r} held by a finished run"})


def check_lane_tickets(
    store: Materialized, tickets: list[Ticket], violations: list[dict[str, str]]
) -> None:
    """Lane tickets belong to runs that exist and have not finished (a run's end drops its
    ticket in the same transaction: store/lanes.py)."""
    for ticket in tickets:
        try:
            record = store.get_run(ticket.run_id)
        except StoreError as exc:
            violations.append({"run": ticket.run_id, "what": f"lane {ticket.lane}: {exc.message}"})
            continue
        if record.status in TERMINAL:
            what = "slot" if ticket.granted else "place in the queue"
            violations.append(
                {"run": ticket.run_id, "what": f"lane {ticket.lane}: a finished run holds a {what}"}
            )


def _as_stored(replayed: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The replayed summary without the fields a run written by an older phasegate could not
    have stored, when they are still at their empty default (e.g. ``analysis``, ``promoted``,
    ``notifications``): such a run is intact, not corrupt."""
    return {
        key: value
        for key, value in replayed.items()
        if key in stored or value not in (None, {}, [])
    }
