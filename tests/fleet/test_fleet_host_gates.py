"""Gates per host (after that host's steps, with the host as context) and per batch, through
the real CLI (local executor, each host a directory)."""

from __future__ import annotations

from typing import Any

from tests.conftest import CLI
from tests.fleet.fleetplan import batches, journal, ledger
from tests.fleet.test_fleet_zones import run_id, zoned

HOST_GATES: list[dict[str, Any]] = [
    {"id": "version", "command": 'test "$(cat "$HOST_DIR/version")" = v2'},
    {"id": "not-web03", "command": ["test", "${host}", "!=", "web03"]},
]


def gate_items(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (e["key"], e.get("host", ""), e["status"])
        for e in events
        if e["type"] == "item.finished" and e.get("kind") == "gate"
    ]


def test_host_gates_run_per_host_after_its_steps_and_fail_only_that_host(cli: CLI) -> None:
    root = cli.cwd
    zoned(
        root,
        "a" * 8,
        size=[4],
        max_fail_percentage=25,
        host_gates=HOST_GATES,
        batch_gates=[{"id": "b", "command": 'test -n "$PHASEGATE_BATCH_HOSTS"'}],
    )
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    gates = gate_items(events)
    names = [f"web{i:02d}" for i in range(8)]
    per_host = [g for g in gates if g[1]]
    assert sorted(per_host) == sorted(
        [(f"deploy/gate:version@{h}", h, "passed") for h in names]
        + [(f"deploy/gate:not-web03@{h}", h, "failed" if h == "web03" else "passed") for h in names]
    )
    # Each host's gates follow its own step: the gate's item comes after the host's step.
    order = [e.get("key") for e in events if e["type"] == "item.finished"]
    for host in names:
        assert order.index(f"deploy/install@{host}") < order.index(f"deploy/gate:version@{host}")
    # Batch gates after each batch, after every host gate of that batch.
    assert [g[0] for g in gates if not g[1]] == ["deploy/gate:b@batch1", "deploy/gate:b@batch2"]
    assert order.index("deploy/gate:not-web03@web03") < order.index("deploy/gate:b@batch1")
    assert order.index("deploy/gate:b@batch1") < order.index("deploy/install@web04")
    fleet = next(e for e in events if e["type"] == "item.finished" and e["key"] == "deploy/fleet")
    assert fleet["outputs"] == {"succeeded": "7", "failed": "1", "unreachable": "0"}


def test_a_failing_host_gate_counts_against_the_budget_and_rolls_back(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "a" * 8, size=[4], host_gates=HOST_GATES)  # max_fail_percentage 0
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    assert batches(events) == [["web00", "web01", "web02", "web03"]]
    fleet = next(e for e in events if e["type"] == "item.finished" and e["key"] == "deploy/fleet")
    assert fleet["message"] == "batch 1: 1 of 4 hosts failed"
    completed = [
        e["host"]
        for e in events
        if e["type"] == "item.finished" and e.get("kind") == "step" and e["status"] == "succeeded"
    ]
    undone = [line.split()[1] for line in ledger(root) if line.startswith("undo")]
    assert sorted(completed) == ["web00", "web01", "web02", "web03"]  # web03's step completed
    assert undone == list(reversed(completed))
    assert cli.status()["run"]["status"] == "rolled_back"
