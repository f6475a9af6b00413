"""A document's change window -> the plan's ``windows:``, and each phase's stated change risk
-> its ``risk:`` (issue 13 §6).

Seed 003 says, under "### Change Window"::

    - **Weekdays (Mon-Thu)**: 09:00–16:00 ET only
    - **Weekends (Sat-Sun)**: Low-risk tasks only (monitoring, testing)
    - **Freeze**: No changes during standup (09:30–09:45 ET)

and each day "**Change Risk**: Medium (resource allocation changes)". One list item is one
rule: its days (``Mon-Thu``, ``weekdays``, ``weekends``, ``Sat, Sun``), its hours
(``09:00–16:00``), the risks it admits ("low-risk tasks only": none and low) and whether it
allows or denies ("freeze", "no changes", "blackout": deny). The timezone is the abbreviation
the section writes (``ET`` -> America/New_York); without one nothing is emitted, the section
is reported for review (a window in the wrong zone would be worse than none). Pure over the
parsed document and the draft.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from phasegate.markdown.draft import Draft
from phasegate.markdown.nodes import WindowRule, WindowsNode
from phasegate.markdown.parse import Document, Item, Paragraph, Section
from phasegate.plan.windows import Windows

_TITLE = re.compile(
    r"\b(?:change|maintenance|deploy(?:ment)?|release)\s+windows?\b|\bfreeze\s+windows?\b", re.I
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = (
    r"(?:mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?)\b\.?"
)
_RANGE = re.compile(rf"\b({_DAY})\s*(?:-|–|—|to|through|\.\.)\s*({_DAY})", re.I)
_LIST = re.compile(rf"\b{_DAY}", re.I)
_HOURS = re.compile(r"\b(\d{1,2}):(\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}):(\d{2})\b")
_DENY = re.compile(r"\b(?:freeze|frozen|no changes|blackout|forbidden|not allowed)\b", re.I)
_LOW = re.compile(r"\blow[\s-]risk\b", re.I)
_MEDIUM = re.compile(r"\bmedium[\s-]risk\b", re.I)
# Abbreviations people write after times -> an IANA zone (DST included: "ET" is EST or EDT).
ZONES = {
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "UTC": "UTC",
    "GMT": "UTC",
    "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin",
    "BST": "Europe/London",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
}
_ZONE = re.compile(r"\b(" + "|".join(ZONES) + r")\b")
_RISK = re.compile(r"^\s*(none|low|medium|high)\b", re.I)
_STRONG = re.compile(r"\*\*|__")


def apply(draft: Draft, doc: Document) -> None:
    """Set ``windows`` (plan keys) from the first change-window section and ``risk`` on every
    phase whose metadata states its change risk."""
    _phase_risks(draft)
    for section in doc.root.walk():
        if section.level and _TITLE.search(section.title):
            found = read_section(section)
            if found is None:
                draft.note(
                    "ambiguous",
                    line=section.line,
                    what="a change window without a timezone (ET, UTC, …): not imported; "
                    "write `windows:` by hand",
                )
                return
            windows, lines = found
            try:  # what the document wrote may still not be a window ("25:00-26:00")
                Windows.model_validate(windows)
            except ValidationError as exc:
                draft.note(
                    "ambiguous",
                    line=section.line,
                    what=f"a change window phasegate cannot read ({exc.errors()[0]['msg']}): "
                    "not imported; write `windows:` by hand",
                )
                return
            draft.plan_keys["windows"] = windows
            for line, rule in lines:
                draft.note("windows", line=line, rule=rule)
            return


def _phase_risks(draft: Draft) -> None:
    for phase in draft.phases:
        stated = phase.metadata.get("change_risk")
        found = _RISK.match(str(stated or ""))
        if found is not None:
            phase.extra["risk"] = found.group(1).lower()
            draft.note("windows", line=phase.line, rule=f"{phase.id}: risk {found.group(1)}")


def read_section(section: Section) -> tuple[WindowsNode, list[tuple[int, str]]] | None:
    """``windows:`` from the section's list items (or paragraphs), with the line of each rule;
    None when no timezone is written."""
    texts = [
        (b.line, _STRONG.sub("", b.text)) for b in section.blocks if isinstance(b, Item | Paragraph)
    ]
    zone = next((ZONES[m.group(1)] for _, t in texts if (m := _ZONE.search(t))), None)
    if zone is None:
        return None
    allow: list[WindowRule] = []
    deny: list[WindowRule] = []
    lines: list[tuple[int, str]] = []
    for line, text in texts:
        rule = rule_of(text)
        if rule is None:
            continue
        kind, body = rule
        (deny if kind == "deny" else allow).append(body)
        lines.append((line, f"{kind}: {text.strip()}"))
    if not allow and not deny:
        return None
    windows: WindowsNode = {"timezone": zone}
    if allow:
        windows["allow"] = allow
    if deny:
        windows["deny"] = deny
    return windows, lines


def rule_of(text: str) -> tuple[str, WindowRule] | None:
    """One line of a change-window section as (allow | deny, rule); None when it says no days,
    hours or risks."""
    body: WindowRule = {}
    days = days_of(text)
    if days:
        body["days"] = days
    hours = _HOURS.search(text)
    if hours is not None:
        start = f"{int(hours.group(1)):02d}:{hours.group(2)}"
        end = f"{int(hours.group(3)):02d}:{hours.group(4)}"
        if start != end:
            body["hours"] = f"{start}-{end}"
    denies = _DENY.search(text) is not None
    if not denies:
        if _LOW.search(text):
            body["risk"] = ["none", "low"]
        elif _MEDIUM.search(text):
            body["risk"] = ["none", "low", "medium"]
    if not body:
        return None
    label = text.split(":", 1)[0].strip() if ":" in text else ""
    reason = _reason(text) if denies else (label or None)
    if reason:
        body["reason"] = reason[:80]
    return ("deny" if denies else "allow"), body


def _reason(text: str) -> str:
    """``Freeze: No changes during standup (09:30–09:45 ET)`` -> ``standup``."""
    during = re.search(r"\bduring\s+(?:the\s+)?([A-Za-z][\w -]*?)(?:\s*\(|$|[.,;])", text)
    if during is not None:
        return during.group(1).strip()
    return text.split(":", 1)[0].strip() or "freeze"


def days_of(text: str) -> list[str]:
    lowered = text.lower()
    if re.search(r"\bweekdays?\b", lowered) and not _RANGE.search(text):
        return list(_DAYS[:5])
    if re.search(r"\bweekends?\b", lowered) and not _RANGE.search(text):
        return ["sat", "sun"]
    found = _RANGE.search(text)
    if found is not None:
        start, end = (
            _DAYS.index(found.group(1)[:3].lower()),
            _DAYS.index(found.group(2)[:3].lower()),
        )
        if start <= end:
            return list(_DAYS[start : end + 1])
        wrapped = set(_DAYS[start:]) | set(_DAYS[: end + 1])  # "Thu-Mon" crosses the week
        return [d for d in _DAYS if d in wrapped]
    named = [m.group(0)[:3].lower() for m in _LIST.finditer(text)]
    return [d for d in _DAYS if d in named]
