"""An obviously correct (slow) reading of docs/windows.md, written apart from
phasegate.windows, for the property tests to compare against."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _day_ok(rule: dict[str, Any], day: date) -> bool:
    if "days" in rule and DAYS[day.weekday()] not in rule["days"]:
        return False
    if "dates" in rule:
        hit = False
        for spec in rule["dates"]:
            first, _, last = spec.partition("..")
            if date.fromisoformat(first) <= day <= date.fromisoformat(last or first):
                hit = True
        if not hit:
            return False
    return True


def rule_matches(rule: dict[str, Any], local: datetime, risk: str) -> bool:
    if "risk" in rule and risk not in rule["risk"]:
        return False
    if "hours" not in rule:
        return _day_ok(rule, local.date())
    start_text, end_text = rule["hours"].split("-")
    start, end = _minutes(start_text), _minutes(end_text)
    now = local.hour * 60 + local.minute
    if start < end:
        return start <= now < end and _day_ok(rule, local.date())
    return (now >= start and _day_ok(rule, local.date())) or (
        now < end and _day_ok(rule, local.date() - timedelta(days=1))
    )


def reference_open(spec: dict[str, Any], at: datetime, risk: str | None) -> bool:
    risk = risk or "high"
    local = at.astimezone(ZoneInfo(spec["timezone"]))
    if any(rule_matches(r, local, risk) for r in spec.get("deny", [])):
        return False
    allow = spec.get("allow", [])
    return not allow or any(rule_matches(r, local, risk) for r in allow)
