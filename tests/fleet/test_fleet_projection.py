"""A sampled phase's projections, budget check, risk score and the report's per-stratum table,
through the real CLI (local executor): two zones of 10 hosts, a 20 % sample (2 per zone);
every host of zone a reports tokens=100 and takes no time to speak of, zone b tokens=200."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import DEPLOY, journal, ledger

STEP = DEPLOY + '; echo "tokens=$HOST_TOK" >> "$PHASEGATE_OUTPUT"'


def write(
    root: Path, *, limit: float | None = None, risk: bool = False, fail_b: bool = False
) -> None:
    hosts: list[dict[str, Any]] = []
    for az, tok in (("a", 100), ("b", 200)):
        for i in range(10):
            name = f"{az}{i:02d}"
            hosts.append(
                {
                    "name": name,
                    "groups": ["web"],
                    "labels": {
                        "az": az,
                        "tok": tok,
                        "dir": str(root / "hosts" / name),
                        "fail": fail_b and az == "b",
                    },
                }
            )
    sample: dict[str, Any] = {"strata": ["az"], "pct": "20%"}
    if risk:
        sample["risk"] = "double(size(strata.filter(s, s.failed > 0))) / double(size(strata))"
        sample["risk_max"] = 0.2
    plan: dict[str, Any] = {
        "version": 1,
        "name": "projection",
        "vars": {"LEDGER": str(root / "ledger")},
        "targets": {"hosts": hosts, "executor": "local"},
        "phases": [
            {
                "id": "canary",
                "hosts": "'web' in groups",
                "sample": sample,
                "max_fail_percentage": 100,
                "steps": [{"name": "install", "run": STEP, "undo": "true"}],
            }
        ],
    }
    if limit is not None:
        plan["budget"] = {"resources": {"tokens": {"limit": limit}}}
    (root / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def projection(cli: CLI) -> dict[str, Any]:
    run_id = cli.status()["run"]["id"]
    return [e for e in journal(cli.state_dir, run_id) if e["type"] == "fleet.projection"][-1]


def test_tokens_projected_by_stratum_within_budget_and_in_the_report(cli: CLI) -> None:
    write(cli.cwd, limit=3500)
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert len(ledger(cli.cwd)) == 4  # the sample only
    found = projection(cli)
    assert found["hosts"] == 20
    assert found["strata"] == [
        {"stratum": "az=a", "size": 10, "picked": 2, "succeeded": 2, "failed": 0, "fail_rate": 0.0},
        {"stratum": "az=b", "size": 10, "picked": 2, "succeeded": 2, "failed": 0, "fail_rate": 0.0},
    ]
    tokens = next(p for p in found["projections"] if p["metric"] == "tokens")
    # 10 x 100 + 10 x 200; no spread within a zone, so no interval width.
    assert (tokens["estimate"], tokens["low"], tokens["high"]) == (3000, 3000, 3000)
    assert tokens["measured"] == 4 and tokens["budget"] == 3500 and tokens["over"] is False
    duration = next(p for p in found["projections"] if p["metric"] == "duration")
    assert duration["low"] <= duration["estimate"] <= duration["high"]
    # One batch of 20 hosts within max_connections 20: one wave, wall = mean host time.
    assert abs(duration["wall"] - duration["estimate"] / 20) < 1e-6
    run_id = cli.status()["run"]["id"]
    report = cli("report", run_id, "--format", "md").stdout
    assert "**Sample of `canary`** (for 20 hosts)" in report
    assert "| az=a | 10 | 2 | 2 | 0 | 0.00 |" in report
    assert (
        "- projected `tokens`: 3000 (90 % interval 3000 to 3000, from 4 hosts); budget 3500 (p50)"
        in report
    )


def test_a_projection_over_budget_waits_for_an_approval(cli: CLI) -> None:
    write(cli.cwd, limit=2500)
    result = cli("run", "plan.yaml")
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr
    assert "tokens projected 3000 > budget 2500" in result.stdout + result.stderr
    tokens = next(p for p in projection(cli)["projections"] if p["metric"] == "tokens")
    assert tokens["over"] is True
    run_id = cli.status()["run"]["id"]
    assert cli("approve", run_id, "--check", "canary/fleet").returncode == 0
    resumed = cli("resume", run_id)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr
    assert len(ledger(cli.cwd)) == 4  # no sampled host ran twice


def test_a_risk_score_above_its_bound_fails_the_canary(cli: CLI) -> None:
    write(cli.cwd, risk=True, fail_b=True)
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    found = projection(cli)
    assert found["risk"] == 0.5 and found["risk_max"] == 0.2
    rows = {r["stratum"]: (r["succeeded"], r["failed"]) for r in found["strata"]}
    assert rows == {"az=a": (2, 0), "az=b": (0, 2)}
    run_id = cli.status()["run"]["id"]
    fleet = next(
        e
        for e in journal(cli.state_dir, run_id)
        if e["type"] == "item.finished" and e["key"] == "canary/fleet"
    )
    assert fleet["status"] == "failed" and fleet["message"] == "risk score 0.5 > risk_max 0.2"
    assert cli.status()["run"]["status"] == "rolled_back"
