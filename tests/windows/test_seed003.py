"""Seed 003's change window as a worked example (issue 13 §1): weekdays Mon–Thu 09:00–16:00
ET only, weekends low-risk tasks only, no changes during stand-up 09:30–09:45 ET; plus a
holiday freeze and New York's public holidays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from phasegate.plan.windows import Windows
from phasegate.windows import is_open, next_close, next_open

NY = ZoneInfo("America/New_York")
SEED_003 = Windows.model_validate(
    {
        "timezone": "America/New_York",
        "allow": [
            {"days": ["mon", "tue", "wed", "thu"], "hours": "09:00-16:00"},
            {"days": ["sat", "sun"], "risk": ["none", "low"]},
        ],
        "deny": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "hours": "09:30-09:45",
                "reason": "stand-up",
            },
            {"dates": ["2026-12-24..2026-12-26"], "reason": "holiday freeze"},
            {"holidays": {"country": "US", "subdiv": "NY"}, "reason": "public holiday"},
        ],
    }
)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_a_weekday_morning_is_open_for_every_risk_but_the_stand_up() -> None:
    for risk in ("none", "low", "medium", "high", None):
        verdict = is_open(SEED_003, ny(2026, 12, 8, 9, 10), risk)  # a Tuesday
        assert verdict.open and verdict.rule == "allow[0]"
        standup = is_open(SEED_003, ny(2026, 12, 8, 9, 30), risk)
        assert not standup.open
        assert (standup.rule, standup.reason) == ("deny[0]", "stand-up")
        assert next_open(SEED_003, ny(2026, 12, 8, 9, 30), risk) == ny(2026, 12, 8, 9, 45)
        assert next_close(SEED_003, ny(2026, 12, 8, 9, 10), risk) == ny(2026, 12, 8, 9, 30)


def test_friday_is_closed_and_the_weekend_admits_low_risk_only() -> None:
    friday = ny(2026, 12, 4, 11, 0)
    assert not is_open(SEED_003, friday, "low").open
    # Low risk opens at Saturday's midnight; medium and undeclared wait for Monday 09:00.
    assert next_open(SEED_003, friday, "low") == ny(2026, 12, 5, 0, 0)
    assert next_open(SEED_003, friday, "medium") == ny(2026, 12, 7, 9, 0)
    undeclared = is_open(SEED_003, ny(2026, 12, 5, 12, 0), None)
    assert not undeclared.open and undeclared.risk == "high"
    assert next_open(SEED_003, friday, None) == ny(2026, 12, 7, 9, 0)
    # The weekend window of a low-risk change ends at Monday 00:00; Monday then opens 09:00.
    assert next_close(SEED_003, ny(2026, 12, 5, 12, 0), "low") == ny(2026, 12, 7, 0, 0)


def test_the_holiday_freeze_and_public_holidays_deny() -> None:
    christmas_eve = is_open(SEED_003, ny(2026, 12, 24, 10, 0), "none")  # a Thursday
    assert (christmas_eve.open, christmas_eve.reason) == (False, "holiday freeze")
    # Sat 26 frozen too; Sun 27 opens for low risk at midnight.
    assert next_open(SEED_003, ny(2026, 12, 24, 10, 0), "low") == ny(2026, 12, 27, 0, 0)
    assert next_open(SEED_003, ny(2026, 12, 24, 10, 0), "high") == ny(2026, 12, 28, 9, 0)
    thanksgiving = is_open(SEED_003, ny(2026, 11, 26, 10, 0), "low")
    assert (thanksgiving.open, thanksgiving.reason) == (False, "public holiday")
    assert next_open(SEED_003, ny(2026, 11, 26, 10, 0), "high") == ny(2026, 11, 30, 9, 0)


def test_an_opening_months_ahead_and_none_past_the_horizon() -> None:
    one_shot = Windows.model_validate(
        {"timezone": "Europe/Berlin", "allow": [{"dates": ["2027-09-01"], "hours": "10:00-11:00"}]}
    )
    berlin = ZoneInfo("Europe/Berlin")
    at = datetime(2026, 12, 1, tzinfo=berlin)
    assert next_open(one_shot, at, "low") == datetime(2027, 9, 1, 10, 0, tzinfo=berlin)
    assert next_close(one_shot, datetime(2027, 9, 1, 10, 0, tzinfo=berlin), "low") == datetime(
        2027, 9, 1, 11, 0, tzinfo=berlin
    )
    # More than 400 days away: none is reported (the caller says "not within 400 days").
    assert next_open(one_shot, datetime(2026, 7, 1, tzinfo=berlin), "low") is None
    frozen = Windows.model_validate({"timezone": "UTC", "deny": [{"reason": "freeze"}]})
    assert next_open(frozen, at, "none") is None
