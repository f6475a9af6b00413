"""The parser pass: structure from markdown-it tokens, text repaired."""

from __future__ import annotations

import textwrap

import pytest

from phasegate.markdown.errors import MarkdownImportError
from phasegate.markdown.parse import (
    Comment,
    Fence,
    Item,
    Paragraph,
    Table,
    clean_text,
    decode,
    fence_attrs,
    parse,
)


def md(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_atx_and_setext_headings_nest_into_sections_with_lines() -> None:
    doc = parse(
        md("""
        Title
        =====

        ## Phase 1
        text

        Sub
        ---

        ### deeper
        # Other
    """)
    )
    top = doc.root.children
    assert [s.title for s in top] == ["Title", "Other"]
    assert [s.title for s in top[0].children] == ["Phase 1", "Sub"]
    assert top[0].children[1].children[0].title == "deeper"
    assert top[0].line == 1
    assert top[0].children[0].line == 4


def test_fences_of_backticks_and_tildes_inside_list_items_with_attributes() -> None:
    doc = parse(
        md("""
        # S
        1. Verify the service:
           ```bash {"name": "probe"}
           curl -s localhost
           ```
        ~~~~sh { name=backup undo="rm -rf b" }
        cp -a a b
        ~~~~
    """)
    )
    fences = [b for b in doc.root.children[0].blocks if isinstance(b, Fence)]
    assert fences[0].lang == "bash"
    assert fences[0].attrs == {"name": "probe"}
    assert fences[0].text == "curl -s localhost\n"
    assert fences[0].context == "Verify the service:"
    assert fences[0].line == 3
    assert fences[1].attrs == {"name": "backup", "undo": "rm -rf b"}


def test_task_items_keep_their_checked_state_and_code_spans() -> None:
    doc = parse(
        md("""
        - [x] done `make test`
        - [ ] open
        - plain
          1. nested
    """)
    )
    items = [b for b in doc.root.blocks if isinstance(b, Item)]
    assert [(i.text, i.checked) for i in items[:3]] == [
        ("done `make test`", True),
        ("open", False),
        ("plain", None),
    ]
    assert items[0].code == ["make test"]
    assert items[3].ordered and items[3].depth == 2


def test_tables_front_matter_and_comments() -> None:
    doc = parse(
        md("""
        ---
        name: web-release
        ---
        | Test | Command | Expected |
        |------|---------|----------|
        | a | `ls` | Exit 0 |
        <!-- phasegate: skip -->

        Some prose.
    """)
    )
    assert doc.front_matter == {"name": "web-release"}
    table = next(b for b in doc.root.blocks if isinstance(b, Table))
    assert table.header == ["Test", "Command", "Expected"]
    assert table.rows == [["a", "`ls`", "Exit 0"]]
    assert any(isinstance(b, Comment) and "phasegate" in b.text for b in doc.root.blocks)
    assert any(isinstance(b, Paragraph) for b in doc.root.blocks)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\ufeff# T\r\nok\r\n", "# T\nok\n"),
        ("Done âœ…", "Done ✅"),
        ("Done ‚úÖ", "Done ✅"),
        ("Größe und Ünïcode 日本語", "Größe und Ünïcode 日本語"),
        ("数据，但不修改它们。", "数据，但不修改它们。"),  # fullwidth punctuation is content
        ("`a &amp;&amp; b` ﬁ", "`a &amp;&amp; b` ﬁ"),
        ("## âš¡ <5 Minute Rollback", "## ⚡ <5 Minute Rollback"),  # ftfy leaves this line
        ("âš\xa0ï¸ Warning", "⚠ Warning"),  # a byte lost by cp1252: the rest is recovered
        ("â”œâ”€â”€ tree", "├── tree"),
    ],
)
def test_text_is_repaired(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_binary_and_non_utf8_input_is_refused_clearly() -> None:
    with pytest.raises(MarkdownImportError, match="binary"):
        decode(b"\x7fELF\x00\x01", "a.md")
    with pytest.raises(MarkdownImportError, match="not UTF-8"):
        decode(b"# caf\xe9", "a.md")


def test_info_string_without_attributes() -> None:
    assert fence_attrs("Bash") == ("bash", {})
    assert fence_attrs("") == ("", {})
    assert fence_attrs('{"name": "x"}') == ("", {"name": "x"})


def test_encoding_repair_only_on_lines_that_need_it_gives_ftfys_text() -> None:
    """clean_text hands ftfy only the lines that are not plain ASCII (a speed-up on large
    documents, docs/performance.md); the result is what ftfy gives for the whole text,
    including control characters and terminal escapes on otherwise ASCII lines."""
    import ftfy

    text = "\n".join(
        ["# Plan", "Done âœ… here", "plain `kubectl get pods`", "bell\x07 and \x1b[31mred\x1b[0m"]
        + ["ascii line"] * 3
        + ["last â€” line"]
    )
    whole = ftfy.fix_text(
        text,
        normalization=None,
        fix_line_breaks=False,
        uncurl_quotes=False,
        fix_character_width=False,
        fix_latin_ligatures=False,
        unescape_html=False,
    )
    assert clean_text(text).splitlines()[:4] == whole.splitlines()[:4]
    assert clean_text(text) == whole
    assert "✅" in clean_text(text) and "\x1b" not in clean_text(text)
