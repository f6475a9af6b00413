"""Post-rollout monitoring a document describes -> the plan's ``monitor:`` (issue 13 §3/§6).

Seed 001's "24-Hour Monitoring Plan" is a script that loops for 24 hours, checking health
"every 5 minutes for first hour, then hourly". The mapper made it a *phase* monitor (a command
ended with its phase), which would cut the 24 hours short at the phase's end. What the author
meant is monitoring after the rollout succeeded: the schedule sentence becomes
``monitor: {schedule: [{every: 5m, for: 1h}, {every: 1h, for: 23h}]}`` (a segment's ``for``
is its own length, docs/monitoring.md: 1 h + 23 h are the document's 24 hours), its check the health
function the loop calls (with the definition the document gave it), ``on_failure: alert`` (the
document only logs; a person decides), and the phase monitor is dropped.

"""

from __future__ import annotations

import re

from phasegate.markdown import carry
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.nodes import CheckNode, MonitorNode, MonitorPlan, MonitorSegment

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_FIRST = re.compile(
    r"every\s+(\d+)\s*(seconds?|secs?|minutes?|mins?|hours?)\s+for\s+(?:the\s+)?first\s+"
    r"(?:(\d+)\s*)?(seconds?|minutes?|hours?|hour|day)",
    re.I,
)
_THEN = re.compile(
    r"then\s+(?:(hourly|daily)|every\s+(\d+)\s*(seconds?|minutes?|mins?|hours?))", re.I
)
_TOTAL = re.compile(
    r"(?:duration:\s*|for\s+|monitor(?:ing)?\s+for\s+)(\d+)\s*(hours?|days?)\b|"
    r"\b(\d+)[\s-](hour|day)\s+monitoring\b",
    re.I,
)
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:>>|>|$)", re.M)


def apply(draft: Draft) -> None:
    for phase in draft.phases:
        for entry in list(phase.monitors):
            found = schedule_of(str(entry.data.get("run") or ""))
            if found is None:
                continue
            block: MonitorPlan = {"schedule": found}
            check = _health_check(draft, phase, entry)
            if check is not None:
                block["checks"] = [check]
            block["on_failure"] = "alert"
            phase.monitors.remove(entry)
            draft.note("monitoring", line=entry.line, rule=f"monitor schedule {found}")
            draft.plan_keys["monitor"] = block
            draft.plan_keys["_monitor_line"] = entry.line
            return


def schedule_of(text: str) -> list[MonitorSegment] | None:
    """``every 5 minutes for first hour, then hourly`` (+ a total of 24 hours) -> the
    piecewise schedule; None when the text says no such thing."""
    first = _FIRST.search(text)
    then = _THEN.search(text)
    if first is None or then is None:
        return None
    every = int(first.group(1)) * _unit(first.group(2))
    span = int(first.group(3) or 1) * _unit(first.group(4))
    if then.group(1):
        later = 3600 if then.group(1).lower() == "hourly" else 86400
    else:
        later = int(then.group(2)) * _unit(then.group(3))
    schedule: list[MonitorSegment] = [{"every": _written(every), "for": _written(span)}]
    # Each segment's `for` is its own length (docs/monitoring.md): "then every 10 minutes for
    # 6 hours" says the second segment's; a total ("Duration: 24 hours", "24-hour
    # monitoring") leaves the rest of it to the second; neither: the first span's 24-fold.
    own = _TOTAL.match(text, then.end()) or _TOTAL.match(text, then.end() + 1)
    total = _total(text)
    if own is not None and own.group(1):
        rest = float(int(own.group(1)) * _unit(own.group(2)))
    elif total:
        rest = max(total - span, later)
    else:
        rest = span * 24
    schedule.append({"every": _written(later), "for": _written(rest)})
    return schedule


def _total(text: str) -> float | None:
    found = _TOTAL.search(text)
    if found is None:
        seconds = re.search(r"monitoring_duration=(\d+)", text)
        return float(seconds.group(1)) if seconds else None
    number = found.group(1) or found.group(3)
    unit = found.group(2) or found.group(4)
    return int(number) * _unit(unit)


def _health_check(draft: Draft, phase: PhaseDraft, entry: Entry[MonitorNode]) -> CheckNode | None:
    """The command the loop checks health with (a function defined earlier in the document,
    carried with its definition), as a command check."""
    text = str(entry.data.get("run") or "")
    loop = text[text.find("while") :] if "while" in text else text
    for match in _CALL.finditer(loop):
        name = match.group(1)
        if name in draft.definitions:
            command, _ = carry.carry(draft, name, entry.line)
            return {"name": name.replace("_", " "), "command": command}
    return None


def _unit(word: str) -> int:
    return _UNITS.get(word[0].lower(), 60)


def _written(seconds: float) -> str:
    whole = int(seconds)
    units = (
        (("d", 86400), ("h", 3600), ("m", 60)) if whole > 2 * 86400 else (("h", 3600), ("m", 60))
    )
    for unit, size in units:
        if whole % size == 0 and whole >= size:
            return f"{whole // size}{unit}"
    return f"{whole}s"
