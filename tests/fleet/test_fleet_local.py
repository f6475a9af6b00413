"""Fleet phases through the real CLI, hosts run by the local executor (each host is a
directory): batches, budgets, rollback exactly where steps completed, resume per host."""

from __future__ import annotations

import json

import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import batches, fleet_plan, journal, ledger, local_hosts


def run_id(cli: CLI) -> str:
    return str(cli.status()["run"]["id"])


def test_batches_in_order_and_one_failure_within_25_percent_continues(cli: CLI) -> None:
    root = cli.cwd
    fleet_plan(root, local_hosts(root, 20, failing={3}), size=[1, 5, "50%"], max_fail=25)
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    names = [f"web{i:02d}" for i in range(20)]
    assert batches(events) == [names[:1], names[1:6], names[6:16], names[16:]]
    deployed = [line.split()[1] for line in ledger(root) if line.startswith("deploy")]
    assert sorted(deployed) == names  # every host once
    # lockstep: no host of a batch started before the previous batch finished
    order = {h: i for i, h in enumerate(deployed)}
    assert max(order[h] for h in names[1:6]) < min(order[h] for h in names[6:16])
    fleet = next(e for e in events if e["type"] == "item.finished" and e["key"] == "deploy/fleet")
    assert fleet["outputs"] == {"succeeded": "19", "failed": "1", "unreachable": "0"}
    assert not any(line.startswith("undo") for line in ledger(root))


def test_two_failures_in_batch_two_stop_and_roll_back_exactly_the_completed_hosts(
    cli: CLI,
) -> None:
    root = cli.cwd
    fleet_plan(root, local_hosts(root, 20, failing={2, 4}), size=[1, 5, "50%"], max_fail=25)
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    rid = run_id(cli)
    events = journal(cli.state_dir, rid)
    assert len(batches(events)) == 2  # batch 3 never started
    completed = [
        e["host"]
        for e in events
        if e["type"] == "item.finished"
        and e.get("host")
        and e["status"] == "succeeded"
        and e["kind"] == "step"
    ]
    assert sorted(completed) == ["web00", "web01", "web03", "web05"]
    undone = [line.split()[1] for line in ledger(root) if line.startswith("undo")]
    assert undone == list(reversed(completed))  # newest first, exactly those hosts
    fleet = next(e for e in events if e["type"] == "item.finished" and e["key"] == "deploy/fleet")
    assert fleet["status"] == "failed" and fleet["message"] == "batch 2: 2 of 5 hosts failed"
    for i in range(20):
        version = root / "hosts" / f"web{i:02d}" / "version"
        if i in (0, 1, 3, 5):
            assert version.read_text() == "v1\n"  # rolled back
        elif i in (2, 4):
            assert version.read_text() == "v2\n"  # its step failed: not undone (no completion)
        else:
            assert not version.exists()  # never touched
    assert cli.status()["run"]["status"] == "rolled_back"


def test_limit_narrows_the_hosts(cli: CLI) -> None:
    root = cli.cwd
    fleet_plan(root, local_hosts(root, 6), size=[2])
    result = cli("run", "plan.yaml", "--limit", "web0[2-4]")
    assert result.returncode == 0, result.stderr
    deployed = sorted(line.split()[1] for line in ledger(root))
    assert deployed == ["web02", "web03", "web04"]
    started = next(e for e in journal(cli.state_dir, run_id(cli)) if e.get("key") == "deploy/fleet")
    assert [h["name"] for h in started["hosts"]] == deployed  # journalled for resume


def test_a_fleet_phase_without_targets_is_a_plan_error(cli: CLI) -> None:
    plan = {
        "version": 1,
        "name": "x",
        "phases": [{"id": "a", "hosts": "true", "steps": [{"run": "true"}]}],
    }
    (cli.cwd / "plan.yaml").write_text(json.dumps(plan))
    result = cli("validate", "plan.yaml")
    assert result.returncode == 2
    assert "has no `targets:`" in result.stdout + result.stderr


def test_hosts_verb_shows_inventory_selection_and_batches(cli: CLI) -> None:
    (cli.cwd / "inventory.yml").write_text(
        """
all:
  children:
    web:
      vars: {role: frontend}
      hosts:
        web[01:07]: {az: a}
        web08: {az: b}
    db:
      hosts:
        db01:
"""
    )
    plan = {
        "version": 1,
        "name": "h",
        "targets": {"inventory": "inventory.yml"},
        "phases": [
            {
                "id": "deploy",
                "hosts": "'web' in groups && labels.az == 'a'",
                "batch": {"size": [1, "50%"]},
                "steps": [{"run": "true"}],
            }
        ],
    }
    (cli.cwd / "plan.yaml").write_text(json.dumps(plan))
    data = cli.json("hosts", "plan.yaml")
    assert [h["name"] for h in data["hosts"]] == [f"web0{i}" for i in range(1, 9)] + ["db01"]
    assert data["inventory"]["web"]["vars"] == {"role": "frontend"}
    phase = data["phases"][0]
    assert phase["hosts"] == [f"web0{i}" for i in range(1, 8)]
    assert phase["batches"] == [
        ["web01"],
        ["web02", "web03", "web04"],
        ["web05", "web06", "web07"],
    ]
    limited = cli.json(
        "hosts", "plan.yaml", "--limit", "labels.role == 'frontend' && name != 'web01'"
    )
    assert limited["phases"][0]["hosts"] == [f"web0{i}" for i in range(2, 8)]
    text = cli("hosts", "plan.yaml")
    assert "batch 2: web02, web03, web04" in text.stdout


def test_batch_gates_run_after_each_batch_and_a_failing_one_rolls_back(cli: CLI) -> None:
    root = cli.cwd
    path = fleet_plan(root, local_hosts(root, 6), size=[1, 2])
    plan = yaml.safe_load(path.read_text())
    # every host of the finished batch must report v2; the second batch's gate fails
    plan["phases"][0]["batch_gates"] = [
        {
            "id": "healthy",
            "command": 'echo "gate $PHASEGATE_BATCH: $PHASEGATE_BATCH_HOSTS" >> "$LEDGER"; '
            'test "$PHASEGATE_BATCH" != 2',
        }
    ]
    path.write_text(yaml.safe_dump(plan))
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = ledger(root)
    gates = [line for line in lines if line.startswith("gate")]
    assert gates == ["gate 1: web00", "gate 2: web01 web02"]
    # the gate of batch 1 ran before batch 2 started; batch 3 never started
    assert lines.index("gate 1: web00") < lines.index("deploy web01")
    assert not any(line.startswith("deploy web03") for line in lines)
    undone = [line.split()[1] for line in lines if line.startswith("undo")]
    assert sorted(undone) == ["web00", "web01", "web02"]
    events = journal(cli.state_dir, run_id(cli))
    gate = next(e for e in events if e.get("key") == "deploy/gate:healthy@batch2")
    assert gate["status"] == "failed"
