"""Every shared seed and corpus document imports, and the emitted plan loads (round trip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from phasegate.markdown import import_markdown_file
from phasegate.markdown.emit import ImportResult
from phasegate.markdown.errors import MarkdownImportError
from phasegate.markdown.nodes import PlanNode
from phasegate.markdown.parse import Fence, Item, clean_text, decode, parse
from phasegate.markdown.shell import is_shell_fence
from phasegate.plan.loader import load_plan_text
from tests import shared
from tests.markdown import nodes_check

SHARED = shared.SHARED
DOCUMENTS = sorted(
    [*SHARED.glob("seeds/*"), *SHARED.glob("corpus/*.md")] if SHARED.is_dir() else []
)
needs_shared = pytest.mark.skipif(
    not DOCUMENTS, reason=f"no shared documents at {SHARED} (seeds/, corpus/*.md)"
)


@needs_shared
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_document_imports_and_round_trips(document: Path) -> None:
    result = _import(document)
    if result is None:
        return
    loaded = load_plan_text(result.yaml_text, document.with_suffix(".plan.yaml"))
    assert loaded.plan.phases
    assert result.report["counts"]["phases"] == len(loaded.plan.phases)
    assert yaml.safe_load(result.yaml_text) == result.data
    # the plan holds only keys and kinds markdown/nodes.py declares
    assert nodes_check.problems(result.data, PlanNode) == []
    # every entry carries its source line as a comment
    assert f"# {document.name}:" in result.yaml_text


@needs_shared
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_rollback_heading_with_commands_becomes_rollback(document: Path) -> None:
    result = _import(document)
    if result is None:
        return
    fenced_rollback = list(result.report["rollback"])
    # The rollback of one way ("Option A ... Rollback: ...", or a way back chosen on rollback)
    # is a phase action bound to that way's choice: it runs on rollback only when chosen.
    actions = [a for p in result.data["phases"] for a in p.get("rollback", [])]
    assert len(actions) == len(fenced_rollback)
    for entry in fenced_rollback:
        if entry.get("when"):
            assert any(a.get("when") == entry["when"] for a in actions), entry


def _import(document: Path) -> ImportResult | None:
    """The import, or None for a document with nothing a plan could run (issue 11 §12: it
    exits 2 saying so, instead of a plan that "succeeds" doing nothing); such a document has
    no shell fence and no task item the importer could have mapped."""
    try:
        return import_markdown_file(document)
    except MarkdownImportError as exc:
        assert "nothing to run" in str(exc), str(exc)
        text = clean_text(decode(document.read_bytes(), document.name))
        for section in parse(text).root.walk():
            for block in section.blocks:
                assert not (isinstance(block, Item) and block.checked is not None), block
        return None


def _mapped_lines(report: dict[str, Any]) -> set[int]:
    # "review": a line of a shell fence that is text or never ends, reported with its line
    # (issue 11 §2): accounted for, not dropped. "reference": a troubleshooting/example section.
    # "monitors": a never-ending observation command, run beside its phase (markdown/monitors.py).
    # "triggers": a failure condition watched during the run.
    kinds = (
        "steps",
        "checks",
        "rollback",
        "rollback_checklist",
        "review",
        "manual",
        "reference",
        "monitors",
        "triggers",  # a rollback criterion written as a task box (§6)
        "covered",  # ... or one a failing step already triggers
    )
    return {entry["line"] for kind in kinds for entry in report.get(kind, [])}


@needs_shared
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_shell_fence_and_task_item_is_mapped(document: Path) -> None:
    """The held-out acceptance bars, checked on what we have: every shell fence becomes steps,
    checks or rollback; every task-list item becomes a gate (or rollback checklist)."""
    text = clean_text(decode(document.read_bytes(), document.name))
    result = _import(document)
    if result is None:
        return
    report = result.report
    mapped = _mapped_lines(report)
    for section in parse(text).root.walk():
        for block in section.blocks:
            if isinstance(block, Fence) and is_shell_fence(block.lang, block.text):
                span = range(block.line, block.line + block.text.count("\n") + 2)
                assert mapped & set(span) or not block.text.strip(), (block.line, block.text)
            elif isinstance(block, Item) and block.checked is not None:
                assert block.line in mapped, (block.line, block.text)
