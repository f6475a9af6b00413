"""The typed constructors of item events (run/events.py): ``item_record``, ``item_started``
and ``item_finished`` store exactly what the hand-merged dicts they replace stored."""

from __future__ import annotations

from typing import Any, get_type_hints

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.run.events import (
    FinishDetails,
    ItemFinished,
    ItemStarted,
    Killed,
    StartDetails,
    item_finished,
    item_record,
    item_started,
)
from phasegate.run.records import ItemBase

_TEXT = st.text(min_size=1, max_size=12)
_BASES = st.fixed_dictionaries(
    {
        "key": _TEXT,
        "kind": st.sampled_from(["step", "gate", "undo", "rollback", "traffic", "analysis"]),
        "phase": st.none() | _TEXT,
        "name": _TEXT,
    }
)
_DETAILS = st.fixed_dictionaries(
    {},
    optional={
        "attempt": st.integers(1, 9),
        "exit_code": st.none() | st.integers(0, 255),
        "duration": st.floats(0, 1e4, allow_nan=False),
        "message": st.none() | _TEXT,
        "log": st.none() | _TEXT,
        "outputs": st.dictionaries(_TEXT, _TEXT, max_size=3),
        "delay": st.integers(0, 60),
        "tolerated": st.booleans(),
        "action": st.sampled_from(["rollback", "pause", "abort"]),
        "observed": st.none() | st.integers() | st.dictionaries(_TEXT, st.booleans(), max_size=2),
        "inconclusive": st.booleans(),
    },
)


def test_the_details_name_only_fields_of_their_event() -> None:
    """A key of FinishDetails/StartDetails that the event does not have would be stored as an
    extra key, unchecked: the typed dicts follow the models."""
    for details, event in ((FinishDetails, ItemFinished), (StartDetails, ItemStarted)):
        fields = set(event.model_fields)
        keys = set(get_type_hints(details))
        assert keys <= fields, keys - fields
    assert set(get_type_hints(ItemBase)) <= set(ItemFinished.model_fields)


@settings(deadline=None)  # no wall-clock bound: the suite runs on a loaded 2-core machine
@given(_BASES, _DETAILS, _DETAILS, st.sampled_from(["succeeded", "failed", "retrying"]))
def test_item_finished_stores_what_the_merged_dict_stored(
    base: dict[str, Any], first: dict[str, Any], later: dict[str, Any], status: str
) -> None:
    record = item_record(base, **first)  # type: ignore[arg-type]  # hypothesis gives dicts
    assert record == {**base, **first}
    built = item_finished(record, status, **later)  # type: ignore[misc]  # hypothesis gives dicts
    merged = ItemFinished.model_validate({**record, "status": status, **later})
    assert built.to_json() == merged.to_json()
    assert list(built.to_json()) == list(merged.to_json())  # the key order stored, too
    # the later details win, the record is left as it was
    assert built.to_json()["status"] == status
    for key, value in later.items():
        assert getattr(built, key) == value
    assert record == {**base, **first}


def test_item_finished_keeps_a_null_given_and_leaves_out_what_was_not() -> None:
    base: ItemBase = {"key": "p/s", "kind": "step", "phase": None, "name": "s"}
    stored = item_finished(item_record(base, exit_code=None), "failed").to_json()
    assert stored == {
        "key": "p/s",
        "kind": "step",
        "phase": None,
        "name": "s",
        "status": "failed",
        "exit_code": None,
    }


def test_a_killed_record_stores_as_the_dict_it_replaces() -> None:
    base: ItemBase = {"key": "p/s", "kind": "step", "phase": "p", "name": "s"}
    killed = Killed(by="phasegate", on="abort", signals=("SIGTERM", "SIGKILL"))
    typed = item_finished(item_record(base, killed=killed), "failed").to_json()
    as_dict = ItemFinished.model_validate(
        {
            **base,
            "killed": {"by": "phasegate", "on": "abort", "signals": ["SIGTERM", "SIGKILL"]},
            "status": "failed",
        }
    ).to_json()
    assert typed == as_dict
    assert typed["killed"] == {"by": "phasegate", "on": "abort", "signals": ["SIGTERM", "SIGKILL"]}


def test_item_started_stores_the_fields_given() -> None:
    base: ItemBase = {"key": "p/s", "kind": "step", "phase": "p", "name": "s"}
    stored = item_started(base, attempt=2, command="echo hi").to_json()
    assert stored == {**base, "attempt": 2, "command": "echo hi"}
