"""A schedule's rule: which instants (*slots*) it names, in which timezone.

Three ways to write one, all checked when the schedule is added:

- ``cron``: five fields (minute hour day-of-month month day-of-week) read in the schedule's
  IANA timezone by cronsim, a maintained, typed cron evaluator that handles DST as Debian's
  cron does (a fixed time that a spring-forward skips runs at the first minute after the gap;
  one that a fall-back repeats runs once, the first time);
- ``every``: a whole number of seconds (``2s``, ``5m``, ``1h``); slots are its multiples
  since the Unix epoch, so every server computes the same ones whatever its clock zone;
- ``calendar``: ``[DAYS] HH:MM`` (``daily 02:00``, ``mon..thu 09:30``, ``weekdays 02:00``),
  translated to cron.

Slots are whole epoch seconds. ``next_after(t)`` is the first slot strictly after ``t``;
``latest_at_or_before(t)`` the last one at or before it; the two agree (no slot lies
between them), which the property tests check across DST changes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NotRequired, TypedDict, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from phasegate.durations import DurationError, parse_duration
from phasegate.errors import UsageError
from phasegate.run.record import JsonDict

KINDS = ("cron", "every", "calendar")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_WORDS = {"daily": "*", "weekdays": "1-5", "weekends": "0,6"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# A reverse or forward search never needs more steps than this to step over a DST quirk.
_GUARD = 50


def _field_error(field: str, text: str, why: str, hint: str) -> UsageError:
    return UsageError(f"{field} {text!r}: {why}", hint=hint)


def zone(name: str, *, field: str = "--timezone") -> ZoneInfo:
    """An IANA timezone, or a usage error naming the field."""
    try:
        if not name or name != name.strip() or name.startswith(("/", ".")):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _field_error(
            field,
            name,
            "is not an IANA timezone",
            "e.g. Europe/Berlin, America/New_York or UTC (`timedatectl list-timezones`)",
        ) from None


def calendar_to_cron(text: str) -> str:
    """``[DAYS] HH:MM`` -> a five-field cron expression; a usage error naming --calendar."""
    hint = "write [DAYS] HH:MM, e.g. 'daily 02:00', 'mon..thu 09:30', 'sat,sun 04:15'"
    words = text.strip().lower().split()
    if not words or len(words) > 2:
        raise _field_error("--calendar", text, "is not DAYS HH:MM", hint)
    days_text, time_text = ("daily", words[0]) if len(words) == 1 else (words[0], words[1])
    match = _TIME.match(time_text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise _field_error("--calendar", text, f"{time_text!r} is not a time HH:MM", hint)
    if days_text in _DAY_WORDS:
        days = _DAY_WORDS[days_text]
    else:
        parts = []
        for part in days_text.split(","):
            ends = re.split(r"\.\.|-", part)
            if len(ends) > 2 or any(end not in _DAY_NAMES for end in ends):
                raise _field_error("--calendar", text, f"{part!r} is not a day or a range", hint)
            parts.append("-".join(str(_DAY_NAMES.index(end)) for end in ends))
        days = ",".join(parts)
    return f"{int(match[2])} {int(match[1])} * * {days}"


class RuleSpec(TypedDict):
    """A rule as stored: its kind and its text as written."""

    kind: str  # cron | every | calendar
    text: str


class ScheduleSpec(TypedDict):
    """A schedule as the store keeps it (``schedules.spec.build_spec`` writes it)."""

    plan: str  # the plan file, resolved
    plan_name: NotRequired[str]
    rule: RuleSpec
    timezone: str
    vars: dict[str, str]
    missed: str  # skip | catch-up-one


def spec_json(spec: ScheduleSpec) -> JsonDict:
    """A spec as the store keeps it: its fields are JSON already (strings, and objects and
    lists of them)."""
    return cast("JsonDict", dict(spec))


def stored_spec(spec: Mapping[str, object]) -> ScheduleSpec:
    """A stored schedule's spec, typed: the store keeps it as the JSON ``build_spec`` made,
    and only this package writes it."""
    return cast(ScheduleSpec, spec)


@dataclass(frozen=True)
class Rule:
    kind: str  # cron | every | calendar
    text: str  # as written
    timezone: str
    cron: str | None = None  # cron and calendar: the five fields cronsim reads
    every: int | None = None  # every: seconds

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_spec(self) -> RuleSpec:
        return {"kind": self.kind, "text": self.text}

    def describe(self) -> str:
        if self.kind == "every":
            return f"every {self.text}"
        return f"{self.kind} {self.text!r} ({self.timezone})"

    # -- slots ----------------------------------------------------------------------------
    def next_after(self, t: float) -> int:
        """The first slot strictly after ``t``."""
        if self.every is not None:
            return (math.floor(t / self.every) + 1) * self.every
        assert self.cron is not None
        found = CronSim(self.cron, datetime.fromtimestamp(math.floor(t), self.tz))
        for _ in range(_GUARD):
            # cronsim answers in wall time; in a fall-back's repeated hour a fixed time may
            # map to its first occurrence, before t: step on.
            slot = int(next(found).timestamp())
            if slot > t:
                return slot
        raise AssertionError(f"cron {self.cron!r}: no slot after {t}")

    def latest_at_or_before(self, t: float) -> int | None:
        """The last slot at or before ``t`` (None: none in the last 5 years)."""
        if self.every is not None:
            return math.floor(t / self.every) * self.every
        assert self.cron is not None
        start = datetime.fromtimestamp(math.floor(t) + 1, self.tz)
        found = CronSim(self.cron, start, reverse=True)
        horizon = t - 5 * 366 * 86400
        for _ in range(_GUARD):
            try:
                slot = int(next(found).timestamp())
            except StopIteration:  # pragma: no cover - cronsim iterates for ever
                return None
            if slot < horizon:
                return None
            if slot <= t and self.next_after(slot) > t:
                return slot
            if slot <= t:
                # A DST quirk answered a slot with another one after it, still before t.
                return self._forward_to(slot, t)
        return None

    def _forward_to(self, slot: int, t: float) -> int:
        while True:
            following = self.next_after(slot)
            if following > t:
                return slot
            slot = following


def parse_rule(*, cron: str | None, every: str | None, calendar: str | None, timezone: str) -> Rule:
    """Exactly one of ``cron``/``every``/``calendar``, checked; usage errors name the field."""
    given = [(k, v) for k, v in (("cron", cron), ("every", every), ("calendar", calendar)) if v]
    if len(given) != 1:
        raise UsageError(
            "give exactly one of --cron, --every and --calendar",
            hint="e.g. --cron '0 2 * * *', --every 5m or --calendar 'daily 02:00'",
        )
    kind, text = given[0]
    zone(timezone)
    if kind == "every":
        try:
            seconds = parse_duration(text)
        except DurationError as exc:
            raise _field_error("--every", text, str(exc), exc.hint or "e.g. 2s, 5m, 1h") from None
        if seconds < 1 or seconds != int(seconds):
            raise _field_error(
                "--every", text, "must be a whole number of seconds, at least 1s", "e.g. 2s, 5m"
            )
        return Rule("every", text.strip(), timezone, every=int(seconds))
    expr = calendar_to_cron(text) if kind == "calendar" else " ".join(text.split())
    if len(expr.split()) != 5:
        raise _field_error(
            f"--{kind}",
            text,
            f"has {len(expr.split())} fields, not 5 (minute hour day-of-month month day-of-week)",
            "e.g. '*/5 * * * *' (every 5 minutes) or '0 2 * * 1-5' (02:00 on weekdays)",
        )
    try:
        CronSim(expr, datetime.now(UTC))
    except (CronSimError, ValueError, IndexError) as exc:
        raise _field_error(
            f"--{kind}", text, f"is not a cron expression ({exc})", "see `man 5 crontab`"
        ) from None
    rule = Rule(kind, text.strip(), timezone, cron=expr)
    try:
        rule.next_after(datetime.now(UTC).timestamp())
    except (AssertionError, StopIteration, OverflowError):
        raise _field_error(f"--{kind}", text, "never fires", "check the day and month") from None
    return rule


def rule_from_spec(spec: ScheduleSpec) -> Rule:
    """The rule a stored schedule spec (``Rule.as_spec`` + timezone) names."""
    rule = spec["rule"]
    kind, text = str(rule["kind"]), str(rule["text"])
    return parse_rule(
        cron=text if kind == "cron" else None,
        every=text if kind == "every" else None,
        calendar=text if kind == "calendar" else None,
        timezone=str(spec["timezone"]),
    )


def local(slot: float, timezone: str) -> str:
    """A slot as people read it, in the schedule's timezone."""
    at = datetime.fromtimestamp(slot, ZoneInfo(timezone))
    return at.isoformat(timespec="seconds")


__all__ = [
    "KINDS",
    "Rule",
    "RuleSpec",
    "ScheduleSpec",
    "calendar_to_cron",
    "local",
    "parse_rule",
    "rule_from_spec",
    "stored_spec",
    "zone",
]
