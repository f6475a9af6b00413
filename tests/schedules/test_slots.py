"""Slot computation, property-tested: the next slot is strictly after, the latest is at or
before, nothing lies between them, across DST changes in Europe/Berlin and New York; and the
due decision (fire, catch up one, skip) over random anchors and clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.errors import UsageError
from phasegate.schedules import due, parse_rule
from phasegate.schedules.rules import Rule, calendar_to_cron

ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe"]
CRONS = [
    "*/5 * * * *",
    "0 * * * *",
    "30 2 * * *",  # inside the spring-forward gap in Berlin and New York
    "0 1 * * 0",  # in New York's repeated hour on a fall-back Sunday
    "15 3 1,15 * *",
    "0 9 * * 1-5",
    "*/20 1-3 * * *",
]
# 2026's DST changes: Berlin Mar 29 / Oct 25, New York Mar 8 / Nov 1; and around them.
DST_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1)]


def cron(expr: str, zone: str) -> Rule:
    return parse_rule(cron=expr, every=None, calendar=None, timezone=zone)


@st.composite
def instants(draw: st.DrawFn) -> float:
    """Seconds since the epoch, mostly within a day of a DST change."""
    if draw(st.booleans()):
        day = draw(st.sampled_from(DST_DAYS))
        base = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        return base + draw(st.floats(-36 * 3600, 36 * 3600, allow_nan=False))
    return draw(st.floats(1.7e9, 1.9e9, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CRONS), st.sampled_from(ZONES), instants())
def test_next_is_strictly_after_latest_is_at_or_before_and_nothing_between(
    expr: str, zone: str, t: float
) -> None:
    rule = cron(expr, zone)
    following = rule.next_after(t)
    latest = rule.latest_at_or_before(t)
    assert following > t
    assert latest is not None and latest <= t
    # no slot between them: the slot after the latest is the next one
    assert rule.next_after(latest) == following
    assert rule.latest_at_or_before(following) == following
    assert rule.latest_at_or_before(following - 1) == latest


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CRONS), st.sampled_from(ZONES), instants())
def test_slots_increase_and_match_the_rule_in_local_time(expr: str, zone: str, t: float) -> None:
    rule = cron(expr, zone)
    slot = t
    minute, hour = expr.split()[:2]
    for _ in range(5):
        following = rule.next_after(slot)
        assert following > slot
        at = datetime.fromtimestamp(following, ZoneInfo(zone))
        assert at.second == 0
        if minute.startswith("*/"):
            assert at.minute % int(minute[2:]) == 0
        elif minute.isdigit() and hour.isdigit():
            # a fixed time: at it, or (spring forward skipped it) the first minute after it
            wall = at.hour * 60 + at.minute
            assert wall == int(hour) * 60 + int(minute) or _in_gap(at, int(hour), int(minute))
        slot = following


def _in_gap(at: datetime, hour: int, minute: int) -> bool:
    wanted = at.replace(hour=hour, minute=minute, tzinfo=None)
    round_trip = wanted.replace(tzinfo=at.tzinfo).astimezone(UTC).astimezone(at.tzinfo)
    return round_trip.replace(tzinfo=None) != wanted


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("day", DST_DAYS)
def test_a_daily_time_fires_once_on_every_day_around_dst(zone: str, day: date) -> None:
    rule = cron("30 2 * * *", zone)
    tz = ZoneInfo(zone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz) - timedelta(days=3)
    slot = start.timestamp()
    days = []
    for _ in range(7):
        slot = rule.next_after(slot)
        days.append(datetime.fromtimestamp(slot, tz).date())
    assert days == [start.date() + timedelta(days=n) for n in range(7)]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_every_five_minutes_leaves_no_gap_across_dst(zone: str) -> None:
    rule = cron("*/5 * * * *", zone)
    for day in DST_DAYS:
        slot = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() - 6 * 3600
        for _ in range(12 * 14):
            following = rule.next_after(slot)
            assert following - slot == 300  # real seconds: no hour lost or doubled
            slot = following


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 7200), st.floats(0, 2e9, allow_nan=False))
def test_every_slots_are_multiples_since_the_epoch(seconds: int, t: float) -> None:
    rule = parse_rule(cron=None, every=f"{seconds}s", calendar=None, timezone="Europe/Berlin")
    following, latest = rule.next_after(t), rule.latest_at_or_before(t)
    assert latest is not None
    assert following % seconds == 0 and latest % seconds == 0
    assert latest <= t < following == latest + seconds


def test_calendar_rules_read_as_cron() -> None:
    assert calendar_to_cron("daily 02:00") == "0 2 * * *"
    assert calendar_to_cron("mon..thu 09:30") == "30 9 * * 1-4"
    assert calendar_to_cron("sat,sun 4:15") == "15 4 * * 6,0"
    assert calendar_to_cron("weekdays 23:59") == "59 23 * * 1-5"
    for bad, word in [("25:00", "time"), ("someday 02:00", "day"), ("a b c", "DAYS")]:
        with pytest.raises(UsageError, match=f"--calendar {bad!r}.*{word}"):
            calendar_to_cron(bad)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cron": "61 * * * *"}, "--cron"),
        ({"cron": "* * * *"}, "--cron"),
        ({"cron": "0 0 31 2 *"}, "--cron"),
        ({"every": "0s"}, "--every"),
        ({"every": "1.5s"}, "--every"),
        ({"every": "often"}, "--every"),
        ({"cron": "* * * * *", "timezone": "Europe/Atlantis"}, "--timezone"),
        ({"cron": "* * * * *", "every": "2s"}, "exactly one"),
    ],
)
def test_bad_rules_name_their_field(kwargs: dict[str, str], field: str) -> None:
    args = {"cron": None, "every": None, "calendar": None, "timezone": "UTC", **kwargs}
    with pytest.raises(UsageError) as caught:
        parse_rule(**args)
    assert field in caught.value.message and caught.value.hint


# -- what is due ---------------------------------------------------------------------------
EVERY_2S = parse_rule(cron=None, every="2s", calendar=None, timezone="UTC")
HOURLY = cron("0 * * * *", "Europe/Berlin")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([EVERY_2S, HOURLY]),
    st.floats(1.7e9, 1.8e9, allow_nan=False),
    st.floats(0, 3 * 86400, allow_nan=False),
    st.sampled_from(["skip", "catch-up-one"]),
)
def test_due_claims_the_newest_unhandled_slot_and_fires_by_policy(
    rule: Rule, anchor: float, elapsed: float, missed: str
) -> None:
    now = anchor + elapsed
    decision = due(rule, anchor=anchor, now=now, missed=missed)
    newest = rule.latest_at_or_before(now)
    assert newest is not None
    if newest <= anchor:
        assert decision.slot is None  # nothing new: never a slot twice
        return
    assert decision.slot == newest and anchor < decision.slot <= now
    on_time = now - newest <= 60
    assert decision.fire == (on_time or missed == "catch-up-one")
    assert decision.catch_up == (not on_time and missed == "catch-up-one")
    # after handling it, nothing is due until the next slot
    assert due(rule, anchor=newest, now=now, missed=missed).slot is None
    following = rule.next_after(now)
    assert due(rule, anchor=newest, now=following, missed=missed).slot == following


def test_a_server_down_for_hours_catches_up_once_or_records_a_miss() -> None:
    created = datetime(2026, 12, 6, 0, 30, tzinfo=UTC).timestamp()
    back = datetime(2026, 12, 6, 5, 20, tzinfo=UTC).timestamp()
    skip = due(HOURLY, anchor=created, now=back, missed="skip")
    assert (skip.slot, skip.fire, skip.missed_before) == (back - 20 * 60, False, True)
    catch = due(HOURLY, anchor=created, now=back, missed="catch-up-one")
    assert (catch.slot, catch.fire, catch.catch_up) == (back - 20 * 60, True, True)
    # back within a minute of a slot: that slot fires on time, the older ones were missed
    soon = due(HOURLY, anchor=created, now=back - 19.5 * 60, missed="skip")
    assert (soon.fire, soon.catch_up, soon.missed_before) == (True, False, True)
