"""A resource budget's `estimate:` hints (issue 13 §4: "the same machinery for numeric
resource budgets"): a hinted step is projected from its hint before any history, history
then teaches it as duration hints are taught; a hint naming no step is a located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.errors import PlanError
from phasegate.estimate.history import RunDurations
from phasegate.estimate.resources import fit_resource, project
from phasegate.plan.loader import load_plan
from phasegate.plan.model import Plan

PLAN = """\
version: 1
name: tokens
budget:
  resources:
    tokens:
      limit: 10000
      estimate:
        {hints}
phases:
  - id: work
    steps:
      - {{id: a, run: x}}
      - {{id: b, run: y}}
"""


def _plan(tmp_path: Path, hints: str) -> Plan:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(hints=hints))
    return load_plan(path).plan


def _runs(n: int, tokens: float) -> list[RunDurations]:
    return [
        RunDurations(
            f"r{i}",
            "tokens",
            "succeeded",
            float(i),
            {},
            amounts={"work/a": {"tokens": tokens}, "work/b": {"tokens": tokens}},
        )
        for i in range(n)
    ]


def test_a_hinted_step_is_projected_from_its_hint_then_from_history(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "work/a: {p50: 3000, p90: 5000}")
    spec = plan.budget.resources["tokens"]
    bare = project(fit_resource(plan, [], "tokens", spec.estimate), {})
    # No history: `a` from its hint (its p50 and p90 are the hint's), `b` unprojected (0).
    assert bare.used == 0 and bare.unprojected == ["work/b"]
    assert 2800 < bare.p50 < 3200 and 4600 < bare.p90 < 5400
    # Without the hint nothing is projected at all (the old behaviour, still the default).
    assert project(fit_resource(plan, [], "tokens"), {}).p50 == 0
    # `a` done (it reported 2500): what is left is `b` alone, still unprojected.
    done = project(fit_resource(plan, [], "tokens", spec.estimate), {"work/a": {"tokens": "2500"}})
    assert (done.used, done.p50, done.p90) == (2500, 2500, 2500)
    # Twenty admitted runs that report 30 per step outweigh the hint; `b` is learned too.
    taught = project(fit_resource(plan, _runs(20, 30.0), "tokens", spec.estimate), {})
    assert taught.unprojected == []
    assert 40 < taught.p50 < 600  # two steps of ~30, the hint's pull much reduced
    assert taught.p90 >= taught.p50


@pytest.mark.parametrize(
    ("hints", "says"),
    [
        ("work/c: {p50: 1, p90: 2}", "hints step 'work/c', which the plan does not have"),
        ("wrok/a: {p50: 1, p90: 2}", "did you mean 'work/a'?"),
        ("work/a: {p50: 5, p90: 2}", "p90 (2) must be at least p50 (5)"),
        ("work/a: {p50: 0, p90: 2}", "estimate.work/a.p50: must be more than 0"),
    ],
)
def test_a_bad_hint_is_a_located_error(tmp_path: Path, hints: str, says: str) -> None:
    with pytest.raises(PlanError) as caught:
        _plan(tmp_path, hints)
    rendered = [p.render() for p in caught.value.problems]
    assert any(says in r and "plan.yaml:" in r for r in rendered), rendered
