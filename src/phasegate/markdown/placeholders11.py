"""Placeholder forms blind round 11 showed missing (issue 11 §3), appended to placeholders.py's
patterns: a Go template field (``{{ .Version }}`` in an issue or release template; not inside a
``--format`` / ``--template`` argument, where ``{{.Tag}}`` is the tool's own template), a date
written in another language's letters (``ГГГГ-ММ-ДД-ЧЧММ``, ``JJJJ-MM-TT``, ``AAAA-MM-JJ``,
``RRRR-MM-DD``), and words in another script between angle brackets (``<新リビジョン>``,
``<节点名>``, ``<имя_узла>``)."""

from __future__ import annotations

import re
import zlib

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("go-field", re.compile(r"\{\{-?\s*\.([A-Z][A-Za-z0-9_]{0,40})\s*-?\}\}")),
    (
        "date-intl",
        re.compile(
            r"(?<![^\W\d_])((?:ГГГГ|РРРР|JJJJ|AAAA|RRRR|ÅÅÅÅ|ЖЖЖЖ)[-_.]?(?:ММ|MM|AA)[-_.]?"
            r"(?:ДД|DD|TT|JJ|GG|ДД)(?:[-_.]?(?:ЧЧ|HH|hh|UU|TT|GG)(?:[-_.]?(?:ММ|мм|MM|mm))?)?)"
            r"(?![^\W\d_])"
        ),
    ),
    ("angle-intl", re.compile(r"(?<![<\w])<((?:(?![\x00-\x7f])[^\W\d_])[\w.: -]{0,40})>(?!>)")),
]
# `--format '{{.Repository}}:{{.Tag}}'`, `-f '{{.State.Running}}'`, `-o go-template=…`: the
# tool's own template, filled by the tool
_FORMAT_ARG = re.compile(
    r"(?:--format|--template|--pretty|--filter|-f|-o|--output|go-template)[=\s]+['\"]?[^'\"\n]*$"
)


def skip(kind: str, command: str, start: int) -> bool:
    """A match of ``kind`` at ``start`` that is no placeholder."""
    if kind != "go-field":
        return False
    line_start = command.rfind("\n", 0, start) + 1
    return bool(_FORMAT_ARG.search(command[line_start:start]))


def name(kind: str, text: str) -> str | None:
    """The variable a placeholder of these kinds becomes (None: not one of them)."""
    if kind == "go-field":
        inner = text.strip("{}- .")
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", inner).upper()
    if kind in ("date-intl", "angle-intl"):
        prefix = "DATE" if kind == "date-intl" else "PLACEHOLDER"
        return f"{prefix}_{zlib.crc32(text.encode()):08X}"
    return None
