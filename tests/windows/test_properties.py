"""Window semantics against a brute-force reading, over random rule sets and instants
(issue 13 §1 acceptance): deny wins; next_open is open and no minute before it is; next_close
likewise; across DST changes in America/New_York and Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.plan.windows import RISKS, Windows
from phasegate.windows import is_open, next_close, next_open
from tests.windows.reference import DAYS, reference_open

ZONES = ["America/New_York", "Europe/Berlin", "UTC"]
# Instants near the 2026 DST changes of both zones, so the spans scanned cross them.
ANCHORS = [
    datetime(2026, 3, 7, 12, tzinfo=UTC),
    datetime(2026, 3, 28, 12, tzinfo=UTC),
    datetime(2026, 10, 24, 12, tzinfo=UTC),
    datetime(2026, 10, 31, 12, tzinfo=UTC),
    datetime(2026, 6, 15, 0, tzinfo=UTC),
]
SPAN = timedelta(days=3)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def hours(draw: st.DrawFn) -> str:
    # Multiples of 30 min: the DST hours (01:00-03:00) and ranges past midnight come often.
    start = draw(st.integers(0, 47)) * 30
    end = draw(st.integers(1, 48).filter(lambda m: m * 30 != start)) * 30
    return f"{_hhmm(start)}-{_hhmm(end)}"


@st.composite
def dates(draw: st.DrawFn) -> str:
    anchor = draw(st.sampled_from(ANCHORS)).date()
    first = anchor + timedelta(days=draw(st.integers(-1, 3)))
    if draw(st.booleans()):
        return first.isoformat()
    return f"{first.isoformat()}..{(first + timedelta(days=draw(st.integers(0, 2)))).isoformat()}"


rule = st.fixed_dictionaries(
    {},
    optional={
        "days": st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True),
        # Ranges that start or end inside the hour a DST change skips or repeats, often.
        "hours": st.one_of(
            hours(),
            st.sampled_from(["02:30-04:00", "01:30-02:30", "02:00-03:00", "01:00-02:00"]),
        ),
        "dates": st.lists(dates(), min_size=1, max_size=2),
        "risk": st.lists(st.sampled_from(RISKS), min_size=1, max_size=4, unique=True),
    },
)
spec = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from(ZONES),
        "allow": st.lists(rule, max_size=3),
        "deny": st.lists(rule, max_size=3),
    }
)
risk = st.one_of(st.none(), st.sampled_from(RISKS))


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    anchor = draw(st.sampled_from(ANCHORS))
    return anchor + timedelta(seconds=draw(st.integers(0, 3 * 86400)))


def _minutes(start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += timedelta(minutes=1)
    return out


@settings(max_examples=300, deadline=None)
@given(spec, instants(), risk)
def test_is_open_is_the_documented_rule(raw: dict[str, Any], at: datetime, r: Any) -> None:
    windows = Windows.model_validate(raw)
    assert is_open(windows, at, r).open is reference_open(raw, at, r)


@settings(max_examples=200, deadline=None)
@given(spec, instants(), risk)
def test_deny_wins_over_any_allow(raw: dict[str, Any], at: datetime, r: Any) -> None:
    """Allowing everything a deny rule names (and more) never opens what a deny closes."""
    deny_only = Windows.model_validate({**raw, "allow": []})
    widened = Windows.model_validate({**raw, "allow": [*raw["allow"], *raw["deny"], {}]})
    if not is_open(deny_only, at, r).open:
        verdict = is_open(widened, at, r)
        assert not verdict.open
        assert verdict.rule is not None and verdict.rule.startswith("deny[")
    else:
        assert is_open(widened, at, r).open


@settings(max_examples=60, deadline=None)
@given(spec, instants(), risk)
def test_next_open_is_the_first_open_instant(raw: dict[str, Any], at: datetime, r: Any) -> None:
    windows = Windows.model_validate(raw)
    found = next_open(windows, at, r)
    if found is not None:
        assert found >= at
        assert reference_open(raw, found, r)
        if found > at:  # just before it, closed: it is the opening, not inside one
            assert not reference_open(raw, found - timedelta(seconds=1), r)
    end = at + SPAN if found is None else min(found, at + SPAN)
    assert not any(reference_open(raw, t, r) for t in _minutes(at, end))


@settings(max_examples=60, deadline=None)
@given(spec, instants(), risk)
def test_next_close_is_the_first_closed_instant(raw: dict[str, Any], at: datetime, r: Any) -> None:
    windows = Windows.model_validate(raw)
    found = next_close(windows, at, r)
    if found is not None:
        assert found >= at
        assert not reference_open(raw, found, r)
        if found > at:
            assert reference_open(raw, found - timedelta(seconds=1), r)
    end = at + SPAN if found is None else min(found, at + SPAN)
    assert all(reference_open(raw, t, r) for t in _minutes(at, end))


# The 2026 offset changes: the instants where the local clock jumps.
TRANSITIONS = {
    "America/New_York": [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)],
    "Europe/Berlin": [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)],
}


rule_hours = st.one_of(
    hours(), st.sampled_from(["02:30-04:00", "01:30-02:30", "02:00-03:00", "01:00-02:00"])
)


@st.composite
def near_a_transition(draw: st.DrawFn) -> tuple[dict[str, Any], datetime]:
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    jump = draw(st.sampled_from(TRANSITIONS[zone]))
    kind = draw(st.sampled_from(["allow", "deny"]))
    rules = draw(st.lists(st.fixed_dictionaries({"hours": rule_hours}), min_size=1, max_size=2))
    at = jump - timedelta(minutes=draw(st.integers(0, 6 * 60)))
    return {"timezone": zone, kind: rules}, at


@settings(max_examples=200, deadline=None)
@given(near_a_transition(), st.booleans())
def test_next_change_across_a_dst_jump(case: tuple[dict[str, Any], datetime], want: bool) -> None:
    """The opening (or closing) is found at the very instant the local clock jumps into (or
    out of) a range, not at a converted wall-clock time that does not exist."""
    raw, at = case
    windows = Windows.model_validate(raw)
    found = (next_open if want else next_close)(windows, at, "low")
    end = at + timedelta(hours=12) if found is None else min(found, at + timedelta(hours=12))
    assert all(reference_open(raw, t, "low") is not want for t in _minutes(at, end))
    if found is not None:
        assert reference_open(raw, found, "low") is want
        if found > at:
            assert reference_open(raw, found - timedelta(seconds=1), "low") is not want
