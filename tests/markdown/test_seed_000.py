"""Seed 000 imports into the plan a reader would write by hand."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from phasegate.markdown import import_markdown_file
from tests import shared

SEED = shared.SHARED / "seeds" / "000_8baaebd0ebb1cf69.txt"
pytestmark = pytest.mark.skipif(not SEED.is_file(), reason=f"seed 000 not found at {SEED}")


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return import_markdown_file(SEED).data


def _phase(plan: dict[str, Any], phase_id: str) -> dict[str, Any]:
    return next(p for p in plan["phases"] if p["id"] == phase_id)


def test_its_two_named_phases_come_first_with_metadata(plan: dict[str, Any]) -> None:
    ids = [p["id"] for p in plan["phases"]]
    assert ids[:2] == ["phase-1-implementation", "phase-2-verification"]
    first = _phase(plan, "phase-1-implementation")
    assert first["metadata"]["target"] == "2026-01-16"
    assert next(g["manual"] for g in first["gates"]) == "gate.py created"
    assert all(g["checked"] is True for g in first["gates"])


def test_phases_run_in_document_order(plan: dict[str, Any]) -> None:
    phases = plan["phases"]
    for previous, phase in itertools.pairwise(phases):
        assert phase["needs"] == [previous["id"]]


def test_deployment_commands_become_named_steps(plan: dict[str, Any]) -> None:
    steps = _phase(plan, "deployment-steps")["steps"]
    assert [s["name"] for s in steps] == [
        "Step 1: Archive templates",
        "Step 7: Create spec pack",
        "Step 8: Run all gates",
    ]
    assert steps[0]["run"].startswith("mkdir -p Control_Plane/modules/design_framework/_archive")
    assert steps[2]["run"] == "python3 Control_Plane/cp.py gate --all PROOF-001"


def test_smoke_and_health_tables_become_checks_with_parsed_expectations(
    plan: dict[str, Any],
) -> None:
    gates = {g["name"]: g for g in _phase(plan, "verification")["gates"]}
    assert gates["Gate help"] == {
        "name": "Gate help",
        "command": "python3 Control_Plane/scripts/gate.py --help",
        "expect": {"exit": 0},
    }
    assert gates["G0 run"]["expect"] == {"exit": 0}
    assert gates["Scripts exist"]["file"] == "Control_Plane/scripts/gate.py"
    assert gates["Scripts exist"]["expect"] == {"exists": True}
    assert gates["Spec pack exists"]["expect"] == {"count": 8}
    assert gates["Logs exist"]["expect"] == {"count": {">=": 1}}


def test_rollback_commands_become_the_plans_rollback(plan: dict[str, Any]) -> None:
    rollback = plan["phases"][0]["rollback"]
    assert [r["name"] for r in rollback] == [
        "Restore archived templates",
        "Remove gate.py",
        "Git revert if committed",
    ]
    assert rollback[1]["run"] == "rm Control_Plane/scripts/gate.py"
    assert "git checkout -- Control_Plane/cp.py" in rollback[2]["run"]
