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


DOCUMENTS = st.lists(blocks(), max_size=12).map("\n\n".join)


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
@given(st.binary(max_size=300))
def test_garbage_bytes_import_or_fail_cleanly(data: bytes) -> None:
    with contextlib.suppress(MarkdownImportError):
        import_markdown(decode(data, "garbage.md"), "garbage.md")
