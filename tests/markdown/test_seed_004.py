"""Seed 004 imports its tasks as gates with their ticks, and its child slice order as needs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from phasegate.markdown import import_markdown_file
from tests import shared

SEED = shared.SHARED / "seeds" / "004_6c781fd5fe637f60.txt"
pytestmark = pytest.mark.skipif(not SEED.is_file(), reason=f"seed 004 not found at {SEED}")
CHAIN = [
    "integration-events-model",
    "integrator-shadow-mode",
    "integrator-cutover",
    "integration-blocked-flow",
]


@pytest.fixture(scope="module")
def result() -> Any:
    return import_markdown_file(SEED)


def _phases(result: Any) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in result.data["phases"]}


def test_its_four_phases_run_in_document_order(result: Any) -> None:
    phases = _phases(result)
    ids = [p["id"] for p in result.data["phases"]][:4]
    assert ids == [
        "phase-1-parent-rollout-contract",
        "phase-2-child-preparation-and-gate-dispatch",
        "phase-3-rollout-readiness-evidence",
        "phase-4-validation-and-review-readiness",
    ]
    assert phases[ids[3]]["needs"] == [ids[2]]


def test_tasks_become_manual_gates_keeping_their_ticks(result: Any) -> None:
    gates = _phases(result)["phase-4-validation-and-review-readiness"]["gates"]
    ticked = {g["manual"]: g.get("checked", False) for g in gates}
    assert ticked["Verify parent and child preparation docs are internally consistent."] is True
    assert ticked["Verify no unchecked required tasks remain in this plan."] is False
    assert ticked["Confirm parent remains a rollout container (not direct build work)."] is False
    # Phase 2's done tasks precede its "Verification:" procedure and guard it (pre_gates)
    all_gates = [
        g
        for p in result.data["phases"]
        for g in [
            *p.get("gates", []),
            *(x for s in p.get("steps", []) for x in s.get("pre_gates", [])),
        ]
    ]
    assert sum(1 for g in all_gates if g.get("checked")) == 15
    assert sum(1 for g in all_gates if "manual" in g and not g.get("checked")) == 3


def test_verification_commands_become_checks(result: Any) -> None:
    gates = _phases(result)["phase-1-parent-rollout-contract"]["gates"]
    commands = [g["command"] for g in gates if "command" in g]
    assert commands[1] == "sed -n '1,200p' todos/integration-orchestrator-rollout/state.yaml"


def test_the_child_slice_order_becomes_needs(result: Any) -> None:
    phases = _phases(result)
    assert phases[CHAIN[0]]["needs"] == ["phase-1-parent-rollout-contract"]
    for before, after in itertools.pairwise(CHAIN):
        assert phases[after]["needs"] == [before]
        assert phases[after]["metadata"] == {"declared_by": "dependency chain, line 23"}
    applied = [(d["from"], d["to"]) for d in result.report["dependencies"] if d["applied"]]
    assert applied == list(itertools.pairwise(CHAIN))
