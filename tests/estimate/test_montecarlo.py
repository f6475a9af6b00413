"""The whole run by Monte Carlo over the phase DAG: independent phases overlap, chained ones
add up, and the same seed gives the same draws."""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from phasegate.estimate.montecarlo import quantile, simulate, topological


def fixed(seconds: float) -> Callable[[random.Random], float]:
    return lambda rng: seconds


def test_independent_phases_run_side_by_side_and_chains_add_up() -> None:
    draws = {"a": fixed(10.0), "b": fixed(30.0), "c": fixed(5.0)}
    side_by_side = simulate(["a", "b", "c"], {}, draws, samples=10)
    assert set(side_by_side) == {30.0}
    chain = simulate(["a", "b", "c"], {"b": ["a"], "c": ["b"]}, draws, samples=10)
    assert set(chain) == {45.0}
    diamond = simulate(["a", "b", "c"], {"c": ["a", "b"]}, draws, samples=10)
    assert set(diamond) == {35.0}


def test_a_finished_phase_takes_no_more_time() -> None:
    values = simulate(["a", "b"], {"b": ["a"]}, {"b": fixed(7.0)}, samples=5)
    assert set(values) == {7.0}


def test_the_same_seed_gives_the_same_draws() -> None:
    draws = {"a": lambda rng: rng.expovariate(1.0), "b": lambda rng: rng.uniform(0, 3)}
    first = simulate(["a", "b"], {"b": ["a"]}, draws, samples=200, seed=5)
    assert first == simulate(["a", "b"], {"b": ["a"]}, draws, samples=200, seed=5)
    assert first != simulate(["a", "b"], {"b": ["a"]}, draws, samples=200, seed=6)
    assert first == sorted(first)


def test_quantiles_of_sorted_draws() -> None:
    values = [float(n) for n in range(101)]
    assert (quantile(values, 0.05), quantile(values, 0.5), quantile(values, 0.95)) == (
        5.0,
        50.0,
        95.0,
    )
    assert quantile([], 0.5) == 0.0


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]]]:
    names = [f"p{n}" for n in range(draw(st.integers(1, 12)))]
    needs = {
        name: draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
        for i, name in enumerate(names)
    }
    order = draw(st.permutations(names))
    return list(order), needs


@given(dag=dags(), seed=st.integers(0, 1000))
def test_every_phase_comes_after_what_it_needs(
    dag: tuple[list[str], dict[str, list[str]]], seed: int
) -> None:
    phases, needs = dag
    order = topological(phases, needs)
    assert sorted(order) == sorted(phases)
    for phase in phases:
        assert all(order.index(n) < order.index(phase) for n in needs[phase])
    # the run takes the longest path through the DAG
    rng = random.Random(seed)
    weights = {p: float(rng.randint(1, 9)) for p in phases}

    def longest(p: str) -> float:
        return weights[p] + max((longest(n) for n in needs[p]), default=0.0)

    expected = max(longest(p) for p in phases)
    draws = {p: fixed(w) for p, w in weights.items()}
    assert set(simulate(phases, needs, draws, samples=3)) == {expected}
