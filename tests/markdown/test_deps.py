"""Stated dependencies -> needs: after/Depends on lines, dependency tables, mermaid graphs."""

from __future__ import annotations

import textwrap
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.markdown import import_markdown
from phasegate.markdown.deps import split_names
from phasegate.markdown.mermaid import parse_mermaid


def _import(text: str) -> Any:
    return import_markdown(textwrap.dedent(text))


def _needs(result: Any) -> dict[str, list[str]]:
    return {p["id"]: p.get("needs", []) for p in result.data["phases"]}


THREE = """\
## Task 1: Backup
```bash
./backup.sh
```
## Task 2: Deploy API
```bash
./deploy.sh
```
## Task 3: Smoke
{extra}
```bash
./smoke.sh
```
"""


def test_after_line_makes_the_enclosing_phase_need_the_named_ones() -> None:
    result = _import(THREE.format(extra="after: task-1-backup, Deploy API"))
    assert _needs(result)["task-3-smoke"] == ["task-2-deploy-api", "task-1-backup"]
    entries = [d for d in result.report["dependencies"] if d["via"] == "after"]
    assert [d["applied"] for d in entries] == [True, True]


def test_depends_on_and_blocked_by_name_tasks_by_number() -> None:
    for line in ("Depends on Task 1 and #2", "Blocked by task 1", "**Depends on:** `1`"):
        result = _import(THREE.format(extra=line))
        assert "task-1-backup" in _needs(result)["task-3-smoke"], line


def test_metadata_line_under_a_heading_is_read_too() -> None:
    result = _import(THREE.format(extra="**Depends on:** Backup"))
    assert _needs(result)["task-3-smoke"] == ["task-2-deploy-api", "task-1-backup"]


def test_unknown_names_are_reported_not_applied() -> None:
    result = _import(THREE.format(extra="Depends on: the database team"))
    entry = next(d for d in result.report["dependencies"] if d["via"] == "after")
    assert entry["applied"] is False
    assert "no phase named 'the database team'" in entry["why"]


def test_an_edge_against_the_document_order_is_refused() -> None:
    text = THREE.format(extra="").replace(
        "./backup.sh\n", "./backup.sh\n```\nafter: Smoke\n```sh\n"
    )
    result = _import(text)
    entry = next(d for d in result.report["dependencies"] if d["via"] == "after")
    assert entry["applied"] is False
    assert "cycle" in entry["why"]
    assert _needs(result)["task-1-backup"] == []


def test_a_phase_needing_itself_is_reported() -> None:
    result = _import(THREE.format(extra="after: Task 3"))
    entry = next(d for d in result.report["dependencies"] if d["via"] == "after")
    assert entry == {**entry, "applied": False, "why": "a phase cannot need itself"}


def test_nested_task_headings_name_their_phase() -> None:
    result = _import(
        """\
        ## Phase 1: Prep
        ### Task 1.1: Snapshot
        ```bash
        ./snap.sh
        ```
        ## Phase 2: Ship
        ```bash
        ./ship.sh
        ```
        ## Phase 3: Verify
        - Depends on: 1.1
        """
    )
    assert _needs(result)["phase-3-verify"] == ["phase-2-ship", "phase-1-prep"]


def test_a_dependencies_table_adds_needs_between_rows() -> None:
    result = _import(
        THREE.format(extra="")
        + textwrap.dedent(
            """\
            ## Order
            | # | Task | Depends on |
            |---|---|---|
            | 3 | Smoke | Task 1, #2 |
            | 2 | Deploy | None |
            | 9 | Nothing | 1 |
            """
        )
    )
    needs = _needs(result)
    assert needs["task-3-smoke"] == ["task-2-deploy-api", "task-1-backup"]
    table = [d for d in result.report["dependencies"] if d["via"] == "table"]
    assert [d["applied"] for d in table] == [True, True, False]


def test_a_dependency_named_column_is_not_a_prerequisite_column() -> None:
    result = _import(THREE.format(extra="| Dependency | Risk |\n|---|---|\n| Backup | High |"))
    assert not [d for d in result.report["dependencies"] if d["via"] == "table"]


MERMAID = """\
```mermaid
graph TD
    B[Deploy API] --> S((Smoke)) & X[Unrelated]
    A[Backup] -->|then| B
    S --- A
    A -.-> S
```
"""


def test_mermaid_edges_resolve_by_label_and_id() -> None:
    result = _import(THREE.format(extra="") + "\n## Graph\n" + MERMAID)
    needs = _needs(result)
    assert needs["task-3-smoke"] == ["task-2-deploy-api", "task-1-backup"]
    mermaid = [d for d in result.report["dependencies"] if d["via"] == "mermaid"]
    assert [(d["from"], d["applied"]) for d in mermaid] == [
        ("B", True),
        ("B", False),
        ("A", True),
        ("A", True),
    ]


def test_mermaid_parsing() -> None:
    graph = parse_mermaid(
        'flowchart LR\n  a["Build <br> it"] --> b{Ship} --> c\n  a --- c; c -- ok --> d\n'
        "  %% a --> z\n  subgraph s\n  e & f ==> g:::hot\n  end\n  x <--> y\n  p --o q\n"
    )
    assert [(a, b) for a, b, _ in graph.edges] == [
        ("a", "b"),
        ("b", "c"),
        ("c", "d"),
        ("e", "g"),
        ("f", "g"),
    ]
    assert graph.labels == {"a": "Build it", "b": "Ship"}
    assert parse_mermaid("sequenceDiagram\n  a->>b: hi").edges == []


def test_split_names() -> None:
    assert split_names("`backup`, Deploy API and [Smoke](#task-3-smoke).") == [
        "backup",
        "Deploy API",
        "[Smoke](#task-3-smoke)",
    ]
    assert split_names("None") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab1 -=>.|&;[](){}"%:o\nx<~')), max_size=80))
def test_mermaid_parsing_never_raises(body: str) -> None:
    parse_mermaid("graph TD\n" + body)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "after: ",
                "Depends on ",
                "Blocked by",
                "Task 1",
                "#2",
                "1.1",
                ",",
                " and ",
                "`x`",
                "[a](#b)",
                "**",
                "->",
                "Smoke",
                "\n",
                "| Depends on |\n|---|\n| 3 |\n",
                "```mermaid\ngraph\nA --> B\n```\n",
                "<!-- phasegate: {needs: [x]} -->\n",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_stated_dependencies_never_break_an_import(extra: str) -> None:
    result = _import(THREE.format(extra=extra))
    assert result.data["phases"]
