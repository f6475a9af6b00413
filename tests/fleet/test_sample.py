"""Representative canary samples: allocation against Hamilton's method, determinism,
coverage and bumping."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.fleet.sample import allocate, draw, draw_with_bumps

STRATA = [("a", "debian"), ("a", "rhel"), ("b", "debian"), ("b", "rhel"), ("c", "debian")]


def hamilton(sizes: dict[Any, int], n: int) -> dict[Any, int]:
    total = sum(sizes.values())
    quotas = {s: Fraction(n * size, total) for s, size in sizes.items()}
    seats = {s: math.floor(q) for s, q in quotas.items()}
    left = n - sum(seats.values())
    for s in sorted(sizes, key=lambda s: (-(quotas[s] - math.floor(quotas[s])), s))[:left]:
        seats[s] += 1
    return seats


@st.composite
def fleets(draw_: st.DrawFn) -> list[tuple[str, tuple[str, ...]]]:
    counts = draw_(st.lists(st.integers(1, 30), min_size=1, max_size=len(STRATA)))
    hosts = []
    for stratum, count in zip(STRATA, counts, strict=False):
        hosts += [(f"{'-'.join(stratum)}-{i}", stratum) for i in range(count)]
    return hosts


@settings(max_examples=300, deadline=None)
@given(fleets(), st.floats(0.5, 100))
def test_proportional_is_hamiltons_method(hosts: Any, pct: float) -> None:
    sizes: dict[Any, int] = {}
    for _, stratum in hosts:
        sizes[stratum] = sizes.get(stratum, 0) + 1
    n = max(math.ceil(pct * len(hosts) / 100), 1)
    seats = allocate(sizes, n, "proportional")
    assert seats == hamilton(sizes, n)


@settings(max_examples=300, deadline=None)
@given(fleets(), st.integers(1, 200), st.sampled_from(["proportional", "equal"]))
def test_allocation_fills_n_and_never_overfills(hosts: Any, n: int, allocation: Any) -> None:
    sizes: dict[Any, int] = {}
    for _, stratum in hosts:
        sizes[stratum] = sizes.get(stratum, 0) + 1
    seats = allocate(sizes, n, allocation)
    assert sum(seats.values()) == min(n, len(hosts))
    assert all(0 <= seats[s] <= sizes[s] for s in sizes)
    if allocation == "equal":
        # no stratum with room left has two seats fewer than another
        open_ = [seats[s] for s in sizes if seats[s] < sizes[s]]
        assert not open_ or max(seats.values()) - min(open_) <= 1


@settings(max_examples=200, deadline=None)
@given(fleets(), st.floats(0.5, 100), st.randoms(use_true_random=False), st.text(max_size=8))
def test_deterministic_whatever_the_inventory_order(
    hosts: Any, pct: float, rng: random.Random, salt: str
) -> None:
    first = draw(hosts, pct, salt=salt)
    shuffled = list(hosts)
    rng.shuffle(shuffled)
    again = draw(shuffled, pct, salt=salt)
    assert first.hosts == again.hosts
    assert len(set(first.hosts)) == len(first.hosts) == max(math.ceil(pct * len(hosts) / 100), 1)


def fleet_az_os(small: int) -> list[tuple[str, tuple[str, ...]]]:
    """200 hosts over az x os, one stratum with only ``small`` hosts."""
    hosts = []
    for az in "abc":
        for os_ in ("debian", "rhel"):
            count = small if (az, os_) == ("c", "rhel") else 40
            hosts += [(f"{az}-{os_}-{i}", (az, os_)) for i in range(count)]
    return hosts


def test_coverage_reached_by_bumping() -> None:
    hosts = fleet_az_os(small=8)  # 208 hosts; c/rhel is 8 of them
    first = draw(hosts, 1, salt="r1")  # 3 hosts for 6 strata
    assert first.coverage == 0.5
    bumped = draw_with_bumps(hosts, [1, 2, 5], coverage=1.0, salt="r1")
    assert bumped.pct == 5 and bumped.coverage == 1.0 and not bumped.missing
    assert {stratum for _, stratum in hosts if _ in bumped.hosts} == {s for _, s in hosts}


def test_a_stratum_too_small_for_the_cap_is_named() -> None:
    hosts = fleet_az_os(small=1)
    short = draw_with_bumps(hosts, [1, 2, 5], coverage=1.0, salt="r1")
    assert short.pct == 5
    assert short.missing == (("c", "rhel"),)
    assert short.coverage == 5 / 6


def test_equal_allocation_covers_small_strata_first() -> None:
    hosts = fleet_az_os(small=1)
    equal = draw(hosts, 3, salt="x", allocation="equal")  # 7 seats over 6 strata
    assert equal.coverage == 1.0
