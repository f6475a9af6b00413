"""Tables that name the action per row, and pseudo-code conditions (issue 11 §6):
``| Condition | Action |`` or ``| Metric | Threshold | Action |`` with "Roll back" on one row
and "Page on-call" on the next; ``if error_rate > 5%:`` in a fence under a trigger heading.

A row becomes a trigger only when one of its cells states a comparison and its action cell
names what to do; the action is the row's, no stronger than the table's context allows
("monitor and decide" lists alert at most). Polarity is checked as for lists (polarity.py).
"""

from __future__ import annotations

import re

from phasegate.markdown import polarity, thresholds, triggers

_ACTION_COL = re.compile(
    r"\baction|response|what to do|\bthen\b|outcome|reaction|to take|handling|\bresult", re.I
)
_ROLLBACK = re.compile(r"roll[\s-]?back|revert|\babort|restore previous", re.I)
_PAUSE = re.compile(r"\bhalt|\bstop|\bpause|\bfreeze|\bhold\b", re.I)
_ALERT = re.compile(r"\balert|\bpage|\bnotify|\bwarn|escalat|investigat|monitor|\bpost\b", re.I)
_SKIP_COL = re.compile(r"target|goal|expected|normal|baseline|healthy|owner|who|notes?", re.I)


def row_action(cell: str) -> str | None:
    """The action a cell names: rollback | pause | alert, None when it names none. A person's
    judgement ("consider rollback", "decide") only alerts."""
    text = thresholds.plain(cell)
    if not text:
        return None
    if polarity.human_decides(text) or re.search(r"\bconsider|\bmay\b|\bmight\b", text, re.I):
        return "alert"
    if _ROLLBACK.search(text):
        return "rollback"
    if _PAUSE.search(text):
        return "pause"
    if _ALERT.search(text):
        return "alert"
    return None


def table(
    maker: triggers.TriggerMaker,
    header: list[str],
    rows: list[list[str]],
    line: int,
    context: str,
) -> bool:
    """Triggers from a table with an action column; True when any row became one."""
    columns = triggers.threshold_columns(header)
    if columns is not None and len(columns[1]) > 1:
        return False  # "Warning | Critical" columns: each column's own action (triggers.py)
    column = next(
        (i for i, h in enumerate(header) if _ACTION_COL.search(thresholds.plain(h))), None
    )
    if column is None:
        return False
    skip = {i for i, h in enumerate(header) if _SKIP_COL.search(thresholds.plain(h))}
    made = 0
    for offset, row in enumerate(rows):
        action = row_action(row[column]) if column < len(row) else None
        if action is None:
            continue
        label = next(
            (thresholds.plain(c) for i, c in enumerate(row) if i != column and i not in skip),
            "",
        )
        for i, cell in enumerate(row):
            if i == column or i in skip:
                continue
            found = thresholds.parse(cell)
            if found is None:
                continue
            condition = cell if found.metric else f"{label} {thresholds.plain(cell)}"
            maker.from_text(condition, line + 2 + offset, triggers.limited(action, context))
            made += 1
            break
    return made > 0


# "if error_rate > 5% or latency_p99 > 2000ms:" in a fence under "Auto-Rollback Triggers":
# pseudo-code stating the conditions (never run: shellparse reads it as text).
_PSEUDO_IF = re.compile(r"^\s*(?:if|when|elif)\s+(?P<cond>.+?)\s*(?::|\bthen\b|→|->)\s*$", re.I)
_SHELL_TEST = re.compile(r"\[|\$\(|\s-(?:gt|lt|ge|le|eq|ne)\s")
_JOIN = re.compile(r"\s+(?:or|and|\|\||&&)\s+", re.I)


def fence(maker: triggers.TriggerMaker, text: str, line: int, context: str) -> bool:
    """Triggers from the ``if …:`` lines of a fence under a failure heading; the action is
    what the lines below say (``trigger_automatic_rollback()``, ``notify_…``) or the
    context's."""
    if not polarity.failure_context(context):
        return False
    lines = text.splitlines()
    made = 0
    for offset, raw in enumerate(lines):
        match = _PSEUDO_IF.match(raw)
        if match is None or _SHELL_TEST.search(match.group("cond")):
            continue
        body = " ".join(lines[offset + 1 : offset + 4]).replace("_", " ")
        action = row_action(body) or triggers.action_for(context, True) or "alert"
        for part in _JOIN.split(match.group("cond")):
            if thresholds.parse(part.replace("_", " ")) is not None:
                condition = part.replace("_", " ")
                maker.from_text(condition, line + 1 + offset, triggers.limited(action, context))
                made += 1
    return made > 0
