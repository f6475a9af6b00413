"""Markdown -> a section tree of typed blocks, with 1-based source lines.

Structure comes from markdown-it-py's token stream (CommonMark + GFM tables + front matter);
regular expressions only look *inside* a token's text (a task box, a fence's info string).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from phasegate.markdown.errors import MarkdownImportError


@dataclass
class Fence:
    line: int
    lang: str
    attrs: dict[str, str]
    text: str
    context: str = ""  # text of the list item or paragraph that introduces the fence


@dataclass
class Item:
    line: int
    text: str
    checked: bool | None  # None: not a task item
    ordered: bool
    depth: int
    code: list[str] = field(default_factory=list)


@dataclass
class Table:
    line: int
    header: list[str]
    rows: list[list[str]]


@dataclass
class Paragraph:
    line: int
    text: str
    code: list[str] = field(default_factory=list)
    closes: bool = False  # ends a lead-in's scope (`</details>`): what follows is the section's


@dataclass
class Comment:
    line: int
    text: str


Block = Fence | Item | Table | Paragraph | Comment


@dataclass
class Section:
    level: int  # 0 for the document root
    title: str
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    def walk(self) -> list[Section]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass
class Document:
    root: Section
    front_matter: dict[str, Any]


_TASK = re.compile(r"^\[([ xX])\]\s+")
_MD = MarkdownIt("commonmark").enable("table").use(front_matter_plugin)


def clean_text(text: str) -> str:
    """BOM, CRLF and mojibake (UTF-8 read as cp1252 / Mac Roman) repaired."""
    import ftfy

    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # Only encoding repairs: width, ligatures, quotes, entities and line breaks stay as written
    # (fullwidth CJK punctuation and `&amp;` in code are content).
    text = ftfy.fix_text(
        text,
        normalization=None,
        fix_line_breaks=False,
        uncurl_quotes=False,
        fix_character_width=False,
        fix_latin_ligatures=False,
        unescape_html=False,
    )
    return _NON_ASCII_RUN.sub(_undo_mojibake, text)


# ftfy leaves some mojibake alone (Mac Roman, or a line it judges plausible). A run of
# non-ASCII characters that re-encodes, through cp1252 or Mac Roman, to valid UTF-8 is mojibake
# (``‚úÖ`` -> ``✅``); real text almost never is, because UTF-8 needs a lead byte followed by
# exactly the right continuation bytes. A byte the first decoder dropped (cp1252 has holes)
# leaves one incomplete sequence: that is dropped when the rest decodes to symbols.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_MOJIBAKE_CODECS = ("sloppy-windows-1252", "mac_roman")


def _undo_mojibake(match: re.Match[str]) -> str:
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-* codecs)

    run = match.group(0)
    for codec in _MOJIBAKE_CODECS:
        try:
            raw = run.encode(codec)
        except UnicodeEncodeError:
            continue
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            fixed = raw.decode("utf-8", errors="replace")
            kept = fixed.replace("\ufffd", "")
            if fixed.count("\ufffd") == 1 and any(ord(ch) >= 0x2000 for ch in kept):
                return kept
    return run


def decode(data: bytes, source: str) -> str:
    if b"\x00" in data:
        raise MarkdownImportError(
            f"{source}: looks like a binary file, not Markdown",
            hint="give a Markdown (.md) document",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MarkdownImportError(
            f"{source}: is not UTF-8 text (byte {exc.start})",
            hint="convert it first, e.g. `iconv -f latin1 -t utf-8`",
        ) from None


def fence_attrs(info: str) -> tuple[str, dict[str, str]]:
    """Language and attributes of an info string: ``bash {"name": "x"}`` or ``sh { name=x }``."""
    lang, _, rest = info.strip().partition(" ")
    if lang.startswith("{"):
        lang, rest = "", info.strip()
    rest = rest.strip()
    attrs: dict[str, str] = {}
    if rest.startswith("{") and rest.endswith("}"):
        try:
            loaded = json.loads(rest)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            return lang.lower(), {str(k): str(v) for k, v in loaded.items()}
        try:
            words = shlex.split(rest[1:-1])
        except ValueError:
            words = rest[1:-1].split()
        for word in words:
            key, sep, value = word.partition("=")
            if key.strip(", "):
                attrs[key.strip(", ")] = value.strip().strip(",") if sep else "true"
    return lang.lower().strip("{}"), attrs


def _inline(token: Token) -> tuple[str, list[str]]:
    code = [c.content for c in token.children or [] if c.type == "code_inline"]
    return token.content.strip(), code


def _front_matter(content: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def parse(text: str) -> Document:
    tokens = _MD.parse(text)
    root = Section(0, "", 1)
    stack = [root]
    front: dict[str, Any] = {}
    lists: list[bool] = []  # ordered? for each open list
    items: list[Item | None] = []  # the open list items (None until their first paragraph)
    last_text = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = tok.map[0] + 1 if tok.map else 1
        kind = tok.type
        if kind == "front_matter":
            front = _front_matter(tok.content)
        elif kind == "heading_open":
            level = int(tok.tag[1:])
            title = tokens[i + 1].content.strip()
            while stack[-1].level >= level:
                stack.pop()
            section = Section(level, title, line)
            stack[-1].children.append(section)
            stack.append(section)
            last_text = title
            i += 3
            continue
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            items.append(None)
        elif kind == "list_item_close":
            items.pop()
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            content, code = _inline(tok)
            if items and items[-1] is None:
                match = _TASK.match(content)
                checked = None if match is None else match.group(1) != " "
                body = content[match.end() :] if match else content
                item = Item(line, body, checked, lists[-1], len(lists), code)
                items[-1] = item
                stack[-1].blocks.append(item)
            else:
                stack[-1].blocks.append(Paragraph(line, content, code))
            if not items:  # an item's text introduces only the fences inside that item
                last_text = content
        elif kind in ("fence", "code_block"):
            lang, attrs = fence_attrs(tok.info) if kind == "fence" else ("", {})
            open_item = next((it for it in reversed(items) if it is not None), None)
            context = open_item.text if open_item is not None else last_text
            stack[-1].blocks.append(Fence(line, lang, attrs, tok.content, context))
        elif kind == "table_open":
            i = _table(tokens, i, stack[-1], line)
            continue
        elif kind == "html_block" and tok.content.lstrip().startswith("<!--"):
            stack[-1].blocks.append(Comment(line, tok.content.strip()))
        elif kind == "html_block":
            _details(tok.content, line, stack[-1])
        i += 1
    return Document(root, front)


_SUMMARY = re.compile(r"<summary[^>]*>(.*?)</summary>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def _details(html: str, line: int, section: Section) -> None:
    """``<details><summary>Rollback</summary>`` introduces what follows like a lead-in line
    ("Rollback:") and ``</details>`` ends it, so a collapsed rollback stays a rollback
    (issue 11 §5)."""
    summary = _SUMMARY.search(html)
    if summary is not None:
        text = " ".join(_TAGS.sub("", summary.group(1)).split())
        section.blocks.append(Paragraph(line, f"{text}:" if text else "details:"))
    if re.search(r"</details\s*>", html, re.I):
        section.blocks.append(Paragraph(line, "", closes=True))


def _table(tokens: list[Token], i: int, section: Section, line: int) -> int:
    header: list[str] = []
    rows: list[list[str]] = []
    row: list[str] = []
    in_head = False
    while i < len(tokens) and tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            if in_head:
                header = row
            else:
                rows.append(row)
        elif tok.type == "inline":
            row.append(tok.content.strip())
        i += 1
    section.blocks.append(Table(line, header, rows))
    return i + 1
