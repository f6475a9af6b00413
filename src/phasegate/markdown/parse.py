"""Markdown -> a section tree of typed blocks, with 1-based source lines.

Structure comes from markdown-it-py's token stream (CommonMark + GFM tables + front matter);
regular expressions only look *inside* a token's text (a task box, a fence's info string).
"""

from __future__ import annotations

import codecs
import json
import re
import shlex
from dataclasses import dataclass, field

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from phasegate.markdown import admonitions, htmlblocks, myst
from phasegate.markdown.errors import MarkdownImportError
from phasegate.markdown.nodes import FrontMatter


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
    aside: str = ""  # inside an admonition (`:::warning`, `> [!CAUTION]`): its kind
    aside_id: int = 0  # which one (the blocks of one admonition share it)


@dataclass
class Table:
    line: int
    header: list[str]
    rows: list[list[str]]
    row_lines: list[int] = field(default_factory=list)  # an HTML table's rows; else computed

    def row_line(self, offset: int) -> int:
        """The Markdown line of body row ``offset`` (a pipe table: after header and rule)."""
        if offset < len(self.row_lines):
            return self.row_lines[offset]
        return self.line + 2 + offset


@dataclass
class Paragraph:
    line: int
    text: str
    code: list[str] = field(default_factory=list)
    closes: bool = False  # ends a lead-in's scope (`</details>`): what follows is the section's
    opens: bool = False  # a `<summary>`: its role lasts to `</details>` (blind round 9)
    aside: str = ""  # inside an admonition (`:::warning`, `> [!CAUTION]`): its kind
    aside_id: int = 0  # which one (the blocks of one admonition share it)


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
class Skipped:
    """Something in the document the importer did not read (an HTML element), with its line:
    listed in the import report, never dropped silently (issue 11 §11)."""

    line: int
    what: str
    why: str


@dataclass
class Document:
    root: Section
    front_matter: FrontMatter  # the author's YAML, as yaml.safe_load gives it
    skipped: list[Skipped] = field(default_factory=list)


_TASK = re.compile(r"^\[([ xX])\]\s+")
_MD = MarkdownIt("commonmark").enable("table").use(front_matter_plugin)
_IAL = re.compile(r"^\{:[^{}\n]*\}$")
_NBSP = re.compile(r"(?:&nbsp;|&#160;|&#xa0;)", re.I)
_NUMBERED_PARAGRAPH = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\\\.\s+(?=\S)")


def clean_text(text: str) -> str:
    """BOM, CRLF and mojibake (UTF-8 read as cp1252 / Mac Roman) repaired."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return _NON_ASCII_RUN.sub(_undo_mojibake, _fix_encoding(text))


# What ftfy could change: anything but printable ASCII, tab and newline (mojibake is non-ASCII;
# terminal escapes and control characters are the rest).
_NOT_PLAIN = re.compile(r"[^\t\n\x20-\x7e]")


def _fix_encoding(text: str) -> str:
    """ftfy's encoding repairs, on the lines that could need them.

    ftfy fixes text line by line (each line is an independent segment of ``fix_text``), and a
    line of printable ASCII comes back unchanged, so handing it only the other lines gives the
    same text; on a 2 MB document that is most of ftfy's share of the import time."""
    if not _NOT_PLAIN.search(text):
        return text
    import ftfy

    # Only encoding repairs: width, ligatures, quotes, entities and line breaks stay as written
    # (fullwidth CJK punctuation and `&amp;` in code are content).
    config = ftfy.TextFixerConfig(
        explain=False,
        normalization=None,
        fix_line_breaks=False,
        uncurl_quotes=False,
        fix_character_width=False,
        fix_latin_ligatures=False,
        unescape_html=False,
    )
    lines = text.split("\n")
    last = len(lines) - 1
    # Each line is fixed on its own, so a line repeated (the same emoji heading or status
    # line in every phase) is fixed once.
    done: dict[str, str] = {}
    for index, line in enumerate(lines):
        if _NOT_PLAIN.search(line):
            segment = line + "\n" if index < last else line
            fixed = done.get(segment)
            if fixed is None:
                fixed = done[segment] = ftfy.fix_text(segment, config)
            lines[index] = fixed[:-1] if index < last and fixed.endswith("\n") else fixed
    return "\n".join(lines)


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


