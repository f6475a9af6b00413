"""Time in documents -> plan keys (issue 13 §6): seed 003's change window, phase risks and
guardrails become `windows:`, `risk:` and `budget:`; seed 001's monitoring sentence `monitor:`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasegate.markdown import import_markdown, import_markdown_file
from phasegate.markdown.monitoring import schedule_of
from phasegate.markdown.windows_section import days_of, rule_of
from phasegate.plan.windows import Windows
from phasegate.windows import is_open
from tests import shared

SEEDS = shared.SHARED / "seeds"
SEED_001 = SEEDS / "001_74c54c07e0b79878.txt"
SEED_003 = SEEDS / "003_f62dd9e0e2ce5418.txt"
seeds = pytest.mark.skipif(not SEED_003.is_file(), reason=f"seeds not found at {SEEDS}")


@seeds
def test_seed_003_change_window_risks_and_guardrails() -> None:
    data = import_markdown_file(SEED_003).data
    assert data["windows"] == {
        "timezone": "America/New_York",
        "allow": [
            {
                "days": ["mon", "tue", "wed", "thu"],
                "hours": "09:00-16:00",
                "reason": "Weekdays (Mon-Thu)",
            },
            {"days": ["sat", "sun"], "risk": ["none", "low"], "reason": "Weekends (Sat-Sun)"},
        ],
        "deny": [{"hours": "09:30-09:45", "reason": "standup"}],
    }
    risks = {p["id"][:5]: p.get("risk") for p in data["phases"] if p["id"].startswith("day-")}
    assert risks == {
        "day-0": "none",
        "day-1": "low",
        "day-2": "low",
        "day-3": "medium",
        "day-4": "low",
        "day-5": "medium",
        "day-6": "high",
        "day-7": "low",
    }
    # The days' durations: 6 x 2h + 3h + 1.5h; T-15 / T-5; "projected >25% over budget".
    assert data["budget"] == {"duration": "16h30m", "runway": ["15m", "5m"], "pause_above": "125%"}
    # The runway row is the engine's projection now, not a metric query to bind.
    names = [t["name"] for t in data.get("triggers", [])]
    assert not [n for n in names if "runway" in n] and "estimation-mae" in names


@seeds
def test_the_imported_window_means_what_the_seed_says() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    windows = Windows.model_validate(import_markdown_file(SEED_003).data["windows"])
    ny = ZoneInfo("America/New_York")

    def open_at(text: str, risk: Any) -> bool:
        return is_open(windows, datetime.fromisoformat(text).replace(tzinfo=ny), risk).open

    assert open_at("2025-11-10T10:00", "high")  # Monday morning
    assert not open_at("2025-11-10T09:35", "none")  # stand-up: no changes at all
    assert not open_at("2025-11-10T16:30", "low")  # after 16:00
    assert open_at("2025-11-08T10:00", "low") and not open_at("2025-11-08T10:00", "medium")
    assert not open_at("2025-11-14T11:00", "low")  # Friday: the seed lists no rule for it


@seeds
def test_seed_001_monitoring_sentence_becomes_the_monitor_schedule() -> None:
    data = import_markdown_file(SEED_001).data
    monitor = data.get("monitor") or data["metadata"]["monitor"]
    assert monitor["schedule"] == [
        {"every": "5m", "for": "1h"},
        {"every": "1h", "for": "23h"},
    ]  # 1 h + 23 h: the 24 hours
    assert monitor["on_failure"] == "alert"
    [check] = monitor["checks"]
    assert check["command"].endswith("\nvalidate_framework_health")
    assert "validate_framework_health() {" in check["command"]  # carried with its definition
    # No longer a phase monitor that its phase's end would cut short.
    monitors = [m["name"] for p in data["phases"] for m in p.get("monitors", [])]
    assert "extended-monitoring-after-successful-rollout" not in monitors


DOC = """\
# Release

## Step 1: deploy
```bash
./deploy.sh
```

## Maintenance window
- Weekdays: 22:00–02:00 UTC
- Saturday, Sunday: medium-risk changes only
- Blackout: no changes during the quarter close (Mon–Fri 08:00–10:00 UTC)
"""


def test_a_window_section_in_other_words() -> None:
    data = import_markdown(DOC).data
    assert data["windows"] == {
        "timezone": "UTC",
        "allow": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "hours": "22:00-02:00",
                "reason": "Weekdays",
            },
            {
                "days": ["sat", "sun"],
                "risk": ["none", "low", "medium"],
                "reason": "Saturday, Sunday",
            },
        ],
        "deny": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "hours": "08:00-10:00",
                "reason": "quarter close",
            }
        ],
    }
    assert "budget" not in data  # no guardrails: nothing invented


def test_a_window_without_a_timezone_is_not_guessed() -> None:
    result = import_markdown(DOC.replace(" UTC", ""))
    assert "windows" not in result.data
    assert any("without a timezone" in a["what"] for a in result.report["ambiguous"])


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        (
            "Every 5 minutes for first hour, then hourly. Duration: 24 hours",
            # a segment's `for` is its own length: 1 h + 23 h are the 24 hours
            [{"every": "5m", "for": "1h"}, {"every": "1h", "for": "23h"}],
        ),
        (
            "check every 1 minute for the first 30 minutes, then every 10 minutes for 6 hours",
            [{"every": "1m", "for": "30m"}, {"every": "10m", "for": "6h"}],
        ),
        ("every 5 minutes", None),
    ],
)
def test_schedule_sentences(text: str, schedule: Any) -> None:
    assert schedule_of(text) == schedule


def test_rules_of_single_lines() -> None:
    assert rule_of("Freeze: No changes during standup (09:30–09:45 ET)") == (
        "deny",
        {"hours": "09:30-09:45", "reason": "standup"},
    )
    assert rule_of("monitoring dashboards are on the wiki") is None  # "mon" is not Monday
    assert days_of("Thu-Mon") == ["mon", "thu", "fri", "sat", "sun"]


DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
NAMES = {
    "mon": "Monday",
    "tue": "Tue",
    "wed": "Wednesday",
    "thu": "Thurs",
    "fri": "Fri",
    "sat": "Saturday",
    "sun": "Sun",
}


@given(st.sampled_from(DAYS), st.sampled_from(DAYS), st.sampled_from(["-", "–", " to "]))
def test_property_a_day_range_is_the_days_from_start_to_end(a: str, b: str, dash: str) -> None:
    found = days_of(f"{NAMES[a]}{dash}{NAMES[b]}: 09:00–17:00 UTC")
    i, j = DAYS.index(a), DAYS.index(b)
    expected = DAYS[i : j + 1] if i <= j else DAYS[i:] + DAYS[: j + 1]
    assert found == [d for d in DAYS if d in expected]


def test_what_phasegate_cannot_read_is_reported_not_imported() -> None:
    doc = DOC.replace("22:00–02:00", "25:00–26:00")
    result = import_markdown(doc)  # the import itself still succeeds
    assert "windows" not in result.data
    assert any("cannot read" in a["what"] for a in result.report["ambiguous"])
    guard = (
        "# Release\n\n## Day 1: deploy\n**Duration**: 10 minutes\n**Change Risk**: Low\n\n"
        "```bash\n./deploy.sh\n```\n\n## Guardrails\n\n"
        "| Metric | Warning | Critical | Action |\n|---|---|---|---|\n"
        "| Budget Runway (minutes) | <15 | <5 | alert |\n"
    )
    result = import_markdown(guard)
    assert "budget" not in result.data  # a 15-minute runway of a 10-minute budget
    assert any("cannot use" in a["what"] for a in result.report["ambiguous"])
