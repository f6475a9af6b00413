"""What an imported plan will do, item by item, with the Markdown line and the rule behind each:
the data the review before a first run shows (issue 11 §13)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NotRequired, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from phasegate.markdown.draft import PhaseDraft
    from phasegate.markdown.entries import ReportEntry
    from phasegate.markdown.nodes import ItemNode

_CHECK_KINDS = ("command", "http", "tcp", "file", "sql", "metric", "expr", "manual")
# Which report lists can have made an entry of each part of a phase.
_SOURCES = {
    "step": ("steps", "manual", "traffic"),
    "gate": ("checks",),
    "rollback": ("rollback",),
    "monitor": ("monitors",),
}


class PhaseItem(TypedDict):
    """One item of an imported phase as the review shows it (``phase_items``)."""

    role: str  # monitor | step | gate | rollback
    line: int
    what: str
    runs: bool
    rule: str
    confidence: str
    when: NotRequired[str]


class Recorded:
    """The report entries that can have made a plan item, by (list, line): built once, so
    matching every item of a large document stays linear."""

    def __init__(
        self,
        lists: Mapping[str, list[ReportEntry]],
        fallback: Callable[[str, int, ItemNode], ReportEntry] | None = None,
    ) -> None:
        self.fallback = fallback  # names an item no report entry recorded (from its data)
        self.by_line: dict[tuple[str, int], list[ReportEntry]] = {}
        for kinds in _SOURCES.values():
            for kind in kinds:
                for entry in lists.get(kind) or []:
                    if isinstance(entry, dict) and "rule" in entry and "line" in entry:
                        self.by_line.setdefault((kind, entry["line"]), []).append(entry)
        self.ramps: dict[str, ReportEntry] = {
            str(r.get("phase")): r for r in lists.get("traffic") or [] if r.get("applied")
        }

    def take(self, role: str, line: int, data: ItemNode, phase: str) -> ReportEntry:
        if "set_weight" in data and phase in self.ramps:  # a ramp row: the ramp names the rule
            return self.ramps[phase]
        for kind in _SOURCES[role]:
            waiting = self.by_line.get((kind, line))
            if waiting:
                return waiting.pop(0)
        return self.fallback(role, line, data) if self.fallback else {}


def phase_items(phase: PhaseDraft, recorded: Recorded) -> list[PhaseItem]:
    """The phase's steps, gates and rollback actions in plan order, each with its line, what it
    does, and the rule and confidence of the report entry that recorded it."""
    items: list[PhaseItem] = []
    parts = (
        ("monitor", phase.monitors),  # beside the phase from its start (markdown/monitors.py)
        ("step", phase.steps),
        ("gate", phase.gates),
        ("rollback", phase.rollback),
    )
    for role, entries in parts:
        for entry in entries:
            found = recorded.take(role, entry.line, entry.data, phase.id)
            item: PhaseItem = {
                "role": role,
                "line": entry.line,
                "what": describe(entry.data),
                "runs": runs(entry.data),
                "rule": found.get("rule", "unrecorded"),
                "confidence": found.get("confidence", "medium"),
            }
            when = entry.data.get("when")
            if isinstance(when, str):
                item["when"] = when
            items.append(item)
    return items


def runs(data: ItemNode) -> bool:
    """Whether the item executes something (a command, a probe, a traffic change) rather than
    waiting for a person."""
    if "pause" in data or "manual" in data:
        return False
    return any(k in data for k in ("run", "set_weight", *_CHECK_KINDS))


def describe(data: ItemNode) -> str:
    """One line saying what the item does: the command, the check, the pause."""
    name = str(data.get("name") or "")
    if "run" in data:
        return _with_name(name, _command(data.get("run")))
    if "pause" in data:
        return f"pause for a person: {name}" if name else "pause for a person"
    if "set_weight" in data:
        return _with_name(name, f"traffic weight {_short(data.get('set_weight'))}")
    for kind in _CHECK_KINDS:
        if kind in data:
            value = data.get(kind)
            text = _command(value) if isinstance(value, str) else _short(value)
            expect = f" expecting {_short(data.get('expect'))}" if data.get("expect") else ""
            return _with_name(name, f"{kind}: {text}{expect}")
    return name or _short(data)


def _with_name(name: str, what: str) -> str:
    if not name or name.strip("`") in what:
        return what
    return f"{name}: {what}"


def _command(text: object) -> str:
    if not isinstance(text, str):
        return _short(text)
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    # the first command, not the comment above it ("# Only if safe: drop the schema")
    first = next((ln.strip() for ln in lines if not ln.lstrip().startswith("#")), lines[0])
    more = f"  (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
    return (first if len(first) <= 100 else first[:99] + "…") + more


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 100 else text[:99] + "…"
