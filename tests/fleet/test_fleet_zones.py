"""Zone-ordered and zone-spread batches, host order, bakes, pauses and `min_healthy` through
the real CLI (hosts run by the local executor, each host a directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import batches, fleet_plan, journal, ledger, local_hosts


def zoned(root: Path, zones: str, failing: set[int] = frozenset(), **phase: Any) -> None:  # type: ignore[assignment]
    hosts = local_hosts(root, len(zones), failing)
    for host, zone in zip(hosts, zones, strict=True):
        host["labels"]["az"] = zone
    path = fleet_plan(root, hosts, size=phase.pop("size", ["100%"]))
    plan = yaml.safe_load(path.read_text())
    deploy = plan["phases"][0]
    deploy["batch"].update(phase.pop("batch", {}))
    deploy.update(phase)
    path.write_text(yaml.safe_dump(plan, sort_keys=False))


def timed(state_dir: Path, run_id: str) -> list[tuple[float, dict[str, Any]]]:
    from phasegate.store.sqlite import SqliteStore

    store = SqliteStore(state_dir, readonly=True)
    try:
        return [(e.ts, {"type": e.type, **e.data}) for e in store.events(run_id)]
    finally:
        store.close()


def run_id(cli: CLI) -> str:
    return str(cli.status()["run"]["id"])


def test_by_zone_one_zone_at_a_time_with_bakes_between_zones(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "abcabc", size=[1, "100%"], batch={"by": "az", "first_bake": "1s", "bake": "0.5s"})
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    events = timed(cli.state_dir, run_id(cli))
    starts = [(ts, e["hosts"]) for ts, e in events if e["type"] == "fleet.batch"]
    assert [h for _, h in starts] == [
        ["web00"],
        ["web03"],
        ["web01"],
        ["web04"],
        ["web02"],
        ["web05"],
    ]
    ends = {e["host"]: ts for ts, e in events if e["type"] == "item.finished" and e.get("host")}
    # The bake runs from the end of a zone's last batch to the next zone's first batch.
    assert starts[2][0] - ends["web03"] >= 1.0  # first_bake after zone a
    assert starts[4][0] - ends["web04"] >= 0.5  # bake after zone b
    deployed = [line.split()[1] for line in ledger(root)]
    assert deployed == ["web00", "web03", "web01", "web04", "web02", "web05"]


def test_spread_keeps_a_host_of_every_zone_out_of_each_batch(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "aaabbbcc", size=["50%"], batch={"spread": "az"})
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert batches(journal(cli.state_dir, run_id(cli))) == [
        ["web00", "web03", "web06", "web01"],
        ["web02", "web04", "web07", "web05"],
    ]


def test_order_reverse_and_a_journalled_shuffle_seed(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "aaaa", size=[2], batch={"order": "reverse"})
    assert cli("run", "plan.yaml").returncode == 0
    assert batches(journal(cli.state_dir, run_id(cli))) == [
        ["web03", "web02"],
        ["web01", "web00"],
    ]


def test_shuffle_order_is_journalled_with_its_seed(cli: CLI) -> None:
    from phasegate.fleet.zoning import ordered

    root = cli.cwd
    zoned(root, "aaaaaa", size=[6], batch={"order": "shuffle", "seed": "r42"})
    assert cli("run", "plan.yaml").returncode == 0
    events = journal(cli.state_dir, run_id(cli))
    started = next(e for e in events if e["type"] == "item.started" and e["key"] == "deploy/fleet")
    assert started["order_seed"] == "r42"
    names = [f"web{i:02d}" for i in range(6)]
    assert [h["name"] for h in started["hosts"]] == ordered(names, "shuffle", "r42")
    assert batches(events) == [ordered(names, "shuffle", "r42")]


def test_min_healthy_stops_before_a_batch_and_rolls_back(cli: CLI) -> None:
    root = cli.cwd
    # 8 hosts, batches of 2, min_healthy 5: batch 1 (web00 fails, budget 50 % holds) leaves
    # 8 - 1 failed - 2 next = 5 for batch 2; web02 fails too: batch 3 would leave 4 < 5.
    zoned(root, "a" * 8, {0, 2}, size=[2], max_fail_percentage=50, min_healthy=5)
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    events = journal(cli.state_dir, run_id(cli))
    assert batches(events) == [["web00", "web01"], ["web02", "web03"]]
    fleet = next(e for e in events if e["type"] == "item.finished" and e["key"] == "deploy/fleet")
    assert fleet["message"] == "batch 3 would leave 4 healthy hosts, below min_healthy 5"
    undone = [line.split()[1] for line in ledger(root) if line.startswith("undo")]
    assert undone == ["web03", "web01"]  # the completed hosts, newest first
    assert cli.status()["run"]["status"] == "rolled_back"


def test_min_healthy_percent_with_pause_on_failure(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "aaaa", size=["100%"], min_healthy="25%", on_failure="pause")
    result = cli("run", "plan.yaml")
    events = journal(cli.state_dir, run_id(cli))
    assert batches(events) == []  # one batch of every host would leave 0 < 1
    assert ledger(root) == []
    assert cli.status()["run"]["status"] == "paused", result.stdout


def test_pause_between_batches(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "aaa", size=[1], pause_between="0.7s")
    assert cli("run", "plan.yaml").returncode == 0
    events = timed(cli.state_dir, run_id(cli))
    starts = [ts for ts, e in events if e["type"] == "fleet.batch"]
    ends = [ts for ts, e in events if e["type"] == "item.finished" and e.get("host")]
    assert len(starts) == 3
    assert starts[1] - ends[0] >= 0.7 and starts[2] - ends[1] >= 0.7


def test_bad_batch_keys_are_located_errors(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "ab", batch={"by": "az", "spread": "az"})
    result = cli("validate", "plan.yaml")
    assert result.returncode != 0
    assert "plan.yaml:" in result.stdout + result.stderr
    assert "exclude each other" in result.stdout + result.stderr
    zoned(root, "ab", min_healthy="120%")
    result = cli("validate", "plan.yaml")
    assert "at most 100" in result.stdout + result.stderr
    zoned(root, "ab", batch={"bake": "5m"})
    result = cli("validate", "plan.yaml")
    assert "need `by: LABEL`" in result.stdout + result.stderr


def test_hosts_verb_shows_the_same_zone_batches_as_a_run(cli: CLI) -> None:
    root = cli.cwd
    zoned(root, "aaabbbcc", size=["50%"], batch={"spread": "az", "order": "reverse"})
    phase = cli.json("hosts", "plan.yaml")["phases"][0]
    # reverse: web07..web00; zones by first host: c (07, 06), b (05, 04, 03), a (02, 01, 00)
    assert phase["hosts"] == [f"web{i:02d}" for i in range(7, -1, -1)]
    assert phase["batches"] == [
        ["web07", "web05", "web02", "web04"],
        ["web06", "web03", "web01", "web00"],
    ]
    assert phase["batch_sizes"] == [4, 4]
    assert cli("run", "plan.yaml").returncode == 0
    assert batches(journal(cli.state_dir, run_id(cli))) == phase["batches"]


def test_on_batch_all_failed_pause_waits_for_a_human_then_goes_on(cli: CLI) -> None:
    root = cli.cwd
    zoned(
        root,
        "aaaa",
        {0, 1},
        size=[2],
        max_fail_percentage=100,
        on_batch_all_failed="pause",
    )
    result = cli("run", "plan.yaml")
    assert result.returncode == 4, result.stdout + result.stderr
    assert (
        "batch 1: every host failed (on_batch_all_failed: pause)" in result.stdout + result.stderr
    )
    rid = run_id(cli)
    assert batches(journal(cli.state_dir, rid)) == [["web00", "web01"]]
    assert cli("approve", rid, "--check", "deploy/fleet").returncode == 0
    resumed = cli("resume", rid)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert batches(journal(cli.state_dir, rid)) == [["web00", "web01"], ["web02", "web03"]]
    deployed = [line.split()[1] for line in ledger(root) if line.startswith("deploy")]
    assert deployed.count("web00") == 1 and sorted(deployed) == [f"web{i:02d}" for i in range(4)]
