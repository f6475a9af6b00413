"""What every store shares: events applied to a run's state (the engine's fold) become rows.

Each store keeps an event as ``(run_id, seq, ts, type, data as JSON)``: the memory store too,
so a value that would not survive the journal's JSON round trip (a tuple, a set) behaves
the same on every back end. An event reaches a store typed (run/events.py) and is stored
as ``event.to_json()``; ``replay`` reads rows back with ``from_stored``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from phasegate.run.events import Event, RunCreated, from_stored
from phasegate.run.outline import PlanOutline
from phasegate.run.state import RunState, apply, apply_stored

EventRow = tuple[str, int, float, str, str]  # run_id, seq, ts, type, data (JSON)
# An event and its time, before it has a seq: typed, as the engine records it, or in its
# stored shape (type, JSON object), as tests and tools write it, read through ``from_stored``.
NewEvent = tuple[Event, float] | tuple[str, dict[str, Any], float]


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def run_created(
    phases: list[str], needs: dict[str, list[str]] | None, outline: PlanOutline | None = None
) -> RunCreated:
    """A run's first event: its phases in plan order, what each needs, and the plan's outline
    its readers show (run/outline.py; absent in a run created without one, as before)."""
    created = RunCreated(
        phases=tuple(phases), needs={k: tuple(v) for k, v in (needs or {}).items()}
    )
    if outline is None:
        return created
    return RunCreated(phases=created.phases, needs=created.needs, outline=outline)


def fold(state: RunState, events: Sequence[NewEvent], rows: list[EventRow]) -> set[str]:
    """Apply events to the state, append their rows; return the keys of the rows changed."""
    changed: set[str] = set()
    for new in events:
        if len(new) == 3:
            event, ts = from_stored(new[0], new[1]), new[2]
        else:
            event, ts = new
        changed |= apply(state, event, ts)
        rows.append((state.run_id, state.seq, ts, event.type, dump(event.to_json())))
    return changed


def replay(run_id: str, events: Iterable[tuple[int, float, str, dict[str, Any]]]) -> RunState:
    """The state the stored events of a run fold into (``JournalStore.load_state``)."""
    state = RunState(run_id=run_id)
    for _, ts, etype, data in events:
        apply_stored(state, etype, data, ts)
    return state
