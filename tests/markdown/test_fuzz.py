"""Generated Markdown never makes the importer raise anything but MarkdownImportError."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.markdown import MarkdownImportError, import_markdown
from phasegate.markdown.parse import decode
from phasegate.plan.loader import load_plan_text

WORDS = st.sampled_from(
    [
        "Phase 1:",
        "Stage",
        "Day 0",
        "Rollback",
        "Verify",
        "Smoke tests",
        "Success Criteria",
        "Checklist",
        "Week 2",
        "1.",
        "2)",
        "Revert",
        "Health",
        "deploy",
        "api -> web",
        "${VERSION}",
        "$${X}",
        "`make test`",
        "**Owner:**",
        "✅",
        "âœ…",
        "‚úÖ",
        "日本語",
        "|",
        "<!-- phasegate: skip -->",
        "{",
        "}",
        "\\",
        "#",
        "-",
        "*",
        "`",
        "~~~",
        "```",
    ]
)
TEXT = st.one_of(st.text(max_size=40), st.lists(WORDS, max_size=6).map(" ".join))
SHELLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "$ ls -la",
                "> echo hi",
                "# Step 1: backup",
                "cp -a a b",
                "for x in a; do",
                "done",
                "if true; then",
                "fi",
                "cat <<EOF",
                "EOF",
                "X=1",
                "echo ${X} ${Y}",
                "echo ${A:-x} ${#B[@]} $$${C} ${RUN_DIR}",
                "",
            ]
        ),
        TEXT,
    ),
    max_size=8,
).map("\n".join)


@st.composite
def blocks(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["heading", "setext", "fence", "list", "table", "text"]))
    text = draw(TEXT)
    if kind == "heading":
        return "#" * draw(st.integers(1, 7)) + " " + text
    if kind == "setext":
        return text + "\n" + draw(st.sampled_from(["===", "---"]))
    if kind == "fence":
        marker = draw(st.sampled_from(["```", "~~~", "````"]))
        info = draw(
            st.sampled_from(
                [
                    "",
                    "bash",
                    "sh",
                    "console",
                    "yaml",
                    "text",
                    'sh {"name": "x"}',
                    "bash { name=y check expect.exit=2 }",
                    "{ undo=z }",
                    "zsh {",
                    'bash {"a":',
                ]
            )
        )
        indent = draw(st.sampled_from(["", "  ", "   "]))
        body = draw(SHELLISH)
        close = draw(st.sampled_from([marker, "", "```"]))
        return f"{indent}{marker}{info}\n{body}\n{indent}{close}"
    if kind == "list":
        items = draw(
            st.lists(
                st.tuples(st.sampled_from(["- ", "- [ ] ", "- [x] ", "1. ", "  - [X] "]), TEXT),
                max_size=5,
            )
        )
        return "\n".join(prefix + item for prefix, item in items)
    if kind == "table":
        cols = draw(st.integers(1, 4))
        header = draw(
            st.lists(
                st.sampled_from(["Test", "Command", "Expected", "Check", "x"]),
                min_size=cols,
                max_size=cols,
            )
        )
        rows = draw(
            st.lists(
                st.lists(TEXT.map(lambda t: t.replace("\n", " ")), min_size=cols, max_size=cols),
                max_size=3,
            )
        )
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * cols]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    return text


HTML_TEXT = st.one_of(
    TEXT.map(lambda t: t.replace("<", "&lt;")),
    st.sampled_from(["Rollback", "Phase 2: Deploy", "Verify", "<b>bold</b>", "a &amp; b", ""]),
)


@st.composite
def html(draw: st.DrawFn) -> str:
    """HTML blocks as runbooks carry them, including broken and unclosed ones (issue 11 §11)."""
    kind = draw(
        st.sampled_from(["heading", "pre", "table", "list", "details", "opaque", "div", "raw"])
    )
    text = draw(HTML_TEXT)
    if kind == "heading":
        level = draw(st.integers(1, 7))
        close = draw(st.sampled_from([f"</h{level}>", "", "</h2>"]))
        return f'<h{level} align="center">{text}{close}'
    if kind == "pre":
        lang = draw(st.sampled_from(["", ' class="language-bash"', ' class="lang-sh"', " lang=x"]))
        body = draw(SHELLISH).replace("<", "&lt;")
        return f"<pre><code{lang}>{body}</code></pre>"
    if kind == "table":
        cells = draw(st.lists(st.lists(HTML_TEXT, min_size=1, max_size=3), max_size=4))
        head = draw(st.sampled_from(["<thead><tr><th>Check</th><th>Command</th></tr></thead>", ""]))
        rows = "".join(
            "<tr>" + "".join(f"<td><code>{c}</code></td>" for c in row) + "</tr>\n" for row in cells
        )
        close = draw(st.sampled_from(["</table>", "", "</td></tr>"]))
        return f"<table>\n{head}\n{rows}{close}"
    if kind == "list":
        items = draw(st.lists(st.tuples(st.booleans(), st.booleans(), HTML_TEXT), max_size=4))
        tag = draw(st.sampled_from(["ul", "ol"]))
        boxes = {
            (True, True): '<input type="checkbox" checked>',
            (True, False): "<input type=checkbox>",
        }
        body = "".join(
            f"<li>{boxes.get((box, ticked), '')}{t}<ul><li>{t}</li></ul></li>\n"
            for box, ticked, t in items
        )
        return f"<{tag}>\n{body}</{tag}>"
    if kind == "details":
        inner = draw(st.sampled_from(["", "\n\n```bash\ntrue\n```\n\n", "<pre>x</pre>"]))
        close = draw(st.sampled_from(["</details>", ""]))
        return f"<details>\n<summary>{text}</summary>{inner}\n{close}"
    if kind == "opaque":
        tag = draw(st.sampled_from(["script", "style", "svg", "iframe", "img", "input", "foo-bar"]))
        return f"<{tag} src=x>{text}</{tag}>"
    if kind == "div":
        return f"<div>\n\n- [ ] {text}\n\n</div>"
    return "<" + draw(st.text(max_size=20))


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Nested lists with fences inside their items (issue 11 fuzz acceptance)."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        depth = draw(st.integers(0, 3))
        pad = "  " * depth
        marker = draw(st.sampled_from(["- ", "1. ", "- [ ] ", "* "]))
        lines.append(pad + marker + draw(TEXT).replace("\n", " "))
        if draw(st.booleans()):
            inner = pad + " " * len(marker)
            body = draw(SHELLISH).replace("\n", "\n" + inner)
            lines.append(f"\n{inner}```bash\n{inner}{body}\n{inner}```\n")
    return "\n".join(lines)


DOCUMENTS = st.lists(st.one_of(blocks(), html(), nested()), max_size=12).map("\n\n".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_generated_markdown_imports_or_fails_cleanly(text: str) -> None:
    try:
        result = import_markdown(text, "fuzz.md")
    except MarkdownImportError:
        return
    from pathlib import Path

    load_plan_text(result.yaml_text, Path("fuzz.plan.yaml"))


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.tuples(st.sampled_from([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b""]), TEXT).map(
            lambda p: p[0] + p[1].encode("utf-16-le" if p[0] == b"\xff\xfe" else "utf-8")
        ),
    )
)
def test_garbage_bytes_import_or_fail_cleanly(data: bytes) -> None:
    with contextlib.suppress(MarkdownImportError):
        import_markdown(decode(data, "garbage.md"), "garbage.md")
