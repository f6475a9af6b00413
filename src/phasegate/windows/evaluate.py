"""Open or closed, and when that changes: pure functions of the rules and a given instant.

No clock is read here: the caller passes the instant (the engine its injected clock, the CLI
``--at`` or now), so every answer is reproducible in tests. ``next_open`` and ``next_close``
do not scan minutes: an evaluation is a function of the local wall-clock minute, so it can
only change at a rule's hours edge or a local midnight (each converted to UTC, both folds of
an ambiguous time) or at one of the zone's offset transitions (a DST change, where the local
clock jumps). Between two consecutive such instants the answer is constant, so the first open
instant at or after ``at`` is ``at`` itself or one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from phasegate.plan.windows import Risk, WindowRule, Windows
from phasegate.windows.compiled import CompiledRule, CompiledWindows, compile_windows

HORIZON = timedelta(days=400)
UNDECLARED_RISK: Risk = "high"  # safety first: an undeclared phase is not low-risk
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether changes of ``risk`` may happen at ``at``, and the rule that decided."""

    open: bool
    at: datetime
    risk: Risk
    rule: str | None  # "deny[0]", "allow[1]", or None when no rule decided
    reason: str | None  # the deciding rule's `reason`
    why: str

    def as_dict(self) -> dict[str, object]:
        return {
            "open": self.open,
            "at": self.at.isoformat(),
            "risk": self.risk,
            "rule": self.rule,
            "reason": self.reason,
            "why": self.why,
        }


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a window is evaluated at an aware instant (with a UTC offset)")
    return at


def _label(rule: CompiledRule) -> str:
    return rule.name + (f" ({rule.rule.reason})" if rule.rule.reason else "")


def is_open(windows: Windows | CompiledWindows, at: datetime, risk: Risk | None) -> Verdict:
    """Deny wins; then open when there are no allow rules or one matches."""
    c = compile_windows(windows)
    risk = risk or UNDECLARED_RISK
    local = _aware(at).astimezone(c.tz)
    for rule in c.deny:
        if rule.matches(local, risk):
            return Verdict(False, at, risk, rule.name, rule.rule.reason, f"{_label(rule)} denies")
    if not c.allow:
        return Verdict(True, at, risk, None, None, "no deny rule matches; no allow rules")
    for rule in c.allow:
        if rule.matches(local, risk):
            return Verdict(True, at, risk, rule.name, rule.rule.reason, f"{_label(rule)} allows")
    return Verdict(False, at, risk, None, None, f"no allow rule matches a {risk}-risk change")


def _transition(c: CompiledWindows, a: datetime, b: datetime) -> datetime:
    """The instant in (a, b] where the zone's offset becomes b's (bisected to the second)."""
    lo, hi = int(a.timestamp()), int(b.timestamp())
    target = b.astimezone(c.tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, c.tz).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _boundaries(c: CompiledWindows, first: date, days: int) -> list[datetime]:
    """Every instant in local days [first, first+days) where an evaluation may change."""
    out: set[datetime] = set()
    for n in range(days):
        day = first + timedelta(days=n)
        for minute in c.edges:
            naive = datetime.combine(day, time(minute // 60, minute % 60))
            out.add(naive.replace(tzinfo=c.tz, fold=0).astimezone(UTC))
            out.add(naive.replace(tzinfo=c.tz, fold=1).astimezone(UTC))
        start = datetime.combine(day, time()).replace(tzinfo=c.tz).astimezone(UTC)
        end = datetime.combine(day + _DAY, time()).replace(tzinfo=c.tz).astimezone(UTC)
        if start.astimezone(c.tz).utcoffset() != end.astimezone(c.tz).utcoffset():
            out.add(_transition(c, start, end))
    return sorted(out)


def _candidates(c: CompiledWindows, at: datetime) -> Iterator[datetime]:
    """``at``, then the boundaries after it in order, up to ``at`` + HORIZON. A week is
    generated first (the usual answer), then the whole horizon. Within a batch, only the
    boundaries before ``bound`` are sure to be complete: a later local day's boundaries are
    at least its midnight less the largest UTC offset (14 h), so never before ``bound``."""
    yield at
    first = at.astimezone(c.tz).date() - _DAY  # a range past midnight started the day before
    last = at
    final = HORIZON.days + 4
    for span in (8, final):
        bound = datetime.combine(first + timedelta(days=span), time(), UTC) - _DAY
        for t in _boundaries(c, first, span):
            if t <= last:
                continue
            if t > at + HORIZON:
                return
            if span != final and t >= bound:
                break
            last = t
            yield t


def _first(c: CompiledWindows, at: datetime, risk: Risk | None, want: bool) -> datetime | None:
    for t in _candidates(c, at):
        if is_open(c, t, risk).open is want:
            return t
    return None


def next_open(
    windows: Windows | CompiledWindows, at: datetime, risk: Risk | None
) -> datetime | None:
    """The first instant ≥ ``at`` at which a ``risk`` change may happen, or None within
    400 days."""
    return _first(compile_windows(windows), _aware(at), risk, want=True)


def next_close(
    windows: Windows | CompiledWindows, at: datetime, risk: Risk | None
) -> datetime | None:
    """The first instant ≥ ``at`` at which a ``risk`` change may not happen, or None within
    400 days."""
    return _first(compile_windows(windows), _aware(at), risk, want=False)


def rule_of(windows: Windows, name: str) -> WindowRule:
    """The rule a verdict names (``"deny[0]"``)."""
    kind, _, index = name.partition("[")
    rules = windows.deny if kind == "deny" else windows.allow
    return rules[int(index.rstrip("]"))]
