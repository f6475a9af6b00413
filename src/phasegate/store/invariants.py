"""``phasegate check``: prove the journal is consistent.

For every run: its events are numbered 1..n without gaps, each is a legal transition of the
state machine, and the materialized rows equal the replay of its events. Locks point at runs
that have not finished.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from phasegate.engine.state import TERMINAL, RunState, apply
from phasegate.errors import InvalidTransition
from phasegate.store.sqlite import SqliteStore


def _norm(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def check_store(store: SqliteStore) -> dict[str, Any]:
    violations: list[dict[str, str]] = []
    runs = store.run_ids()
    events_total = 0
    for run_id in runs:
        state = RunState(run_id=run_id)
        events = store.events(run_id)
        events_total += len(events)
        broken = False
        for expected, (seq, ts, etype, data) in enumerate(events, start=1):
            if seq != expected:
                violations.append(
                    {
                        "run": run_id,
                        "what": f"event #{seq} where #{expected} was expected (gap or reorder)",
                    }
                )
                broken = True
                break
            try:
                apply(state, etype, data, ts)
            except InvalidTransition as exc:
                violations.append({"run": run_id, "what": str(exc)})
                broken = True
                break
        if broken:
            continue
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
    for name, run_id in store.db.execute("SELECT name, run_id FROM locks").fetchall():
        record = store.get_run(run_id)
        if record.status in TERMINAL:
            violations.append({"run": run_id, "what": f"lock {name!r} held by a finished run"})
    integrity = store.db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        violations.append({"run": "-", "what": f"SQLite integrity_check: {integrity}"})
    return {
        "ok": not violations,
        "runs": len(runs),
        "events": events_total,
        "schema_version": store.schema_version,
        "violations": violations,
    }


def _as_stored(replayed: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The replayed summary without the fields a run written by an older phasegate could not
    have stored, when they are still at their empty default (e.g. ``analysis``, ``promoted``,
    ``notifications``): such a run is intact, not corrupt."""
    return {
        key: value
        for key, value in replayed.items()
        if key in stored or value not in (None, {}, [])
    }
