"""The runway panel's budget state (engine/runway.py ``runway_state``): what the run
journalled and the use itself, in the order people need it — paused, critical, warning, ok."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from phasegate.engine.runway import Runway, runway_state

amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False)


def runway(
    used: float, thresholds: tuple[float, ...], passed: tuple[float, ...], hold: str | None
) -> Runway:
    return Runway(
        limit=100.0,
        used=used,
        p50=used,
        p90=used,
        basis="p50",
        thresholds=thresholds,
        passed=passed,
        pause_above=1.25,
        hold=hold,
    )


def test_each_state_from_the_journal() -> None:
    two = (40.0, 20.0)
    assert runway_state(runway(10, two, (), None)) == "ok"
    assert runway_state(runway(70, two, (40.0,), None)) == "warning"
    assert runway_state(runway(85, two, (40.0, 20.0), None)) == "critical"
    assert runway_state(runway(90, (20.0,), (20.0,), None)) == "warning"  # one: a warning
    assert runway_state(runway(101, (), (), None)) == "critical"  # used up, no thresholds
    assert runway_state(runway(101, two, (40.0, 20.0), "awaiting_approval")) == "paused"
    assert runway_state(runway(101, two, (), "succeeded")) == "critical"  # approved past


@given(
    used=amounts,
    thresholds=st.lists(st.sampled_from([50.0, 30.0, 10.0]), unique=True).map(
        lambda t: tuple(sorted(t, reverse=True))
    ),
    data=st.data(),
    hold=st.sampled_from([None, "awaiting_approval", "succeeded", "failed"]),
)
def test_the_state_never_understates_what_was_said(
    used: float, thresholds: tuple[float, ...], data: st.DataObject, hold: str | None
) -> None:
    drawn = data.draw(st.lists(st.sampled_from(thresholds), unique=True)) if thresholds else []
    passed = tuple(drawn)
    state = runway_state(runway(used, thresholds, passed, hold))
    if hold == "awaiting_approval":
        assert state == "paused"
    elif used > 100 or (len(thresholds) > 1 and thresholds[-1] in passed):
        assert state == "critical"
    elif passed:
        assert state == "warning"
    else:
        assert state == "ok"
