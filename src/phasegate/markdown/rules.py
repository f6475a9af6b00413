"""What headings and lead-in text mean: phase, rollback, verification, checklist, metadata."""

from __future__ import annotations

import re

_LEAD = r"^[\W_]*"  # emoji, **, numbering punctuation before the word
PHASE = re.compile(
    _LEAD + r"(?:phase|stage|step|day|week|wave|task|milestone|sprint|round|part|阶段|第)"
    r"\s*[-#:]?\s*(?:\d+|[ivx]+\b|[a-h]\b|zero|one|two|three|four|five)",
    re.I,
)
NUMBERED = re.compile(r"^[\W_]*\d{1,2}(?:\.\d{1,2})*[.):]\s+\S")
ROLLBACK = re.compile(r"roll[\s-]?back|revert|restor|back[\s-]?out|abort|回滚|回退|undo", re.I)
VERIFY = re.compile(
    r"verif|\bcheck|validat|smoke|health|\btests?\b|testing|confirm|post[\s-]?deploy|验证|检查",
    re.I,
)
CHECKLIST = re.compile(
    r"success criteria|acceptance|check[\s-]?list|definition of done|exit criteria|"
    r"go/no[\s-]?go|readiness|sign[\s-]?off|pre[\s-]?flight|验收|检查清单",
    re.I,
)
TRIGGER = re.compile(r"trigger|criteria|condition|threshold|when to|decision|触发", re.I)
ROLLBACK_TIME = re.compile(
    r"roll[\s-]?back (?:time|duration|budget|sla|window|guarantee)|time to roll[\s-]?back|"
    r"recovery time|\brto\b",
    re.I,
)
METADATA = re.compile(r"^\s*\*\*([^*\n]{1,40}?):?\*\*:?\s*(.+?)\s*$")
ARROW_CHAIN = re.compile(r"[A-Za-z0-9][\w.-]*(?:\s*(?:->|→|=>)\s*[A-Za-z0-9][\w.-]*)+")
ARROW = re.compile(r"\s*(?:->|→|=>)\s*")


def is_phase_title(title: str) -> bool:
    return bool(PHASE.search(title) or NUMBERED.match(title))


def is_rollback_title(title: str) -> bool:
    return bool(ROLLBACK.search(title))


def is_trigger_text(text: str) -> bool:
    return bool(TRIGGER.search(text))


def is_verify_text(text: str) -> bool:
    return bool(VERIFY.search(text))


def is_checklist_text(text: str) -> bool:
    return bool(CHECKLIST.search(text))


def last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def metadata_lines(text: str) -> list[tuple[str, str]]:
    """``**Target:** 2026-01-16`` lines of a paragraph as (key, value)."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = METADATA.match(line)
        if match and match.group(2).strip():
            found.append((match.group(1).strip().rstrip(":"), match.group(2).strip()))
    return found


def dependency_chains(text: str) -> list[list[str]]:
    return [ARROW.split(m.group(0)) for m in ARROW_CHAIN.finditer(text)]


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
