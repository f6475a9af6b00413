"""Seeds 001 and 002: triggers with parsed thresholds, rollback budgets, a traffic plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from phasegate.markdown import import_markdown_file
from tests import shared
from tests.conftest import CLI

SEEDS = shared.SHARED / "seeds"
SEED_001 = SEEDS / "001_74c54c07e0b79878.txt"
SEED_002 = SEEDS / "002_f92ff6ebb959961d.txt"
pytestmark = pytest.mark.skipif(not SEED_002.is_file(), reason=f"seeds not found at {SEEDS}")


def _triggers(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in data["triggers"]}


def test_seed_001_stages_budgets_and_its_two_metric_triggers() -> None:
    data = import_markdown_file(SEED_001).data
    stages = [p for p in data["phases"] if p["id"].startswith("stage-")]
    assert [p["id"][:7] for p in stages] == [f"stage-{n}" for n in range(1, 6)]
    assert [p["rollback_budget"] for p in stages] == ["60s", "180s", "240s", "300s", "300s"]
    assert data["budget"] == {"rollback": "300s"}
    triggers = _triggers(data)
    assert triggers["framework-file-access-time"]["check"]["failure"] == "value > 0.05"
    assert triggers["memory-usage"]["check"]["failure"] == "value > 52428800.0"
    assert {t["action"] for t in triggers.values()} == {"rollback"}


def test_seed_002_phases_traffic_plan_and_rollback_triggers() -> None:
    result = import_markdown_file(SEED_002)
    data = result.data
    named = [p["id"] for p in data["phases"] if p["id"].startswith("phase-")]
    assert [p[:7] for p in named] == [f"phase-{n}" for n in range(1, 6)]
    assert data["traffic"]["backends"] == ["sandbox", "canary", "production"]
    ramp = next(p for p in data["phases"] if any("set_weight" in s for s in p.get("steps", [])))
    weights = [s["set_weight"] for s in ramp["steps"] if "set_weight" in s]
    assert weights[1] == {"sandbox": 50, "canary": 50, "production": 0}
    assert weights[-1] == {"sandbox": 5, "canary": 5, "production": 90}
    # the weeks between rows are waits a run cannot sleep through: a person's proceed
    # before every weight but the first, naming the row it leads to and the document's wait
    kinds = ["pause" if "pause" in s else "weight" for s in ramp["steps"]]
    assert kinds == ["weight"] + ["pause", "weight"] * 4
    pauses = [s for s in ramp["steps"] if "pause" in s]
    assert {p["pause"] for p in pauses} == {"approve"}
    assert pauses[0]["name"] == (
        "proceed to Week 5-6: Internal testing — the document waits 28 days first"
    )
    triggers = _triggers(data)
    assert triggers["error-rate"]["check"]["failure"] == "value > 0.01"
    assert triggers["latency-p95"]["check"]["failure"] == "value > 0.5"
    assert triggers["health-check"]["fail_after"] == 3
    for name in ("error-rate", "latency-p95", "health-check"):
        assert triggers[name]["action"] == "rollback"
        assert "needs_binding" in triggers[name]  # the seed never says where metrics live
    assert triggers["test-coverage"]["action"] == "alert"  # the Key Metrics alert column


def test_validate_on_the_document_lists_what_blocks_it(cli: CLI) -> None:
    document = cli.cwd / "ROLLOUT.md"
    document.write_bytes(SEED_002.read_bytes())
    result = cli("validate", "ROLLOUT.md")
    assert result.returncode == 2
    assert "not executable as written" in result.stderr
    # Lines point into the document, not into the generated plan.
    assert 'ROLLOUT.md:151: triggers[0]: needs binding: the metric behind "Error rate"' in (
        result.stderr
    )
    assert "ROLLOUT.md:140: traffic: needs binding" in result.stderr
    assert "traffic: needs binding: the router" in result.stderr
    doc = json.loads(cli("validate", "ROLLOUT.md", "--json").stdout)
    assert doc["valid"] is True and doc["executable"] is False
    assert len(doc["blockers"]) >= 4
    run = cli("run", "ROLLOUT.md")
    assert run.returncode == 2 and "not executable as written" in run.stderr
