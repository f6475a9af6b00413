"""Window rules compiled once into plain values the evaluation reads fast (issue 13 §1).

The plan model keeps rules as their authors wrote them ("09:00-16:00"); evaluation runs before
every phase and in property tests over thousands of instants, so the strings are parsed once
per ``Windows`` object and the holiday calendars are built once per (country, subdivision).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal

from phasegate.plan.windows import DAYS, Risk, WindowRule, Windows, parse_dates, parse_hours

Kind = Literal["allow", "deny"]
_ONE_DAY = timedelta(days=1)


@cache
def holiday_calendar(country: str, subdiv: str | None) -> Any:
    """The `holidays` package's calendar; it fills in years lazily as dates are asked about."""
    import holidays  # a large package: imported only by plans that name holidays

    return holidays.country_holidays(country, subdiv=subdiv)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    kind: Kind
    index: int
    rule: WindowRule
    days: frozenset[int] | None
    hours: tuple[int, int] | None
    dates: tuple[tuple[date, date], ...] | None
    calendar: Any
    risks: frozenset[str] | None

    @property
    def name(self) -> str:
        return f"{self.kind}[{self.index}]"

    def covers_day(self, day: date) -> bool:
        """The day-level fields (days, dates, holidays) all hold for ``day``."""
        if self.days is not None and day.weekday() not in self.days:
            return False
        if self.dates is not None and not any(a <= day <= b for a, b in self.dates):
            return False
        return self.calendar is None or day in self.calendar

    def matches(self, local: datetime, risk: Risk) -> bool:
        """Whether the rule holds at this local wall-clock time for a change of ``risk``."""
        if self.risks is not None and risk not in self.risks:
            return False
        if self.hours is None:
            return self.covers_day(local.date())
        start, end = self.hours
        minute = local.hour * 60 + local.minute
        if start < end:
            return start <= minute < end and self.covers_day(local.date())
        # Past midnight ("22:00-02:00"): the early hours belong to the day before, the one the
        # range starts on, as a reader of "Friday 22:00-02:00" means.
        if minute >= start:
            return self.covers_day(local.date())
        return minute < end and self.covers_day(local.date() - _ONE_DAY)


@dataclass(frozen=True, slots=True)
class CompiledWindows:
    windows: Windows
    tz: zoneinfo.ZoneInfo
    allow: tuple[CompiledRule, ...]
    deny: tuple[CompiledRule, ...]
    # Minutes of the day where some rule's hours start or end, and midnight: with the zone's
    # transitions, the only instants where an evaluation can change (see evaluate.py).
    edges: tuple[int, ...]


def _rule(kind: Kind, index: int, rule: WindowRule) -> CompiledRule:
    return CompiledRule(
        kind=kind,
        index=index,
        rule=rule,
        days=frozenset(DAYS.index(d) for d in rule.days) if rule.days is not None else None,
        hours=parse_hours(rule.hours) if rule.hours is not None else None,
        dates=tuple(parse_dates(d) for d in rule.dates) if rule.dates is not None else None,
        calendar=(
            holiday_calendar(rule.holidays.country, rule.holidays.subdiv)
            if rule.holidays is not None
            else None
        ),
        risks=frozenset(rule.risk) if rule.risk is not None else None,
    )


_CACHE: dict[int, CompiledWindows] = {}


def compile_windows(windows: Windows | CompiledWindows) -> CompiledWindows:
    """The compiled form of ``windows``, cached by identity (plan models are immutable; the
    cache keeps the model alive, so an id is never reused while it is cached)."""
    if isinstance(windows, CompiledWindows):
        return windows
    found = _CACHE.get(id(windows))
    if found is not None and found.windows is windows:
        return found
    allow = tuple(_rule("allow", i, r) for i, r in enumerate(windows.allow))
    deny = tuple(_rule("deny", i, r) for i, r in enumerate(windows.deny))
    edges = {0}
    for rule in allow + deny:
        if rule.hours is not None:
            edges.update(m % (24 * 60) for m in rule.hours)
    compiled = CompiledWindows(
        windows, zoneinfo.ZoneInfo(windows.timezone), allow, deny, tuple(sorted(edges))
    )
    if len(_CACHE) >= 256:
        _CACHE.clear()
    _CACHE[id(windows)] = compiled
    return compiled
