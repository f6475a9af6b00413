"""Admonitions and marked lines the Markdown parser reads (parse.py): what kind of aside a
block stands in, and paragraphs that are lists in all but their markers.

Docusaurus, VuePress and VitePress write ``:::warning Title`` … ``:::``; GitHub ``> [!WARNING]``
in a blockquote; MkDocs ``!!! danger "Title"`` over an indented body (which CommonMark would
read as an indented code block: text, never a fence to run). The marker lines are taken out of
the text; each block inside carries the admonition's kind and number, so the mapper can ask the
operator to acknowledge a warning once (blocks.py) while commands inside keep their roles.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Admonitions: Docusaurus / VuePress / VitePress `:::warning Title` … `:::`, GitHub's
# `> [!WARNING]`, MkDocs' `!!! danger "Title"` over an indented body.
_CONTAINER_OPEN = re.compile(r"^:::+\s*\{?([A-Za-z][\w-]*)\}?([^\n]*)$")
# MyST's option lines under a container's opening line: `:color: danger`, `:open:`
_OPTION = re.compile(r"^:[\w-]+:")
# collapsible containers whose title says what they hold (`:::{dropdown} Rollback`)
_TITLED = frozenset(
    {"dropdown", "details", "admonition", "collapse", "toggle", "spoiler", "accordion"}
)
_CONTAINER_CLOSE = re.compile(r"^:::+\s*$|^\{%-?\s*endhint\s*-?%\}$")
# GitBook: `{% hint style="warning" %}` … `{% endhint %}` (blind round 11)
_GITBOOK_OPEN = re.compile(r"""^\{%-?\s*hint\s+style\s*=\s*["']?(\w+)["']?\s*-?%\}$""")
_ALERT = re.compile(r"^\[!([A-Za-z]+)\][ \t]*\n?")
# Obsidian's callout: `> [!failure]- If streaming stalls` (a fold marker, then its title on the
# marker's line); GitHub's five alerts carry no title (blind round 12)
_CALLOUT = re.compile(r"^\[!([A-Za-z]+)\]([+-]?)[ \t]*([^\n]*)")
_GITHUB_ALERTS = frozenset({"note", "tip", "important", "warning", "caution"})
_WARNING_GLYPH = re.compile(r"^\s*(?:⚠️?|❗️?|‼️?|🚨|⛔️?|🛑)")
_MKDOCS = re.compile(r"^(?:!!!|\?\?\?\+?)\s*([A-Za-z][\w-]*)[^\n]*$")
# A paragraph of lines each led by a status box or mark (`✅ All pods healthy  ` one per
# line, no list markers): a list of items, as the author meant it.
_GLYPH_LINE = re.compile(r"^\s*(?:✅|✔️?|☑️?|☐|□|⬜|✓|🔲|▢)\s*\S")


class Aside:
    """The admonition open where the parser is: its kind (``warning``, ``note`` …) and a
    number shared by its blocks. Its marker lines are taken out of the text they lead."""

    def __init__(self) -> None:
        self.kind = ""
        self.id = 0
        self.alert = False  # GitHub's `> [!X]`: lasts to the end of its blockquote
        self.mkdocs = False  # `!!! x`: the next indented block is its body
        self._closing = False
        self.title = ""  # a titled container just opened: its title, read as a lead-in
        self.titled = False  # the open container's title introduces what it holds
        self.ended_titled = False  # a titled container just closed

    def open(self, kind: str) -> None:
        self.kind, self.id = kind.lower(), self.id + 1

    def close(self) -> None:
        if self.titled:
            self.ended_titled, self.titled = True, False
        self.kind, self.alert, self.mkdocs, self._closing = "", False, False, False

    def after_block(self) -> None:
        if self._closing:
            self.close()

    def read(self, content: str, in_quote: bool) -> str:
        """The paragraph's text without admonition markers, opening or closing one."""
        lines = content.split("\n")
        if lines and (opened := _CONTAINER_OPEN.match(lines[0].strip())):
            if self.titled:  # a container opened inside a titled one
                self.close()
            self.open(opened.group(1))
            title = opened.group(2).strip().strip("`*_ ")
            if self.kind in _TITLED and title:
                self.title, self.titled = title, True
            lines = lines[1:]
            while lines and _OPTION.match(lines[0].strip()):
                lines = lines[1:]
        elif lines and (gitbook := _GITBOOK_OPEN.match(lines[0].strip())):
            self.open(gitbook.group(1))
            lines = lines[1:]
        elif lines and (mkdocs := _MKDOCS.match(lines[0].strip())):
            self.open(mkdocs.group(1))
            self.mkdocs = True
            lines = lines[1:]
        elif in_quote and (alert := _ALERT.match(content)):
            self.open(alert.group(1))
            self.alert = True
            lines = content[alert.end() :].split("\n")
            callout = _CALLOUT.match(content)
            if (
                callout
                and callout.group(3).strip()
                and (callout.group(2) or self.kind not in _GITHUB_ALERTS)
            ):
                # the callout's title introduces what it holds, as a titled container's does
                self.title, self.titled = callout.group(3).strip().strip("`*_ ").rstrip(":"), True
                lines = content[callout.end() :].lstrip("\n").split("\n")
        elif in_quote and not self.kind and _WARNING_GLYPH.match(content):
            # "> ⚠️ La migration `0042` supprime une colonne …: vérifiez d'abord …": a quoted
            # warning, as GitHub's `> [!WARNING]` (to the end of its blockquote)
            self.open("warning")
            self.alert = True
        if self.kind and not self.alert and lines and _CONTAINER_CLOSE.match(lines[-1].strip()):
            lines = lines[:-1]
            self._closing = True
        text = "\n".join(lines).strip()
        if not text and self._closing:
            self.close()
        return text


def glyph_lines(content: str) -> bool:
    lines = [ln for ln in content.split("\n") if ln.strip()]
    return len(lines) >= 2 and all(_GLYPH_LINE.match(ln) for ln in lines)


# "**Warning:** …", "⚠️ **IMPORTANT**: …", "**NOTE:** …": an admonition written as a bold label
_BOLD_LABEL = re.compile(
    r"^(?:[⚠️❗‼️🚨\s]*)(?:\*\*|__)\s*(warning|warn|important|caution|danger|attention|note|nota|"
    r"hinweis|achtung|avertissement|advertencia|aviso|atenci[oó]n|注意|警告|重要)\s*[:：]?\s*"
    r"(?:\*\*|__)\s*[:：]?",
    re.I,
)
_KINDS = {
    "warn": "warning",
    "achtung": "warning",
    "avertissement": "warning",
    "advertencia": "warning",
    "aviso": "warning",
    "atención": "warning",
    "atencion": "warning",
    "警告": "warning",
    "重要": "important",
    "nota": "note",
    "hinweis": "note",
    "注意": "note",
}
# what a note asks the reader to do before going on: "make sure", "do it now", "don't forget"
_INSTRUCTS = re.compile(
    r"\b(?:make sure|be sure|ensure|do it now|before it'?s too late|don'?t forget|remember to|"
    r"you must|must be|assurez-vous|n'oubliez pas|aseg[uú]r[ae]te|no olvides|stellen sie sicher|"
    r"vergessen sie nicht|certifique-se)\b|请确保|务必|确保",
    re.I,
)


def bold_label(text: str) -> str:
    """The kind of admonition a paragraph's bold label names (``warning``, ``note`` …), or ""."""
    match = _BOLD_LABEL.match(text.strip())
    if match is None:
        return ""
    word = match.group(1).lower()
    return _KINDS.get(word, word)


def instructs(text: str) -> bool:
    return bool(_INSTRUCTS.search(text))


_MKDOCS_TITLED = re.compile(
    r"""^( {0,8})(?:!!!|\?\?\?\+?)\s*([A-Za-z][\w-]*)\s+["']([^"'\n]+)["']\s*$"""
)


def unindent_conditions(text: str, is_condition: Callable[[str], bool]) -> str:
    """MkDocs admonitions titled by a condition (``!!! danger "If clients report certificate
    errors"`` over an indented "Switch back immediately:" and its fence): what they hold is
    what to do when the condition comes, a remedy. Read as an indented code block it ran
    nothing (safe, not faithful); the title becomes a bold lead-in ("**If clients report
    certificate errors:**") and the body is read at the margin, line for line, so its
    commands are the condition's recovery, never the forward path. Any other admonition is
    left as it is (its body stays text)."""
    if "!!!" not in text and "???" not in text:
        return text
    lines = text.split("\n")
    n = 0
    while n < len(lines):
        marker = _MKDOCS_TITLED.match(lines[n])
        if marker is None or not is_condition(marker.group(3)):
            n += 1
            continue
        indent = len(marker.group(1))
        body = " " * (indent + 4)
        lines[n] = f"{marker.group(1)}**{marker.group(3).strip().rstrip(':')}:**"
        n += 1
        while n < len(lines) and (not lines[n].strip() or lines[n].startswith(body)):
            if lines[n].startswith(body):
                lines[n] = " " * indent + lines[n][len(body) :]
            n += 1
    return "\n".join(lines)
