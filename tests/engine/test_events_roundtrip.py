"""The typed vocabulary round-trips, property-tested: any event, with any subset of its fields
given, stored as JSON and read back is the same event; and folding stored-then-loaded events
gives the same run state as folding the originals (on random events and on the valid runs of
random plans the simulator drives)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from phasegate.errors import InvalidTransition
from phasegate.run.events import EVENT_CLASSES, Event, Record, from_stored
from phasegate.run.record import JsonValue
from phasegate.run.state import RunState, apply
from phasegate.store.fold import dump

KEYS = st.sampled_from(["p/s0", "p/s1", "q/gate:g0", "undo:p/s0", "p/analysis", "verify:v0"])
WORDS = st.sampled_from(["p", "q", "running", "succeeded", "failed", "rollback", "ann", ""])
STATUSES = st.sampled_from(
    ["succeeded", "failed", "passed", "skipped", "retrying", "awaiting_approval", "rolled_back"]
)
JSON_SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(0, 10) | WORDS
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=6,
)


def _for(annotation: Any, name: str) -> st.SearchStrategy[Any]:
    """Values for a field, from its annotation (the classes use a handful of shapes)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_for(arg, name) for arg in typing.get_args(annotation)))
    if annotation is type(None):
        return st.none()
    if annotation is typing.Any or annotation == JsonValue:  # free-form JSON (run/record.py)
        return JSON
    if origin is tuple:
        return st.lists(_for(typing.get_args(annotation)[0], name), max_size=3).map(tuple)
    if origin is dict:
        value = typing.get_args(annotation)[1]
        return st.dictionaries(WORDS, _for(value, name), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return records(annotation)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(0, 5)
    if annotation is float:
        return st.floats(0, 1e9, allow_nan=False)
    if annotation is str:
        return {"key": KEYS, "status": STATUSES}.get(name, WORDS)
    raise AssertionError(f"no strategy for {annotation!r}")  # pragma: no cover


def records(cls: type[Record]) -> st.SearchStrategy[Any]:
    """Instances of ``cls`` with a random subset of the optional fields given."""
    hints = typing.get_type_hints(cls)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        fields: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            if info.is_required() or draw(st.booleans()):
                fields[info.alias or name] = draw(_for(hints[name], name))
        return cls.model_validate(fields)

    return build()


EVENTS = st.one_of(*(records(cls) for cls in EVENT_CLASSES.values()))


def stored_and_loaded(event: Event) -> Event:
    """Through the journal: JSON text in a row, and back."""
    return from_stored(event.type, json.loads(dump(event.to_json())))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_any_event_stored_and_loaded_is_the_same_event(event: Event) -> None:
    loaded = stored_and_loaded(event)
    assert type(loaded) is type(event)
    assert loaded == event
    assert loaded.to_json() == event.to_json()
    assert loaded.model_fields_set == event.model_fields_set  # absent stays absent


def _fold(events: list[Event]) -> tuple[dict[str, Any], int | None]:
    """The state's JSON after folding as far as the machine accepts, and where it refused."""
    state = RunState(run_id="r")
    refused = None
    for index, event in enumerate(events):
        try:
            apply(state, event, float(index))
        except InvalidTransition:
            refused = index
            break
    rows = {
        "summary": state.summary(),
        "items": {k: i.__dict__ for k, i in state.items.items()},
        "phases": {k: p.__dict__ for k, p in state.phases.items()},
    }
    return json.loads(dump(rows)), refused


RUN_START = st.builds(
    lambda phases: [
        EVENT_CLASSES["run.created"].model_validate({"phases": phases}),
        EVENT_CLASSES["run.started"].model_validate({}),
    ],
    st.lists(st.sampled_from(["p", "q"]), unique=True, max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RUN_START, st.lists(EVENTS, max_size=12))
def test_folding_loaded_events_gives_the_state_of_the_originals(
    start: list[Event], events: list[Event]
) -> None:
    originals = start + events
    assert _fold([stored_and_loaded(e) for e in originals]) == _fold(originals)
