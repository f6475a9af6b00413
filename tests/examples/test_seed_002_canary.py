"""examples/seeds/002-canary.yaml against the real canary lab: real nginx weights, real
Prometheus scraping two real backends under load, phasegate as its own process.

The plan is run as shipped (its bakes are seconds already): a healthy canary is promoted
through the seed's stages, and a canary broken mid-rollout (from outside, as a regression
arrives) is rolled back by the seed's error-rate or p95 trigger.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate.store.sqlite import SqliteStore
from tests.canary.conftest import fresh
from tests.conftest import CLI, items
from tests.lab.conftest import Lab, eventually, running_lab

PLAN = Path(__file__).resolve().parents[2] / "examples" / "seeds" / "002-canary.yaml"
STAGES = ["internal-testing", "canary-validation", "limited-production", "full-production"]

Event = tuple[str, dict[str, Any]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    # The load must outlast the module (three runs and the drains between them).
    with running_lab(tmp_path_factory, rate=60, load_seconds=900) as running:
        yield running


@pytest.fixture
def fresh_lab(lab: Lab) -> Iterator[Lab]:
    yield from fresh(lab)


def events(cli: CLI) -> list[Event]:
    """The last run's journal, read from the store; empty while no run exists yet."""
    found = cli("status", "last", "--json")
    if found.returncode != 0:
        return []
    run_id = cli.status()["run"]["id"]
    store = SqliteStore(cli.state_dir)
    try:
        return [(etype, data) for _, _, etype, data in store.events(run_id)]
    finally:
        store.close()


def canary_weights(journal: list[Event]) -> list[int]:
    return [d["applied"]["canary"] for e, d in journal if e == "traffic.changed"]


def tripped(journal: list[Event], action: str) -> list[str]:
    return [d["trigger"] for e, d in journal if e == "trigger.tripped" and d["action"] == action]


def break_canary_at_second_stage(cli: CLI, lab: Lab, **fault: float) -> list[Event]:
    """Run the plan; once the journal shows the canary at 50 % (the seed's second stage,
    baking for 10 s), inject ``fault`` into the canary; return the finished run's journal."""
    proc = cli.spawn("run", str(PLAN), env=lab.env())
    try:
        eventually(
            lambda: canary_weights(events(cli)),
            lambda weights: 50 in weights or proc.poll() is not None,
            timeout=90,
            what="the canary at 50 %",
        )
        lab.canary.set_fault(**fault)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 1, out + err
    return events(cli)


def assert_rolled_back_by(cli: CLI, journal: list[Event], trigger: str) -> None:
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["traffic"]["weights"] == {"stable": 100, "canary": 0}
    assert tripped(journal, "rollback") == [trigger]
    rollback = [d for e, d in journal if e == "traffic.changed"][-1]
    assert rollback["reason"] == "rollback" and rollback["applied"] == {"stable": 100, "canary": 0}
    assert rollback["detected_by"] == f"trigger:{trigger}"
    assert rollback["detection_latency"] > 0
    # Nothing moved traffic forward once the canary was broken at 50 %.
    assert max(canary_weights(journal)) == 50
    checks = items(status)
    assert checks["verify:canary-drained"]["status"] == "passed"
    assert checks["verify:stable-answers"]["status"] == "passed"
    assert status["rollback"]["overrun"] is False  # the seed's "< 2 minutes"


def test_the_plan_validates_without_a_lab(cli: CLI) -> None:
    result = cli("validate", str(PLAN))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 triggers" in result.stdout


def test_healthy_canary_goes_through_every_stage_to_100_percent(cli: CLI, fresh_lab: Lab) -> None:
    result = cli("run", str(PLAN), env=fresh_lab.env(), timeout=150)
    assert result.returncode == 0, result.stdout + result.stderr
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    assert status["traffic"]["weights"] == {"stable": 0, "canary": 100}
    journal = events(cli)
    # The seed's allocation table, then the promotion.
    assert canary_weights(journal) == [0, 50, 80, 90, 95, 100]
    assert not tripped(journal, "rollback")
    by_key = items(status)
    for stage in STAGES:
        assert by_key[f"{stage}/analysis-stage-health"]["status"] == "succeeded", stage
    measured = [d for e, d in journal if e == "analysis.measured" and "metric" in d]
    assert len(measured) >= 4 * 2 * 3  # four stages, two metrics, three measurements
    assert not [d for d in measured if d["status"] == "failed"]


def test_errors_mid_rollout_trip_the_error_rate_trigger(cli: CLI, fresh_lab: Lab) -> None:
    journal = break_canary_at_second_stage(cli, fresh_lab, error_rate=0.5)
    assert_rolled_back_by(cli, journal, "error-rate")
    assert "high-error-rate" in tripped(journal, "alert")  # the seed's alert fired too


def test_slow_canary_mid_rollout_trips_the_p95_trigger(cli: CLI, fresh_lab: Lab) -> None:
    journal = break_canary_at_second_stage(cli, fresh_lab, latency=0.6)
    assert_rolled_back_by(cli, journal, "p95-latency")


def test_demo_script_is_valid_shell() -> None:
    script = PLAN.parents[1] / "canary-demo.sh"
    assert subprocess.run(["sh", "-n", str(script)], timeout=10).returncode == 0
