"""What every store shares: events applied to a run's state (the engine's fold) become rows.

Each store keeps an event as ``(run_id, seq, ts, type, data as JSON)``: the memory store too,
so a value that would not survive the journal's JSON round trip (a tuple, a set) behaves
the same on every back end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from phasegate.engine.state import RunState, apply

EventRow = tuple[str, int, float, str, str]  # run_id, seq, ts, type, data (JSON)
NewEvent = tuple[str, dict[str, Any], float]  # type, data, ts: an event before it has a seq


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def fold(state: RunState, events: list[NewEvent], rows: list[EventRow]) -> set[str]:
    """Apply events to the state, append their rows; return the keys of the rows changed."""
    changed: set[str] = set()
    for etype, data, ts in events:
        changed |= apply(state, etype, data, ts)
        rows.append((state.run_id, state.seq, ts, etype, dump(data)))
    return changed


def replay(run_id: str, events: Iterable[tuple[int, float, str, dict[str, Any]]]) -> RunState:
    """The state the stored events of a run fold into (``JournalStore.load_state``)."""
    state = RunState(run_id=run_id)
    for _, ts, etype, data in events:
        apply(state, etype, data, ts)
    return state
