"""Acceptance: a rolling deploy over 20 hosts on real OpenSSH servers (4 sshd on 127.0.0.1,
5 hosts each, told apart by their own directories), from an INI inventory, through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import DEPLOY, UNDO, batches, journal, ledger
from tests.fleet.sshd import Lab, free_port, ssh_lab

NAMES = [f"web{i:02d}" for i in range(20)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with ssh_lab(tmp_path_factory.mktemp("fleet") / "lab", servers=4) as lab:
        yield lab


def write(
    cli: CLI,
    lab: Lab,
    *,
    failing: set[int] = frozenset(),  # type: ignore[assignment]
    unreachable_hosts: set[int] = frozenset(),  # type: ignore[assignment]
    **phase: Any,
) -> None:
    root = cli.cwd
    lines = ["[web]"]
    closed = free_port()
    for i, name in enumerate(NAMES):
        port = closed if i in unreachable_hosts else lab.servers[i % 4].port
        lines.append(
            f"{name} ansible_host=127.0.0.1 ansible_port={port} "
            f"dir={root / 'hosts' / name} fail={'true' if i in failing else 'false'}"
        )
    lines += ["[web:vars]", "role=frontend"]
    (root / "inventory.ini").write_text("\n".join(lines) + "\n")
    plan = {
        "version": 1,
        "name": "fleet-ssh",
        "vars": {"LEDGER": str(root / "ledger")},
        "targets": {
            "inventory": "inventory.ini",
            "ssh": lab.ssh_settings(connect_timeout=3, connect_retries=1, max_connections=8),
        },
        "phases": [
            {
                "id": "deploy",
                "hosts": "'web' in groups && labels.role == 'frontend'",
                "batch": {"size": [1, 5, "50%"]},
                "steps": [{"name": "install", "run": DEPLOY, "undo": UNDO}],
                **phase,
            }
        ],
    }
    (root / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def finished(events: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(e for e in events if e["type"] == "item.finished" and e["key"] == key)


def run_id(cli: CLI) -> str:
    return str(cli.status()["run"]["id"])


def test_one_failure_in_batch_two_within_25_percent_continues(cli: CLI, lab: Lab) -> None:
    write(cli, lab, failing={3}, max_fail_percentage=25)
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    assert batches(events) == [NAMES[:1], NAMES[1:6], NAMES[6:16], NAMES[16:]]
    assert sorted(line.split()[1] for line in ledger(cli.cwd)) == NAMES
    assert finished(events, "deploy/fleet")["outputs"]["failed"] == "1"
    assert finished(events, "deploy/install@web03")["exit_code"] == 1
    # the host's output is logged per host, under its own item
    log = cli("logs", run_id(cli), "deploy/install@web05")
    assert log.returncode == 0, log.stderr
    assert "installed v2 on web05" in log.stdout


def test_two_failures_stop_and_roll_back_the_completed_hosts_newest_first(
    cli: CLI, lab: Lab
) -> None:
    write(cli, lab, failing={2, 4}, max_fail_percentage=25)
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    assert len(batches(events)) == 2
    completed = [
        e["host"]
        for e in events
        if e["type"] == "item.finished"
        and e.get("host")
        and e["kind"] == "step"
        and e["status"] == "succeeded"
    ]
    assert sorted(completed) == ["web00", "web01", "web03", "web05"]
    undone = [line.split()[1] for line in ledger(cli.cwd) if line.startswith("undo")]
    assert undone == list(reversed(completed))
    undo_items = [e["key"] for e in events if e["type"] == "item.finished" and e["kind"] == "undo"]
    assert undo_items == [f"undo:deploy/install@{h}" for h in reversed(completed)]
    for i, name in enumerate(NAMES):
        version = cli.cwd / "hosts" / name / "version"
        expected = {0: "v1\n", 1: "v1\n", 3: "v1\n", 5: "v1\n", 2: "v2\n", 4: "v2\n"}.get(i)
        assert (version.read_text() if version.exists() else None) == expected, name


def test_unreachable_ignored(cli: CLI, lab: Lab) -> None:
    write(cli, lab, unreachable_hosts={7}, unreachable="ignore")
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    item = finished(events, "deploy/install@web07")
    assert item["unreachable"] is True and "cannot connect" in item["message"]
    assert finished(events, "deploy/fleet")["outputs"] == {
        "succeeded": "19",
        "failed": "0",
        "unreachable": "1",
    }
    assert "web07" not in [line.split()[1] for line in ledger(cli.cwd)]


def test_unreachable_failing_stops_in_its_batch_and_rolls_back(cli: CLI, lab: Lab) -> None:
    write(cli, lab, unreachable_hosts={7}, unreachable="retry")
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    assert len(batches(events)) == 3  # web07 is in batch 3
    assert finished(events, "deploy/fleet")["message"].startswith("batch 3: 1 of 10")
    deployed = {line.split()[1] for line in ledger(cli.cwd) if line.startswith("deploy")}
    undone = {line.split()[1] for line in ledger(cli.cwd) if line.startswith("undo")}
    assert undone == deployed and "web07" not in deployed


def test_unknown_host_key_is_unreachable_not_trusted(cli: CLI, lab: Lab, tmp_path: Path) -> None:
    write(cli, lab, max_fail_percentage=100, unreachable="fail")
    plan = yaml.safe_load((cli.cwd / "plan.yaml").read_text())
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    plan["targets"]["ssh"]["known_hosts"] = str(empty)
    plan["phases"][0]["batch"] = {"size": [20]}
    (cli.cwd / "plan.yaml").write_text(yaml.safe_dump(plan))
    result = cli("run", "plan.yaml")
    events = journal(cli.state_dir, run_id(cli))
    assert "host key" in finished(events, "deploy/install@web00")["message"]
    assert ledger(cli.cwd) == []  # nothing ran anywhere
    assert result.returncode == 0  # 100 %: not exceeded (on_batch_all_failed decides)
