"""When a parked monitoring run must execute again (engine/postmonitor.py ``resume_at``, what
``serve``'s pool reads to resume it): a pure function of the journal and the clock, never
before a slot is due, at once when nothing is left to wait for."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from phasegate.engine.postmonitor import FINISH_KEY, next_check_at, resume_at
from phasegate.run.state import RunState, replay

ANCHOR = 10_000.0
EVERY, LENGTH = 60.0, 600.0  # 10 slots: at +60 s, +120 s, …, +600 s


def monitoring(checked: int, *, finished_early: bool = False) -> RunState:
    events: list[tuple[str, dict[str, Any], float]] = [
        ("run.created", {"phases": ["deploy"]}, ANCHOR - 10),
        ("run.started", {}, ANCHOR - 9),
        ("phase.started", {"phase": "deploy"}, ANCHOR - 8),
        ("phase.finished", {"phase": "deploy", "status": "succeeded"}, ANCHOR - 1),
        (
            "monitoring.started",
            {
                "at": ANCHOR,
                "schedule": [{"every": EVERY, "for": LENGTH}],
                "checks": ["alive"],
                "slots": 10,
                "ends_at": ANCHOR + LENGTH,
                "next_due": ANCHOR + EVERY,
            },
            ANCHOR,
        ),
    ]
    for slot in range(1, checked + 1):
        at = ANCHOR + EVERY * slot
        result = {"check": "alive", "status": "passed", "message": "ok"}
        data = {"slot": slot, "at": at, "status": "passed", "results": [result]}
        events.append(("monitoring.checked", data, at))
    if finished_early:
        finish = {"key": FINISH_KEY, "by": "ana", "required": 1, "comment": "enough"}
        events.append(("approval.granted", finish, ANCHOR + EVERY * checked + 1))
    return replay("r1", events)


@given(checked=st.integers(0, 9), offset=st.floats(0, 2 * LENGTH, allow_nan=False))
def test_a_parked_run_is_resumed_for_its_next_slot_never_before(
    checked: int, offset: float
) -> None:
    state = monitoring(checked)
    now = ANCHOR + EVERY * checked + offset
    at = resume_at(state, now)
    due = ANCHOR + EVERY * (checked + 1)  # the slot after the last one checked
    if now < due:
        assert at == due  # not before it is due, and not later
    else:
        # Overdue (the engine was down): at once, for the latest slot due by now.
        assert due <= at <= now
        assert ((at - ANCHOR) / EVERY).is_integer()  # a slot's own time on the schedule


def test_nothing_left_to_wait_for_resumes_at_once() -> None:
    assert resume_at(monitoring(10), ANCHOR + 5_000) == ANCHOR + 5_000  # schedule done
    assert next_check_at(monitoring(10), ANCHOR + 5_000) is None
    early = monitoring(3, finished_early=True)
    assert resume_at(early, ANCHOR + 200) == ANCHOR + 200  # an operator ended it
    assert resume_at(monitoring(3), ANCHOR + 200) == ANCHOR + 240
