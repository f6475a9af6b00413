"""A document's budget guardrails -> the plan's ``budget:`` (issue 13 §6).

Seed 003's "Guardrails (Live During Rollout)" says::

    1. **Budget Overrun**: Auto-pause if projected >25% over budget (unless approved by PM)
    | Budget Runway (minutes) | <15 | <5 | Slack alert, PagerDuty (critical) |

- "pause if projected > N % over budget" -> ``pause_above: (100+N)%``;
- a thresholds table row naming the budget runway, with its warning and critical columns in
  minutes (or hours) -> ``runway: [15m, 5m]``; the metric triggers ``triggers.py`` made of
  that row (a ``budget_runway_minutes`` query nobody has) are dropped: the engine projects the
  runway itself;
- both read the run's duration budget, which such documents give per day ("**Duration**:
  2 hours"): ``duration`` is the sum of the phases' stated durations, reported for review.
  Without any, neither is emitted (a runway needs a budget), and the document's lines are
  reported as ambiguous.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from phasegate.markdown.draft import Draft
from phasegate.markdown.nodes import BudgetNode
from phasegate.markdown.parse import Document, Item, Paragraph, Table
from phasegate.plan.budget import Budget

_PAUSE = re.compile(
    r"\bpause\b[^.\n]*?\bprojected\b[^.\n]*?(?:>|over|above|exceeds?)\s*(\d+(?:\.\d+)?)\s*%"
    r"\s*(?:over|above)\s+(?:the\s+)?budget",
    re.I,
)
_RUNWAY = re.compile(r"\bbudget\s+runway\b", re.I)
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")
_UNIT = re.compile(r"\b(seconds?|secs?|minutes?|mins?|hours?|hrs?)\b", re.I)
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m)\b", re.I)
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def apply(draft: Draft, doc: Document) -> None:
    budget: BudgetNode = {}
    runway = _runway(draft, doc)
    pause = _pause_bound(doc)
    if runway is None and pause is None:
        return
    total = _duration(draft)
    where = runway[1] if runway is not None else pause[1] if pause is not None else 0
    if total is None:
        draft.note(
            "ambiguous",
            line=where,
            what="a budget runway or pause bound without a duration budget: add "
            "`budget: {duration: …}` and the runway by hand",
        )
        return
    budget["duration"] = _written(total)
    draft.note("guardrails", line=where, rule=f"duration {_written(total)}: the days' durations")
    if runway is not None:
        budget["runway"] = [_written(s) for s in runway[0]]
        draft.note("guardrails", line=runway[1], rule=f"runway {budget['runway']}")
    if pause is not None:
        budget["pause_above"] = f"{pause[0]:g}%"
        draft.note("guardrails", line=pause[1], rule=f"pause_above {budget['pause_above']}")
    try:  # a runway longer than the days' total, say: not a budget phasegate can watch
        Budget.model_validate(budget)
    except ValidationError as exc:
        draft.note(
            "ambiguous",
            line=where,
            what=f"budget guardrails phasegate cannot use ({exc.errors()[0]['msg']}): not "
            "imported; write `budget:` by hand",
        )
        return
    draft.plan_keys["budget"] = budget


def _pause_bound(doc: Document) -> tuple[float, int] | None:
    for section in doc.root.walk():
        for block in section.blocks:
            if isinstance(block, Item | Paragraph):
                found = _PAUSE.search(block.text.replace("**", ""))
                if found is not None:
                    return 100.0 + float(found.group(1)), block.line
    return None


def _runway(draft: Draft, doc: Document) -> tuple[list[float], int] | None:
    """The thresholds of a table row naming the budget runway (largest first), and its line."""
    for section in doc.root.walk():
        for block in section.blocks:
            if not isinstance(block, Table):
                continue
            for index, row in enumerate(block.rows):
                if not row or not _RUNWAY.search(row[0]):
                    continue
                unit = _UNIT.search(row[0])
                scale = _scale(unit.group(1) if unit else "minutes")
                values = [
                    float(m.group(1)) * scale for cell in row[1:3] if (m := _NUMBER.search(cell))
                ]
                if not values:
                    continue
                line = _row_line(block, index)
                _drop_triggers(draft, line)
                return sorted(set(values), reverse=True), line
    return None


def _row_line(table: Table, index: int) -> int:
    if table.row_lines and index < len(table.row_lines):
        return table.row_lines[index]
    return table.line + 2 + index  # header, separator, then the rows


def _drop_triggers(draft: Draft, line: int) -> None:
    """The metric triggers the thresholds table made of the runway row: the engine projects
    the runway itself (docs/budgets.md), so a query for it is not needed."""
    kept = [t for t in draft.triggers if t.line != line]
    for dropped in draft.triggers:
        if dropped.line == line:
            draft.note(
                "guardrails", line=line, rule=f"trigger {dropped.data.get('name')} -> runway"
            )
    draft.triggers[:] = kept
    for key in ("needs_binding", "triggers"):
        draft.report[key] = [e for e in draft.report.get(key, []) if e.get("line") != line]


def _scale(unit: str) -> float:
    return float(_SECONDS.get(unit[0].lower(), 60))


def _duration(draft: Draft) -> float | None:
    """The sum of the phases' stated durations ("2 hours", "1.5 hours", "90 minutes")."""
    total = 0.0
    found = False
    # The days of a runbook state their change risk; a template's "Duration: 15 minutes"
    # (the daily stand-up's) is not rollout work. Without risks, every stated duration counts.
    days = [p for p in draft.phases if "change_risk" in p.metadata] or draft.phases
    for phase in days:
        span = _SPAN.search(str(phase.metadata.get("duration") or ""))
        if span is not None:
            total += float(span.group(1)) * _SECONDS[span.group(2)[0].lower()]
            found = True
    return total if found and total > 0 else None


def _written(seconds: float) -> str:
    """``59400`` -> ``16h30m``; ``900`` -> ``15m``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"