# Byte-order marks, longest first (UTF-32's LE mark starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def decode(data: bytes, source: str) -> str:
    """The document's text: UTF-8, or what its byte-order mark says (Windows editors save
    runbooks as UTF-16 with a BOM), or UTF-16 without a BOM when every other byte of its ASCII
    is zero. Anything else is an error naming the file, the encoding and where it breaks."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _decode_as(
                data[len(bom) :], codec, f"{name} (it starts with a {name} byte-order mark)", source
            )
    bomless = _bomless_utf16(data)
    if bomless is not None:
        return _decode_as(data, bomless, "UTF-16 (zero bytes between its letters)", source)
    if b"\x00" in data:
        raise MarkdownImportError(
            f"{source}: looks like a binary file, not Markdown",
            hint="give a Markdown (.md) document",
        )
    return _decode_as(data, "utf-8", "UTF-8", source)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text has a zero in every other byte."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    if odd.count(0) >= 0.9 * len(odd) and not even.count(0):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and not odd.count(0):
        return "utf-16-be"
    return None


def _decode_as(data: bytes, codec: str, what: str, source: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(codec, errors="replace").count("\n") + 1
        bad = data[exc.start : exc.end][:4].hex(" ")
        raise MarkdownImportError(
            f"{source}:{line}: is not {what} text: byte(s) {bad} at offset {exc.start} "
            f"cannot be decoded ({exc.reason})",
            hint="save it as UTF-8, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8.md` "
            "(name the encoding it was written in)",
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
    if not lang.strip("{}"):
        # pandoc's attribute form (an Org-mode or rST export): ``{.bash org-language="sh"}``
        # names the language as a class (blind round 12)
        classes = [k[1:] for k in attrs if k.startswith(".") and len(k) > 1]
        if classes:
            lang = classes[0]
            attrs = {k: v for k, v in attrs.items() if not k.startswith(".")}
    return lang.lower().strip("{}"), attrs


def _inline(token: Token) -> tuple[str, list[str]]:
    # A code span needs a backtick in the source: most lines have none, and their children
    # need not be walked.
    children = (token.children or []) if "`" in token.content else []
    code = [c.content for c in children if c.type == "code_inline"]
    return token.content.strip(), code


def _front_matter(content: str) -> FrontMatter:
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def parse(text: str) -> Document:
    tokens = _MD.parse(text)
    root = Section(0, "", 1)
    stack = [root]
    skipped: list[Skipped] = []
    front: FrontMatter = {}
    lists: list[bool] = []  # ordered? for each open list
    items: list[Item | None] = []  # the open list items (None until their first paragraph)
    last_text = ""
    aside = admonitions.Aside()
    quotes: list[bool] = []  # open blockquotes: whether each held a fence
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = tok.map[0] + 1 if tok.map else 1
        kind = tok.type
        if kind == "front_matter":
            front = _front_matter(tok.content)
        elif kind == "heading_open":
            title = _inline_markup(tokens[i + 1].content).strip()
            _open_section(stack, int(tok.tag[1:]), title, line)
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
        elif kind == "blockquote_open":
            quotes.append(False)
        elif kind == "blockquote_close":
            held_fence = quotes.pop() if quotes else False
            if aside.alert:
                aside.close()
            elif held_fence:
                # "> STOP if … In that case delete it:" over a quoted fence: the quote's lead-in
                # ends with the quote; what follows is the section's again (blind round 12)
                stack[-1].blocks.append(Paragraph(line, "", closes=True))
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            content, code = _inline(tok)
            if "<" in content:
                content = _inline_markup(content)
            if "&" in content:  # `&nbsp;&nbsp;1.1\. Ensure …`: indentation by entities
                content = _NBSP.sub(" ", content).strip()
            content = aside.read(content, in_quote=_in_blockquote(tokens, i))
            if aside.title:  # `:::{dropdown} Rollback`: the title introduces what it holds
                stack[-1].blocks.append(Paragraph(line, f"{aside.title}:", opens=True))
                last_text, aside.title = f"{aside.title}:", ""
            if aside.ended_titled:  # its closing `:::` ends what the title introduced
                stack[-1].blocks.append(Paragraph(line, "", closes=True))
                aside.ended_titled = False
            if not content or _IAL.match(content):  # `{: #id}`, `{: pre}`: kramdown attributes
                i += 1
                continue
            numbered = _NUMBERED_PARAGRAPH.match(content)
            if not (items and items[-1] is None) and numbered and "\n" not in content:
                # "1.3\. Ensure a backup …" escaped so Markdown keeps it a paragraph: a step
                item = Item(line, content[numbered.end() :], None, True, len(lists) + 1, code)
                item.aside, item.aside_id = aside.kind, aside.id
                stack[-1].blocks.append(item)
                i += 1
                continue
            if not (items and items[-1] is None) and admonitions.glyph_lines(content):
                for offset, row in enumerate(content.splitlines()):
                    glyph = Item(line + offset, row.strip(), None, False, len(lists) + 1)
                    glyph.code = re.findall(r"`([^`\n]+)`", row)
                    glyph.aside, glyph.aside_id = aside.kind, aside.id
                    stack[-1].blocks.append(glyph)
                i += 1
                continue
            if items and items[-1] is None:
                match = _TASK.match(content)
                checked = None if match is None else match.group(1) != " "
                body = content[match.end() :] if match else content
                item = Item(line, body, checked, lists[-1], len(lists), code)
                item.aside, item.aside_id = aside.kind, aside.id
                items[-1] = item
                stack[-1].blocks.append(item)
            else:
                paragraph = Paragraph(line, content, code)
                paragraph.aside, paragraph.aside_id = aside.kind, aside.id
                stack[-1].blocks.append(paragraph)
            aside.after_block()
            if not items:  # an item's text introduces only the fences inside that item
                last_text = content
        elif kind == "code_block" and aside.mkdocs:
            # MkDocs' admonition body is indented: text, not an unlabelled fence to run
            text = tok.content.strip()
            paragraph = Paragraph(line, text, re.findall(r"`([^`\n]+)`", text))
            paragraph.aside, paragraph.aside_id = aside.kind, aside.id
            stack[-1].blocks.append(paragraph)
            aside.close()
        elif kind == "fence" and (found := myst.directive(tok.info)) is not None:
            # MyST / Quarto: ```{code-block} bash, ```{bash} hold commands; ```{warning} text
            name, rest = found
            lang = myst.code_language(name, rest)
            if lang is not None:
                open_item = next((it for it in reversed(items) if it is not None), None)
                context = open_item.text if open_item is not None else last_text
                body = myst.strip_options(tok.content)
                stack[-1].blocks.append(Fence(line, lang, {}, body, context))
            else:
                text = myst.admonition_text(tok.content)
                note = Paragraph(line + 1, text, re.findall(r"`([^`\n]+)`", text))
                note.aside, note.aside_id = name, 10_000 + line
                if text:
                    stack[-1].blocks.append(note)
        elif kind in ("fence", "code_block"):
            if quotes:
                quotes[-1] = True
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
            last_text = _html(tok.content, line, stack, skipped, last_text)
        i += 1
    return Document(root, front, skipped)


# Localised docs (Microsoft Docs) wrap every sentence: `<span data-ttu-id="…">翻译</span><span
# class="sxs-lookup"><span data-stu-id="…">the English original</span></span>`, headings behind
# `<a name="…"></a>` anchors. The translation is the text; the markup and the duplicate are not.
_LOOKUP_SPAN = re.compile(r'<span class="sxs-lookup">\s*<span[^>]*>.*?</span>\s*</span>', re.S)
_INLINE_TAG = re.compile(r"</?span(?:\s[^<>]*)?>|<a\s+name=[^<>]*>\s*</a>", re.I)


def _inline_markup(text: str) -> str:
    """Text with localisation spans and name anchors taken out (never `<node>`-like words)."""
    if "<span" not in text and "<a " not in text:
        return text
    return _INLINE_TAG.sub("", _LOOKUP_SPAN.sub("", text))


def _in_blockquote(tokens: list[Token], index: int) -> bool:
    return index >= 2 and tokens[index - 2].type == "blockquote_open"


def _open_section(stack: list[Section], level: int, title: str, line: int) -> None:
    while stack[-1].level >= level:
        stack.pop()
    section = Section(level, title, line)
    stack[-1].children.append(section)
    stack.append(section)


def _html(
    html: str, line: int, stack: list[Section], skipped: list[Skipped], last_text: str
) -> str:
    """An HTML block read like the Markdown it stands for (htmlblocks.py): ``<h2>`` opens a
    section, ``<pre><code class="language-bash">`` is a fence, a ``<table>`` a table, an
    ``<li>`` with a checkbox a task item; ``<details><summary>Rollback</summary>`` introduces
    what follows like a lead-in line ("Rollback:") and ``</details>`` ends it, so a collapsed
    rollback stays a rollback (issue 11 §5, §11). Returns the text that introduces the next
    fence."""
    events, missed = htmlblocks.read_html(html, line)
    skipped.extend(Skipped(s.line, s.what, s.why) for s in missed)
    for event in events:
        blocks = stack[-1].blocks
        if isinstance(event, htmlblocks.HtmlHeading):
            _open_section(stack, event.level, event.title, event.line)
            last_text = event.title
        elif isinstance(event, htmlblocks.HtmlPre):
            # a Fence's line is its opening line; the code starts on the next
            blocks.append(Fence(event.line - 1, event.lang, {}, event.text, last_text))
        elif isinstance(event, htmlblocks.HtmlTable):
            blocks.append(Table(event.line, event.header, event.rows, event.row_lines))
        elif isinstance(event, htmlblocks.HtmlItem):
            match = _TASK.match(event.text) if event.checked is None else None
            checked = event.checked if match is None else match.group(1) != " "
            body = event.text[match.end() :] if match else event.text
            blocks.append(Item(event.line, body, checked, event.ordered, event.depth, event.code))
        elif isinstance(event, htmlblocks.HtmlComment):
            blocks.append(Comment(event.line, event.text))
        else:
            blocks.append(
                Paragraph(
                    event.line, event.text, event.code, closes=event.closes, opens=event.opens
                )
            )
            if event.text:
                last_text = event.text
    return last_text


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
