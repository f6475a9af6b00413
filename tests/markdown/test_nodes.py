"""The plan nodes of markdown/nodes.py describe what the importer emits (nodes_check.py
reads them at run time): on the documents of tests/markdown/cases here, on every shared
corpus document in test_corpus.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.markdown import import_markdown_file
from phasegate.markdown.nodes import CheckNode, Choose, PhaseNode, PlanNode, StepNode
from tests.markdown import nodes_check

CASES = sorted((Path(__file__).parent / "cases").glob("*.md"))


@pytest.mark.parametrize("document", CASES, ids=lambda p: p.name)
def test_imported_plan_holds_only_declared_keys_and_kinds(document: Path) -> None:
    data = import_markdown_file(document).data
    assert data["phases"], "the case imports to a plan with phases"
    assert nodes_check.problems(data, PlanNode) == []


def test_the_check_finds_an_undeclared_key_a_wrong_kind_and_a_missing_key() -> None:
    step = {"name": "deploy", "run": "./deploy.sh", "retries": 2}
    assert nodes_check.problems(step, StepNode, "step") == ["step.retries: not a key of StepNode"]
    wrong = nodes_check.problems({"manual": "look", "checked": "yes"}, CheckNode, "gate")
    assert wrong == ["gate.checked: 'yes' is not bool"]
    # an expectation the importer reads is typed; one the author wrote is their YAML
    assert nodes_check.problems({"command": "x", "expect": {"exit": 0}}, CheckNode) == []
    count = {"file": "logs/", "expect": {"count": {">=": "1"}}}
    assert nodes_check.problems(count, CheckNode) == [], "an author's expect may hold text"
    # a choice without its options, deep in a phase: named by its path
    phase = {"id": "a", "steps": [{"pause": {"choose": {"var": "X"}}}]}
    found = nodes_check.problems(phase, PhaseNode, "phase")
    assert len(found) == 1
    assert found[0].startswith("phase.steps[0].pause: {'choose': {'var': 'X'}} is none of")
    assert nodes_check.problems({"var": "X"}, Choose, "choose") == [
        "choose.options: required by Choose"
    ]
