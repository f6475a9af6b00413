"""Tabs are alternatives (blind round 8, issue 11 §1).

Documentation sites render ``<Tabs>`` with one ``<TabItem label="Linux">`` per platform or
tool (Docusaurus, MDX). A reader follows ONE tab: the Linux and the macOS command are the
same step for two machines, never both. After the mapping, the steps a group's tabs hold
become options of a decision asked where the group starts (``when:`` bound to it), as
"Option A / Option B" headings do; a group with one tab, or whose steps already carry a
condition, is left alone.

MkDocs Material writes content tabs as ``=== "macOS"`` over a body indented by four spaces.
Markdown reads that body as an indented code block, so nothing in it ran (safe, not faithful):
:func:`unindent` gives the parser the bodies at the margin, line for line, and the groups are
alternatives like MDX tabs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown import decisions
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.nodes import StepNode
from phasegate.markdown.parse import Section

# MDX / Docusaurus `<Tabs>` `<TabItem label="…">`, Mintlify `<Tab title="…">`; GitBook
# `{% tabs %}` `{% tab title="GKE" %}` … `{% endtab %}` `{% endtabs %}` and Hugo shortcodes
# `{{< tabs >}}` `{{< tab "GKE" >}}` … `{{< /tabs >}}` (blind round 11): the same groups
_OPEN_GROUP = re.compile(
    r"^\s{0,3}(?:<Tabs\b[^>]*>|\{%-?\s*tabs\b[^%]*%\}|\{\{[<%]\s*tabs\b[^}]*[>%]\}\})"
)
_CLOSE_GROUP = re.compile(
    r"^\s{0,3}(?:</Tabs\s*>|\{%-?\s*endtabs\s*-?%\}|\{\{[<%]\s*/tabs\s*[>%]\}\})"
)
_OPEN_TAB = re.compile(
    r"^\s*(?:<(?:TabItem|Tab)\b([^>]*)>|\{%-?\s*tab\b([^%]*)%\}|\{\{[<%]\s*tab\b([^}]*)[>%]\}\})"
)
_ATTR = re.compile(
    r"""\b(label|value|title|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{['"]([^'"]*)['"]\})"""
)
_POSITIONAL = re.compile(r"""^\s*["']([^"']+)["']""")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_MKDOCS_TAB = re.compile(r"""^( {0,12})===[!+]{0,2}\s+["']([^"'\n]*)["']\s*$""")


@dataclass(frozen=True)
class _Tab:
    title: str
    line: int  # where the tab opens
    end: int  # the last line it holds


def groups(text: str) -> list[list[_Tab]]:
    """Every tab group of the document (1-based lines), each a list of its tabs."""
    found: list[list[_Tab]] = []
    lines = text.splitlines()
    fence: str | None = None
    group: list[_Tab] | None = None
    open_tab: tuple[str, int] | None = None
    for index, line in enumerate(lines, 1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened and not line.startswith("    "):
            fence = opened.group(1)
            continue
        if _OPEN_GROUP.match(line):
            group, open_tab = [], None
            continue
        if group is not None and (tab := _OPEN_TAB.match(line)):
            if open_tab is not None:
                group.append(_Tab(open_tab[0], open_tab[1], index - 1))
            inside = tab.group(1) or tab.group(2) or tab.group(3) or ""
            attrs = {
                m.group(1): m.group(2) or m.group(3) or m.group(4) for m in _ATTR.finditer(inside)
            }
            if (positional := _POSITIONAL.match(inside)) is not None:  # `{{< tab "GKE" >}}`
                attrs.setdefault("label", positional.group(1))
            title = attrs.get("label") or attrs.get("title") or attrs.get("value")
            open_tab = (title or attrs.get("name") or f"tab {len(group) + 1}", index)
            continue
        if group is not None and _CLOSE_GROUP.match(line):
            if open_tab is not None:
                group.append(_Tab(open_tab[0], open_tab[1], index - 1))
            if len(group) >= 2:
                found.append(group)
            group, open_tab = None, None
            continue
    return found


def mkdocs_groups(text: str) -> list[list[_Tab]]:
    """Every MkDocs content-tab group (``=== "Linux"`` over an indented body), single tabs
    included; a tab's ``end`` is the last line of its body."""
    found: list[list[_Tab]] = []
    group: list[_Tab] = []
    tab: tuple[str, int, int] | None = None  # title, line, indent
    last = 0
    fence: str | None = None

    def close_tab() -> None:
        nonlocal tab
        if tab is not None:
            group.append(_Tab(tab[0], tab[1], last))
            tab = None

    def close_group() -> None:
        nonlocal group
        close_tab()
        if group:
            found.append(group)
        group = []

    for index, line in enumerate(text.splitlines(), 1):
        marker = _MKDOCS_TAB.match(line) if fence is None else None
        if marker is not None:
            indent = len(marker.group(1))
            if tab is not None and (indent != tab[2] or line.lstrip().startswith("===!")):
                close_group()  # `===!` starts a new group; another indent is another group
            close_tab()
            tab, last = (marker.group(2), index, indent), index
            continue
        if tab is not None:
            if not line.strip():
                continue
            if line.startswith(" " * (tab[2] + 4)) or line.startswith(" " * tab[2] + "\t"):
                last = index
                continue
            close_group()  # a line at the margin ends the group
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
        elif opened:
            fence = opened.group(1)
    close_group()
    return found


