"""A representative canary through the CLI: a fleet labelled az x os, the sample bumped until
every stratum is represented; a stratum too small for the cap pauses the run naming it, and
after an approval the same sample runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import DEPLOY, journal, ledger


def hosts(root: Path, small: int) -> list[dict[str, Any]]:
    out = []
    for az in "abc":
        for os_ in ("debian", "rhel"):
            count = small if (az, os_) == ("c", "rhel") else 40
            for i in range(count):
                name = f"{az}-{os_}-{i:02d}"
                out.append(
                    {
                        "name": name,
                        "groups": ["web"],
                        "labels": {"az": az, "os": os_, "dir": str(root / "hosts" / name)},
                    }
                )
    return out


def write(root: Path, small: int) -> None:
    plan = {
        "version": 1,
        "name": "canary-sample",
        "vars": {"LEDGER": str(root / "ledger")},
        "targets": {"hosts": hosts(root, small), "executor": "local"},
        "phases": [
            {
                "id": "canary",
                "hosts": "'web' in groups",
                "sample": {
                    "strata": ["az", "os"],
                    "pct": "1%",
                    "bump": {"to": ["2%", "5%"], "cap": "5%"},
                },
                "steps": [{"name": "install", "run": DEPLOY}],
            }
        ],
    }
    (root / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def sample_event(cli: CLI) -> dict[str, Any]:
    run_id = cli.status()["run"]["id"]
    return next(e for e in journal(cli.state_dir, run_id) if e["type"] == "fleet.sample")


def test_coverage_reached_by_bumping(cli: CLI) -> None:
    write(cli.cwd, small=8)
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    sample = sample_event(cli)
    assert sample["pct"] == 5 and sample["coverage"] == 1.0 and sample["missing"] == []
    deployed = sorted(line.split()[1] for line in ledger(cli.cwd))
    assert deployed == sorted(sample["hosts"])
    assert {name.rsplit("-", 1)[0] for name in deployed} == {
        f"{az}-{os_}" for az in "abc" for os_ in ("debian", "rhel")
    }


def test_a_stratum_too_small_pauses_naming_it_and_the_same_sample_runs_after_approval(
    cli: CLI,
) -> None:
    write(cli.cwd, small=1)
    result = cli("run", "plan.yaml")
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr
    assert "az=c,os=rhel" in result.stdout + result.stderr
    sample = sample_event(cli)
    assert sample["missing"] == ["az=c,os=rhel"]
    assert ledger(cli.cwd) == []  # nothing ran before a human decided
    run_id = cli.status()["run"]["id"]
    assert cli("approve", run_id, "--check", "canary/fleet").returncode == 0
    resumed = cli("resume", run_id)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr
    assert sorted(line.split()[1] for line in ledger(cli.cwd)) == sorted(sample["hosts"])


def test_hosts_verb_shows_the_sample_it_would_pick(cli: CLI) -> None:
    write(cli.cwd, small=1)
    data = cli.json("hosts", "plan.yaml")
    phase = data["phases"][0]
    assert phase["sample"]["missing"] == ["az=c,os=rhel"]
    assert phase["hosts"] == phase["sample"]["hosts"]
    assert len(phase["hosts"]) == 11  # 5% of 201, rounded up
    text = cli("hosts", "plan.yaml").stdout
    assert "sample 5%: strata_coverage 0.833 (required 1), missing az=c,os=rhel" in text
