"""The plan's change windows: when changes may happen (issue 13 §1).

``windows:`` holds allow and deny rules read in one IANA timezone; each rule matches an
instant when every field it sets matches the local wall-clock time there. The evaluation
(open or closed, next opening and closing) lives in ``phasegate.windows``; this module only
says what a valid rule is, so a bad timezone, hours, dates or holiday country fails at plan
load with its location. Semantics and why: docs/windows.md.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from phasegate.options import Model

Risk = Literal["none", "low", "medium", "high"]
RISKS: tuple[Risk, ...] = ("none", "low", "medium", "high")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATES = re.compile(rf"^\s*({_DATE})\s*(?:\.\.\s*({_DATE})\s*)?$")


def parse_hours(text: str) -> tuple[int, int]:
    """``"09:00-16:00"`` as minutes of the day ``(540, 960)``; the end may be ``24:00``. An end
    before the start is a range past midnight, which belongs to the day it starts."""
    found = _HOURS.match(text)
    if found is None:
        raise ValueError(f'hours {text!r} is not HH:MM-HH:MM (e.g. "09:00-16:00")')
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
        raise ValueError(f"hours {text!r}: a time is HH:MM from 00:00 to 24:00")
    if start == end:
        raise ValueError(f"hours {text!r} is empty: the start and the end are the same")
    return start, end


def parse_dates(text: str) -> tuple[date, date]:
    """``"2026-12-24"`` or ``"2026-12-24..2026-12-26"`` as an inclusive ``(first, last)``."""
    found = _DATES.match(text)
    if found is None:
        raise ValueError(f"dates {text!r} is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
    try:
        first = date.fromisoformat(found.group(1))
        last = date.fromisoformat(found.group(2)) if found.group(2) else first
    except ValueError as exc:
        raise ValueError(f"dates {text!r}: {exc}") from None
    if last < first:
        raise ValueError(f"dates {text!r} is reversed: the range ends before it starts")
    return first, last


@cache
def supported_countries() -> dict[str, list[str]]:
    import holidays  # a large package: imported only by plans that name holidays

    return dict(holidays.list_supported_countries())


class Holidays(Model):
    """Public holidays of a country (and subdivision), from the maintained `holidays` package."""

    country: str = Field(description="ISO 3166-1 alpha-2 code, e.g. US, DE, GB")
    subdiv: str | None = Field(None, description="a subdivision code, e.g. NY, BY")

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        countries = supported_countries()
        if self.country not in countries:
            raise ValueError(
                f"unknown holiday country {self.country!r}: give an ISO 3166-1 alpha-2 code "
                "the `holidays` package supports, e.g. US, DE, GB, FR"
            )
        subdivs = countries[self.country]
        if self.subdiv is not None and self.subdiv not in subdivs:
            shown = ", ".join(subdivs[:12]) + (", …" if len(subdivs) > 12 else "")
            raise ValueError(
                f"unknown subdivision {self.subdiv!r} of {self.country}; known: {shown}"
            )
        return self


def _check_dates(text: str) -> str:
    parse_dates(text)
    return text


# Checked one by one, so a bad entry is located at its own line, not at the list's.
DateSpec = Annotated[str, AfterValidator(_check_dates)]


class WindowRule(Model):
    """One allow or deny rule; it matches when every field it sets matches."""

    days: list[Day] | None = Field(None, description="weekdays (mon..sun) the rule covers")
    hours: str | None = Field(
        None,
        description='local time range "HH:MM-HH:MM"; one past midnight ("22:00-02:00") '
        "belongs to the day it starts",
    )
    dates: list[DateSpec] | None = Field(
        None, description='dates "YYYY-MM-DD" or inclusive ranges "YYYY-MM-DD..YYYY-MM-DD"'
    )
    holidays: Holidays | None = Field(None, description="the country's public holidays")
    risk: list[Risk] | None = Field(
        None, description="the change risks the rule applies to (default: every risk)"
    )
    reason: str | None = Field(None, description="shown when this rule decides")

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value


class Windows(Model):
    """Change windows: an instant is open for a risk iff no deny rule matches and there are
    no allow rules or some allow rule matches (docs/windows.md)."""

    timezone: str = Field(description="IANA timezone the rules are read in, e.g. Europe/Berlin")
    allow: list[WindowRule] = Field(default_factory=list)
    deny: list[WindowRule] = Field(default_factory=list)
    rollback: Literal["ignore", "respect"] = Field(
        "ignore",
        description="whether a rollback waits for an open window too: `ignore` (default: "
        "undoing a failed change is never held) or `respect` (it waits, or needs a "
        "break-glass approval)",
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}: give an IANA name such as America/New_York, "
                "Europe/Berlin or UTC"
            ) from None
        return value
