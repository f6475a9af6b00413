"""Timed checkpoints (issue 11 §7, §9): "Hour 1: system health", "T+24h: go-live approval",
"After 4 hours: stability" are checks a person makes at that time after the phase began, not
all at once when the phase ends. Each becomes, in the document's order, a wait to its offset
(a run holds a wait up to ``traffic.MAX_SLEEP``; a longer one is a person's "the time has
come", named with the wait) and then the manual check itself (an approval step)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phasegate.markdown.traffic import MAX_SLEEP

if TYPE_CHECKING:
    from phasegate.markdown.draft import PhaseDraft
    from phasegate.markdown.nodes import StepNode

_UNIT = r"(m|mins?|minutes?|h|hrs?|hours?|d|days?)"
_PATTERNS = (
    # "Hour 4", "Hour 4:", "at hour 12", "Stunde 2" is left alone: English forms only
    re.compile(r"^[\W_]*(?:at\s+)?(?:hour|hr)\s*(\d+(?:\.\d+)?)(?=\s*[:)\-–—|,]|\s*$)", re.I),
    # "T+24h", "T + 30 min", "at T+4h:"
    re.compile(rf"^[\W_]*(?:at\s+)?T\s*\+\s*(\d+(?:\.\d+)?)\s*{_UNIT}\b", re.I),
    # "After 1 hour:", "after 30 minutes –"
    re.compile(rf"^[\W_]*after\s+(\d+(?:\.\d+)?)\s*{_UNIT}\b(?=\s*[:)\-–—,]|\s*$)", re.I),
)


def offset(text: str) -> float | None:
    """Seconds after the phase began that a checkpoint's text names, else None."""
    for index, pattern in enumerate(_PATTERNS):
        found = pattern.match(text.strip())
        if found is None:
            continue
        amount = float(found.group(1))
        unit = "h" if index == 0 else found.group(2).lower()
        return amount * _scale(unit)
    return None


def _scale(unit: str) -> float:
    if unit.startswith("m"):
        return 60.0
    if unit.startswith("d"):
        return 86400.0
    return 3600.0


def _say(seconds: float) -> str:
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min"


def steps(phase: PhaseDraft, text: str, at: float) -> list[StepNode]:
    """The wait to ``at`` (from the phase's previous checkpoint) and the check, as steps."""
    wait = max(at - phase.checkpoint_at, 0.0)
    phase.checkpoint_at = max(at, phase.checkpoint_at)
    check: StepNode = {"name": f"Check by hand, then approve: {text}", "pause": "approve"}
    if wait == 0:
        return [check]
    if wait <= MAX_SLEEP:
        hold: StepNode = {
            "name": f"Wait {_say(wait)}: the checkpoint at {_say(at)}",
            "pause": f"{wait:g}s",
        }
        return [hold, check]
    # the person who checks says when the time has come
    check["name"] = (
        f"At {_say(at)} ({_say(wait)} after the previous checkpoint; a run does not sleep that "
        f"long), check by hand, then approve: {text}"
    )
    return [check]
