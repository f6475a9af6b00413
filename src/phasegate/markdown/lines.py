"""Markdown lines for positions in an imported plan's YAML.

The importer writes a ``# DOC.md:42`` comment above every phase, step, check and rollback
action it emits. A message about the plan that a user reads while looking at the document
(``phasegate validate DOC.md``) must cite the document's line, not the line of YAML nobody
sees: each YAML line takes the line of the nearest such comment above it at the same or a
shallower indentation (the entry it belongs to). Lines before any comment (the plan's name,
its variables) have no Markdown line.
"""

from __future__ import annotations

import re


def markdown_lines(yaml_text: str, source: str) -> dict[int, int]:
    """1-based YAML line -> 1-based Markdown line, for the lines an entry comment covers."""
    comment = re.compile(rf"^(\s*)# {re.escape(source)}:(\d+)\s*$")
    open_entries: list[tuple[int, int]] = []  # (indent, markdown line), innermost last
    out: dict[int, int] = {}
    in_block: int | None = None  # indentation of a block scalar's key (`run: |`)
    for number, text in enumerate(yaml_text.splitlines(), 1):
        stripped = text.lstrip(" ")
        indent = len(text) - len(stripped)
        if in_block is not None and (not stripped or indent > in_block):
            if open_entries:
                out[number] = open_entries[-1][1]
            continue  # a script's own `# comment` lines are content, not entry comments
        in_block = None
        found = comment.match(text)
        if found:
            while open_entries and open_entries[-1][0] >= indent:
                open_entries.pop()
            open_entries.append((indent, int(found.group(2))))
            out[number] = int(found.group(2))
            continue
        if not stripped:
            continue
        while open_entries and open_entries[-1][0] > indent:
            open_entries.pop()
        if open_entries:
            out[number] = open_entries[-1][1]
        if re.search(r":\s*[|>][-+0-9]*\s*$", stripped):
            in_block = indent + (2 if stripped.startswith("- ") else 0)
    return out
