"""HTML blocks inside Markdown, read with an HTML parser like their Markdown equivalents.

CommonMark passes an HTML block through untouched, so markdown-it-py gives it to us as one raw
``html_block`` token. Runbooks copied from wikis and GitHub READMEs are full of them:
``<h2>Phase 1</h2>``, ``<pre><code class="language-bash">``, ``<table>``, ``<details>
<summary>Rollback</summary>``, ``<li><input type="checkbox"> …``. Read with the standard
library's HTML parser (tolerant of unclosed and stray tags, as browsers are), each becomes the
element its Markdown spelling would: a heading, a fence with its language, a table, a list
item with its task box, a paragraph. Whatever the reader does not understand (scripts,
images, forms, unknown elements) is listed as skipped with its Markdown line, never dropped
silently (issue 11 §11).

The output is this module's own small vocabulary (``Html*`` events); ``parse.py`` turns it
into its blocks and sections, so this module does not depend on the parser's types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlHeading:
    line: int
    level: int
    title: str


@dataclass
class HtmlPre:
    line: int  # the line of the code's first line (a fence's content starts after its line)
    lang: str
    text: str


@dataclass
class HtmlTable:
    line: int
    header: list[str]
    rows: list[list[str]]
    row_lines: list[int]


@dataclass
class HtmlItem:
    line: int
    text: str
    checked: bool | None
    ordered: bool
    depth: int
    code: list[str]


@dataclass
class HtmlText:
    line: int
    text: str
    code: list[str]
    closes: bool = False  # `</details>`: ends what its `<summary>` introduced
    opens: bool = False  # a `<summary>`: introduces what its `<details>` holds


@dataclass
class HtmlComment:
    line: int
    text: str


@dataclass
class Skipped:
    line: int
    what: str
    why: str


HtmlEvent = HtmlHeading | HtmlPre | HtmlTable | HtmlItem | HtmlText | HtmlComment

# Elements whose content is not prose a runbook reader acts on: not read, but reported.
_OPAQUE = frozenset(
    {
        "script",
        "style",
        "svg",
        "math",
        "iframe",
        "object",
        "video",
        "audio",
        "canvas",
        "form",
        "select",
        "textarea",
        "button",
        "template",
        "noscript",
        "picture",
        "map",
    }
)
_VOID = frozenset(
    {"img", "embed", "source", "track", "input", "area", "wbr", "col", "param", "meta", "link"}
)
# Elements whose text is read as it stands (formatting, links, containers).
_TRANSPARENT = frozenset(
    {
        "a",
        "abbr",
        "b",
        "big",
        "cite",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "tt",
        "u",
        "var",
        "html",
        "body",
        "head",
        "title",
        "main",
        "article",
        "aside",
        "header",
        "footer",
        "nav",
        "figure",
        "figcaption",
        "caption",
        "colgroup",
        "tbody",
        "tfoot",
        "dl",
        "label",
        "time",
        "nobr",
    }
)
# Elements that end the running paragraph: block boundaries.
_BREAKS = frozenset(
    {"p", "div", "section", "blockquote", "center", "hr", "dt", "dd", "details", "address"}
)
_HEADING = re.compile(r"^h([1-6])$")
_LANG = re.compile(r"(?:^|\s)(?:language|lang|highlight-source|source)-([\w+#.-]+)", re.I)


@dataclass
class _Cell:
    text: list[str] = field(default_factory=list)
    header: bool = False


@dataclass
class _TableState:
    line: int
    rows: list[tuple[int, list[_Cell]]] = field(default_factory=list)
    cell: _Cell | None = None
    in_head: bool = False


@dataclass
class _ItemState:
    line: int
    ordered: bool
    depth: int
    text: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    checked: bool | None = None
    emitted: bool = False


def _squash(parts: list[str]) -> str:
    """Whitespace as a browser shows it: runs become one space; ``<br>`` stays a line break."""
    lines = "".join(parts).split("\n\x00")
    return "\n".join(" ".join(line.split()) for line in lines).strip()


def _lang(attrs: dict[str, str | None]) -> str:
    for key in ("lang", "data-lang", "data-language"):
        value = attrs.get(key)
        if value:
            return value.strip().lower()
    found = _LANG.search(attrs.get("class") or "")
    return found.group(1).lower() if found else ""


class _Reader(HTMLParser):
    def __init__(self, first_line: int) -> None:
        super().__init__(convert_charrefs=True)
        self.first_line = first_line
        self.events: list[HtmlEvent] = []
        self.skipped: list[Skipped] = []
        self.text: list[str] = []  # the running paragraph
        self.text_code: list[str] = []
        self.text_line = first_line
        self.code: list[str] | None = None  # an inline <code> being read
        self.pre: tuple[int, str, list[str]] | None = None  # (line of its text, lang, text)
        self.heading: tuple[int, int, list[str]] | None = None
        self.summary: tuple[int, list[str]] | None = None
        self.tables: list[_TableState] = []
        self.lists: list[bool] = []  # ordered? for each open list
        self.items: list[_ItemState] = []
        self.opaque: tuple[str, int] | None = None  # (tag, nesting) of an element not read

    @property
    def line(self) -> int:
        return self.first_line + self.getpos()[0] - 1

    # -- where text goes -------------------------------------------------------------------

    def _sink(self) -> list[str]:
        if self.heading is not None:
            return self.heading[2]
        if self.summary is not None:
            return self.summary[1]
        if self.tables and self.tables[-1].cell is not None:
            return self.tables[-1].cell.text
        if self.items and not self.items[-1].emitted:
            return self.items[-1].text
        if not "".join(self.text).strip():
            self.text_line = self.line
        return self.text

    def handle_data(self, data: str) -> None:
        if self.opaque is not None:
            return
        if self.pre is not None:
            if not self.pre[2]:
                self.pre = (self.line, self.pre[1], self.pre[2])
            self.pre[2].append(data)
        elif self.code is not None:
            self.code.append(data)
        else:
            self._sink().append(data)

    def handle_comment(self, data: str) -> None:
        if self.opaque is None and self.pre is None:
            self._flush_text()
            self.events.append(HtmlComment(self.line, f"<!--{data}-->"))

    # -- tags ------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.opaque is not None:
            if tag == self.opaque[0]:
                self.opaque = (tag, self.opaque[1] + 1)
            return
        named = dict(attrs)
        if self.pre is not None:  # inside <pre> only <code> matters (its language)
            if tag == "code" and not self.pre[1]:
                self.pre = (self.pre[0], _lang(named), self.pre[2])
            return
        if tag in _OPAQUE:
            self._skip(f"<{tag}>", "its content is neither prose nor code")
            self.opaque = (tag, 1)
        elif tag == "input":
            self._input(named)
        elif tag in _VOID:
            self._skip(f"<{tag}>", "no text to read")
        elif tag == "br":
            self._sink().append("\n\x00")
        elif _HEADING.match(tag):
            self._flush_all()
            self.heading = (self.line, int(tag[1]), [])
        elif tag == "pre":
            self._flush_all()
            self.pre = (self.line, _lang(named), [])
        elif tag == "code":
            self.code = []
        elif tag == "table":
            self._flush_all()
            self.tables.append(_TableState(self.line))
        elif tag in ("thead", "tr", "td", "th"):
            self._table_start(tag)
        elif tag in ("ul", "ol"):
            self._flush_all()
            self.lists.append(tag == "ol")
        elif tag == "li":
            self._flush_all()
            ordered = self.lists[-1] if self.lists else False
            self.items.append(_ItemState(self.line, ordered, max(len(self.lists), 1)))
        elif tag == "summary":
            self._flush_all()
            self.summary = (self.line, [])
        elif tag in _BREAKS or tag == "dt":
            self._flush_all()
        elif tag not in _TRANSPARENT:
            self._skip(f"<{tag}>", "unknown HTML element; its text is read as prose")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and tag != "br":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.opaque is not None:
            if tag == self.opaque[0]:
                depth = self.opaque[1] - 1
                self.opaque = (tag, depth) if depth else None
            return
        if self.pre is not None:
            if tag == "pre":
                self._end_pre()
            return
        if tag == "code" and self.code is not None:
            span = "".join(self.code)
            self.code = None
            if span.strip():
                self._sink().append(f"`{span}`")
                self._code_list().append(span)
        elif _HEADING.match(tag) and self.heading is not None:
            line, level, parts = self.heading
            self.heading = None
            title = _squash(parts)
            if title:
                self.events.append(HtmlHeading(line, level, title))
        elif tag in ("td", "th", "tr", "thead", "table"):
            self._table_end(tag)
        elif tag == "li":
            self._end_item()
        elif tag in ("ul", "ol"):
            self._flush_all()
            if self.lists:
                self.lists.pop()
        elif tag == "summary" and self.summary is not None:
            line, parts = self.summary
            self.summary = None
            text = _squash(parts)
            self.events.append(HtmlText(line, f"{text}:" if text else "details:", [], opens=True))
        elif tag == "details":
            self._flush_all()
            self.events.append(HtmlText(self.line, "", [], closes=True))
        elif tag in _BREAKS:
            self._flush_all()

    # -- pieces ----------------------------------------------------------------------------

    def _skip(self, what: str, why: str) -> None:
        self.skipped.append(Skipped(self.line, what, why))

    def _code_list(self) -> list[str]:
        if self.items and not self.items[-1].emitted:
            return self.items[-1].code
        if self.tables and self.tables[-1].cell is not None:
            return []  # a cell keeps its code as `backticks` in its text
        return self.text_code

    def _input(self, attrs: dict[str, str | None]) -> None:
        kind = (attrs.get("type") or "text").lower()
        if kind == "checkbox" and self.items and not self.items[-1].emitted:
            self.items[-1].checked = "checked" in attrs
        else:
            self._skip(f'<input type="{kind}">', "a form field, not a task box in a list item")

    def _end_pre(self) -> None:
        assert self.pre is not None
        line, lang, parts = self.pre
        self.pre = None
        text = "".join(parts)
        stripped = text.lstrip("\n")  # HTML drops the newline right after <pre>
        line += len(text) - len(stripped)
        text = stripped
        if text.strip():
            self.events.append(HtmlPre(line, lang, text if text.endswith("\n") else text + "\n"))

    def _table_start(self, tag: str) -> None:
        if not self.tables:
            self._skip(f"<{tag}>", "a table cell outside a table")
            return
        table = self.tables[-1]
        if tag == "thead":
            table.in_head = True
        elif tag == "tr":
            table.rows.append((self.line, []))
        else:
            if not table.rows:
                table.rows.append((self.line, []))
            table.cell = _Cell(header=tag == "th" or table.in_head)
            table.rows[-1][1].append(table.cell)

    def _table_end(self, tag: str) -> None:
        if not self.tables:
            return
        table = self.tables[-1]
        if tag in ("td", "th"):
            table.cell = None
        elif tag == "thead":
            table.in_head = False
        elif tag == "table":
            self.tables.pop()
            self._emit_table(table)

    def _emit_table(self, table: _TableState) -> None:
        rows = [(line, [_squash(c.text) for c in cells], cells) for line, cells in table.rows]
        rows = [r for r in rows if any(r[1])]
        if not rows:
            return
        # The first row is the header when it is marked so, or when nothing is: a reader takes
        # the first row of an unmarked table as its column names, as in Markdown.
        first_marked = all(c.header for c in rows[0][2])
        any_marked = any(c.header for _, _, cells in rows for c in cells)
        if first_marked or not any_marked:
            header, body = rows[0][1], rows[1:]
        else:
            header, body = [], rows
        self.events.append(
            HtmlTable(table.line, header, [r[1] for r in body], [r[0] for r in body])
        )

    def _end_item(self) -> None:
        if self.items:
            item = self.items.pop()
            self._emit_item(item)

    def _emit_item(self, item: _ItemState) -> None:
        if item.emitted:
            return
        item.emitted = True
        text = _squash(item.text)
        if text or item.checked is not None:
            self.events.append(
                HtmlItem(item.line, text, item.checked, item.ordered, item.depth, item.code)
            )

    def _flush_text(self) -> None:
        text = _squash(self.text)
        if text:
            self.events.append(HtmlText(self.text_line, text, self.text_code))
        self.text, self.text_code = [], []

    def _flush_all(self) -> None:
        """A block starts: the running paragraph ends, and an open list item's own text
        (before its nested list, table or code) is complete."""
        self._flush_text()
        item = self.items[-1] if self.items else None
        if item is not None and not item.emitted and (_squash(item.text) or item.checked):
            self._emit_item(item)  # `<li><p>…</p>` has no text of its own before the <p>

    def finish(self) -> None:
        """The block ended (CommonMark ends an HTML block at a blank line): whatever is still
        open is emitted as far as it was read."""
        self.close()
        if self.pre is not None:
            self._end_pre()
        self.opaque = None
        if self.heading is not None:
            self.handle_endtag(f"h{self.heading[1]}")
        if self.summary is not None:
            self.handle_endtag("summary")
        while self.tables:
            self._emit_table(self.tables.pop())
        while self.items:
            self._end_item()
        self._flush_text()


def read_html(html: str, line: int) -> tuple[list[HtmlEvent], list[Skipped]]:
    """The events of one HTML block starting at Markdown line ``line``, in document order,
    and what was skipped."""
    reader = _Reader(line)
    reader.feed(html)
    reader.finish()
    return reader.events, reader.skipped
