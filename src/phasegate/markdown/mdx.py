"""MDX documents are never executable as written (issue 11 §1, §12).

Documentation sites (Docusaurus, Timescale, Nextra) write pages in MDX: Markdown plus ES module
``import``/``export`` lines and JSX components (``<StepOne />``, ``<Tabs>``). A component
stands for content the page pulls in from elsewhere (a partial ``.mdx`` holding the very
commands of a step) or renders by itself (tabs offering alternatives). The importer reads the
Markdown around them, but the plan it makes is a fragment of what the reader sees: some steps
live in files the document only names. So an MDX page is imported (its commands, checks and
notes stay useful), every import and component is listed for review with its line, and the plan
is not claimed "executable as written" (provenance.verdict).

Only lines outside fences count: ``import x from 'y'`` inside a ``ts`` fence is code shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `import Foo from "./partial.mdx";`, `import { Tabs } from '@theme/Tabs'`, `export const meta = …`
_ESM = re.compile(
    r"^(?:import\s+(?:[\w*{][^'\"]*?\s+from\s+)?['\"][^'\"]+['\"]\s*;?"
    r"|export\s+(?:const|let|default|function|async\s+function)\b.*)$"
)
# a JSX component starts with a capital letter (HTML elements are lower-case): `<StepOne />`,
# `<Tabs groupId="os">`, `</TabItem>`
_JSX = re.compile(r"^\s{0,3}</?[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)*(?:\s[^>]*)?/?>")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Signal:
    line: int
    what: str
    why: str


def signals(text: str) -> list[Signal]:
    """The MDX lines of a document (1-based lines), outside fences and front matter."""
    found: list[Signal] = []
    fence: str | None = None
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":  # YAML front matter: not the page's content
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        start = end + 1 if end is not None else 0
    for index in range(start, len(lines)):
        line = lines[index]
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        stripped = line.strip()
        if _ESM.match(stripped):
            why = "an MDX module line: what it imports is not in this document"
            found.append(Signal(index + 1, stripped[:100], why))
        elif _JSX.match(line):
            why = "an MDX component: its content (a partial, tabs) is not in this document"
            found.append(Signal(index + 1, stripped[:100], why))
    # one component tag alone could be an odd HTML habit; an import or two tags is MDX
    if len(found) < 2 and not any(s.what.startswith(("import", "export")) for s in found):
        return []
    return found