def unindent(text: str) -> str:
    """The text with every MkDocs tab's body at its tab's margin and the ``=== "…"`` lines
    blank, line for line (the lines the report cites stay the document's)."""
    found = mkdocs_groups(text)
    if not found:
        return text
    lines = text.split("\n")
    for group in found:
        for tab in group:
            indent = len(lines[tab.line - 1]) - len(lines[tab.line - 1].lstrip(" "))
            lines[tab.line - 1] = ""
            for n in range(tab.line, tab.end):
                line = lines[n]
                if line.startswith(" " * (indent + 4)):
                    lines[n] = " " * indent + line[indent + 4 :]
                elif line.startswith(" " * indent + "\t"):
                    lines[n] = " " * indent + line[indent + 1 :]
    return "\n".join(lines)


def apply(draft: Draft, text: str) -> None:
    found = groups(text) + [g for g in mkdocs_groups(text) if len(g) >= 2]
    for group in found:
        for phase in draft.phases:
            _decide(draft, phase, group)
            _decide_way_back(draft, phase, phase.rollback, group)
        _decide_way_back(draft, None, draft.plan_rollback, group)


def _decide_way_back(
    draft: Draft, phase: PhaseDraft | None, actions: list[Entry[StepNode]], group: list[_Tab]
) -> None:
    """Tabs in a rollback ("Debian / Ubuntu: `apt-get install --allow-downgrades …`", "RHEL:
    `dnf downgrade …`"): ways back for two kinds of machine, one chosen when the rollback
    comes, never both run (blind round 10)."""
    options = [(tab, [e for e in actions if tab.line < e.line <= tab.end]) for tab in group]
    options = [(tab, held) for tab, held in options if held]
    if len(options) < 2 or any(e.data.get("when") is not None for _, es in options for e in es):
        return
    section = Section(0, phase.name if phase is not None else "rollback", group[0].line)
    found = decisions.decide_rollback(draft, phase, section, [tab for tab, _ in options])
    for tab, entries in options:
        for entry in entries:
            entry.data["when"] = found[id(tab)]
    draft.note("review", line=group[0].line, what="tabs", why="tabs are ways back: one runs")


def _decide(draft: Draft, phase: PhaseDraft, group: list[_Tab]) -> None:
    held: dict[int, list[Entry[StepNode]]] = {}
    for n, tab in enumerate(group):
        held[n] = [e for e in phase.steps if tab.line < e.line <= tab.end]
    options = [(tab, held[n]) for n, tab in enumerate(group) if held[n]]
    if len(options) < 2 or any(e.data.get("when") is not None for _, es in options for e in es):
        return
    first = min(phase.steps.index(e) for _, es in options for e in es)
    section = Section(0, phase.name, group[0].line)
    found = decisions.decide(draft, phase, section, [tab for tab, _ in options])
    decision = phase.steps.pop()  # decide() appends it: asked where the group starts
    phase.steps.insert(first, decision)
    for tab, entries in options:
        for entry in entries:
            entry.data["when"] = found[id(tab)]
    draft.note("review", line=group[0].line, what="tabs", why="tabs are alternatives: one runs")
