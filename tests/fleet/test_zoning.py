"""Zone-aware batches (`by`, `spread`), host order and `min_healthy` against brute-force
oracles over random fleets, zones and sizes."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.fleet.batching import Budget, healthy_floor, judge
from phasegate.fleet.zoning import by_zone, natural, ordered, plan_batches, spread
from tests.fleet.test_batching import SIZE, oracle_sizes

ZONES = st.lists(st.sampled_from("abcd"), min_size=1, max_size=40)


def fleet(zone_list: list[str]) -> tuple[list[str], dict[str, str]]:
    hosts = [f"h{i:02d}" for i in range(len(zone_list))]
    return hosts, dict(zip(hosts, zone_list, strict=True))


@settings(max_examples=400, deadline=None)
@given(ZONES, st.lists(SIZE, min_size=1, max_size=4))
def test_spread_never_puts_a_whole_zone_in_one_batch(
    zone_list: list[str], sizes: list[Any]
) -> None:
    hosts, zone = fleet(zone_list)
    batches = spread(hosts, zone, sizes)
    assert sorted(h for b in batches for h in b) == sorted(hosts)  # a partition
    members = {z: [h for h in hosts if zone[h] == z] for z in set(zone_list)}
    for z, mine in members.items():  # each zone's hosts keep the phase's order
        assert [h for b in batches for h in b if zone[h] == z] == mine
    done: set[str] = set()
    for index, batch in enumerate(batches):
        assert batch
        entry = sizes[min(index, len(sizes) - 1)]
        size = (
            max(int(Fraction(entry[:-1]) * len(hosts) / 100), 1)
            if isinstance(entry, str)
            else entry
        )
        full = min(size, len(hosts) - len(done))
        assert len(batch) <= full
        for z, mine in members.items():
            if len(mine) > 1:
                assert not set(mine) <= set(batch), (z, batch)
        if len(batch) < full:
            # Short only when every host left would put its whole zone in this batch.
            for host in (h for h in hosts if h not in done and h not in batch):
                grown = set(batch) | {host}
                assert set(members[zone[host]]) <= grown and len(members[zone[host]]) > 1
        done |= set(batch)


def test_spread_takes_hosts_round_robin_across_zones() -> None:
    hosts, zone = fleet(list("aaaabbbbcc"))
    assert spread(hosts, zone, [3, 4]) == [
        ["h00", "h04", "h08"],
        ["h01", "h05", "h09", "h02"],  # c's last host: c is no longer whole in one batch
        ["h03", "h06", "h07"],  # each batch's round starts again at the first zone
    ]
    # 100%: every zone keeps one host out of the first batch.
    assert spread(hosts, zone, ["100%"]) == [
        ["h00", "h04", "h08", "h01", "h05", "h02", "h06"],
        ["h03", "h07", "h09"],
    ]


@settings(max_examples=400, deadline=None)
@given(ZONES, st.lists(SIZE, min_size=1, max_size=4))
def test_by_runs_one_zone_at_a_time(zone_list: list[str], sizes: list[Any]) -> None:
    hosts, zone = fleet(zone_list)
    batches = by_zone(hosts, zone, sizes)
    # Oracle: zones by their first host; each zone's hosts cut by the sizes on their own.
    first_seen: list[str] = []
    for z in zone_list:
        if z not in first_seen:
            first_seen.append(z)
    expected: list[list[str]] = []
    for z in first_seen:
        mine = [h for h in hosts if zone[h] == z]
        start = 0
        for n in oracle_sizes(sizes, len(mine)):
            expected.append(mine[start : start + n])
            start += n
    assert batches == expected
    for batch in batches:
        assert len({zone[h] for h in batch}) == 1  # never mixes zones


def test_plan_batches_reads_the_zone_label_and_a_missing_one_is_a_zone() -> None:
    labels = {"a1": {"az": "a"}, "b1": {"az": "b"}, "x": {}, "a2": {"az": "a"}}
    assert plan_batches(list(labels), labels, ["100%"], by="az") == [["a1", "a2"], ["b1"], ["x"]]


def test_order() -> None:
    hosts = ["web10", "web2", "db1", "web1"]
    assert ordered(hosts, "inventory") == hosts
    assert ordered(hosts, "sorted") == ["db1", "web1", "web2", "web10"]
    assert ordered(hosts, "reverse") == ["web1", "db1", "web2", "web10"]
    shuffled = ordered(hosts, "shuffle", "s1")
    assert sorted(shuffled) == sorted(hosts)
    assert ordered(list(reversed(hosts)), "shuffle", "s1") == shuffled  # the seed decides
    seeds = {tuple(ordered(hosts, "shuffle", f"s{i}")) for i in range(20)}
    assert len(seeds) > 1
    assert natural("a2") < natural("a10")


def test_healthy_floor_rounds_up() -> None:
    assert healthy_floor("80%", 10) == 8
    assert healthy_floor("81%", 10) == 9
    assert healthy_floor("33.4%", 3) == 2
    assert healthy_floor(3, 10) == 3
    assert healthy_floor(None, 10) is None


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 30),
    st.lists(SIZE, min_size=1, max_size=3),
    st.sets(st.integers(0, 29)),
    st.one_of(st.integers(0, 30), st.integers(0, 100).map(lambda p: f"{p}%")),
)
def test_min_healthy_before_each_batch(
    total: int, sizes: list[Any], failing: set[int], floor_spec: Any
) -> None:
    hosts = [f"h{i:02d}" for i in range(total)]
    bad = {hosts[i] for i in failing if i < total}
    batches = []
    start = 0
    for n in oracle_sizes(sizes, total):
        batches.append(hosts[start : start + n])
        start += n
    budget = Budget(max_fail_percentage=100, min_healthy=floor_spec)
    floor = (
        math.ceil(Fraction(floor_spec[:-1]) * total / 100)
        if isinstance(floor_spec, str)
        else floor_spec
    )
    # Oracle: lockstep; before batch b, hosts left serving = all - failed so far - batch b.
    expected_started: list[int] = []
    expected_stop = None
    failed = 0
    for index, batch in enumerate(batches):
        if total - failed - len(batch) < floor:
            expected_stop = index
            break
        expected_started.append(index)
        failed += sum(h in bad for h in batch)
    # Drive judge as the engine does (lockstep, hosts finish in order).
    outcomes: dict[str, Any] = {}
    started: list[int] = []
    while True:
        verdict = judge(batches, outcomes, set(), budget)
        if verdict.stop is not None:
            assert expected_stop == verdict.batch
            assert f"below min_healthy {floor}" in verdict.stop
            break
        if verdict.done:
            assert expected_stop is None
            break
        started.append(verdict.batch)
        for host in verdict.start:
            outcomes[host] = "failed" if host in bad else "succeeded"
    assert started == expected_started
