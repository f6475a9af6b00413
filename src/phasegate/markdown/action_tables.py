"""Tables that name the action per row (issue 11 §6): ``| Condition | Action |`` or ``| Metric
| Threshold | Action |`` with "Roll back" on one row and "Page on-call" on the next.

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
