"""The stratified projection and the per-stratum rows: numbers checked by hand and against a
brute-force oracle with exact fractions."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.expr import evaluate
from phasegate.fleet.projection import Z90, project, risk_activation, stratum_rows


def test_stratified_total_and_interval_by_hand() -> None:
    # a: 10 hosts, 2 measured (100, 120): mean 110, s^2 200, fpc 0.8 -> 100*0.8*200/2 = 8000
    # b: 20 hosts, 1 measured (50): pooled s^2 of (100, 120, 50) = 1300, fpc 0.95 -> 494000
    found = project("tokens", {"a": 10, "b": 20}, {"a": [100, 120], "b": [50]})
    assert found is not None
    assert found.estimate == 2100
    half = Z90 * math.sqrt(8000 + 494000)
    assert math.isclose(found.high, 2100 + half) and math.isclose(found.low, 2100 - half)
    assert found.measured == 3


def test_a_stratum_measured_whole_has_no_uncertainty() -> None:
    found = project("duration", {"a": 2}, {"a": [3.0, 5.0]})
    assert found is not None and (found.estimate, found.low, found.high) == (8.0, 8.0, 8.0)


def test_a_stratum_without_measurement_takes_the_pooled_mean() -> None:
    # pooled (1, 3): mean 2, s^2 2; a: 4*2 = 8, var 16*0.5*2/2 = 8; c: 6*2 = 12, 36*(5/6)*2 = 60
    found = project("x", {"a": 4, "c": 6}, {"a": [1, 3]})
    assert found is not None and found.estimate == 20
    assert math.isclose(found.high - found.estimate, Z90 * math.sqrt(68))
    assert project("x", {"a": 4}, {}) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.lists(st.integers(0, 1000), min_size=1, max_size=6)),
        min_size=1,
        max_size=5,
    )
)
def test_projection_against_exact_oracle(strata: list[tuple[int, list[int]]]) -> None:
    sizes = {f"s{i}": max(n, len(v)) for i, (n, v) in enumerate(strata)}
    values = {f"s{i}": [float(x) for x in v] for i, (_, v) in enumerate(strata)}
    every = [Fraction(x) for v in values.values() for x in v]
    mean_all = sum(every) / len(every)
    var_all = sum((x - mean_all) ** 2 for x in every) / (len(every) - 1) if len(every) > 1 else 0
    total = Fraction(0)
    variance = Fraction(0)
    for name, size in sizes.items():
        mine = [Fraction(x) for x in values[name]]
        mean = sum(mine) / len(mine)
        var = sum((x - mean) ** 2 for x in mine) / (len(mine) - 1) if len(mine) > 1 else var_all
        total += size * mean
        variance += size * size * (1 - Fraction(len(mine), size)) * var / len(mine)
    found = project("m", sizes, values)
    assert found is not None
    assert math.isclose(found.estimate, float(total), rel_tol=1e-9, abs_tol=1e-9)
    half = Z90 * math.sqrt(float(variance))
    assert math.isclose(found.high, float(total) + half, rel_tol=1e-9, abs_tol=1e-6)
    assert found.low == max(float(total) - half, 0.0) or math.isclose(
        found.low, max(float(total) - half, 0.0), rel_tol=1e-9, abs_tol=1e-6
    )
    assert found.low <= found.estimate <= found.high


def test_stratum_rows_and_a_risk_expression() -> None:
    strata = [
        {"stratum": "az=a", "picked": 2, "size": 10},
        {"stratum": "az=b", "picked": 2, "size": 10},
    ]
    of = {"a1": "az=a", "a2": "az=a", "b1": "az=b", "b2": "az=b"}
    outcomes = {"a1": "succeeded", "a2": "succeeded", "b1": "failed", "b2": "unreachable"}
    rows = stratum_rows(strata, of, outcomes)
    assert rows == [
        {"stratum": "az=a", "size": 10, "picked": 2, "succeeded": 2, "failed": 0, "fail_rate": 0.0},
        {"stratum": "az=b", "size": 10, "picked": 2, "succeeded": 0, "failed": 2, "fail_rate": 1.0},
    ]
    activation = risk_activation(rows)
    assert activation["fail_rate"] == 0.5 and activation["failed"] == 2
    share = "double(size(strata.filter(s, s.failed > 0))) / double(size(strata))"
    assert evaluate(share, activation) == 0.5
