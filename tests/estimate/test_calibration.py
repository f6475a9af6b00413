"""The calibration rule: only runs it admits teach the estimates; a run outside it — whatever
it took — never changes them; the rolling-origin backtest reports MAE and coverage."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.estimate import admits, backtest, fit
from phasegate.estimate.history import RunDurations
from phasegate.plan.loader import load_plan_text
from phasegate.plan.model import Plan

RULE = "run_kind in ['baseline', 'hotfix'] && validation_pass && !sandbox"
PLAN = f"""\
version: 1
name: web
estimate:
  calibration: "{RULE}"
phases:
  - id: build
    estimate: {{p50: 1m, p90: 3m}}
    steps:
      - {{id: compile, run: make, estimate: {{p50: 40s, p90: 2m}}}}
      - {{id: test, run: make test}}
  - id: ship
    needs: [build]
    steps:
      - {{id: upload, run: ./upload}}
  - id: docs
    steps:
      - {{id: publish, run: ./docs}}
"""


def plan() -> Plan:
    return load_plan_text(PLAN, Path("plan.yaml")).plan


def run(
    n: int, seconds: dict[str, float], *, status: str = "succeeded", **facts: Any
) -> RunDurations:
    steps = {
        "build/compile": seconds["compile"],
        "build/test": seconds["test"],
        "ship/upload": seconds["upload"],
        "docs/publish": seconds["publish"],
    }
    phases = {
        "build": seconds["compile"] + seconds["test"],
        "ship": seconds["upload"],
        "docs": seconds["publish"],
    }
    total = max(phases["build"] + phases["ship"], phases["docs"])
    return RunDurations(
        run_id=f"r{n}",
        plan="web",
        status=status,
        created_at=float(n),
        vars=facts,
        steps=steps,
        phases=phases,
        total=total if status == "succeeded" else None,
    )


GOOD = {"run_kind": "baseline", "validation_pass": True, "sandbox": False}


ONES = dict.fromkeys(("compile", "test", "upload", "publish"), 1.0)


def test_the_rule_reads_vars_and_the_runs_status() -> None:
    assert admits(RULE, run(1, ONES, **GOOD)) == (True, None)
    assert admits(RULE, run(2, ONES, **{**GOOD, "sandbox": True})) == (False, None)
    # `--var sandbox=true` arrives as text: read as the boolean it says
    assert admits(RULE, run(3, ONES, **{**GOOD, "sandbox": "true"})) == (False, None)
    assert admits(RULE, run(4, ONES, **{**GOOD, "validation_pass": "true"})) == (True, None)
    ok, why = admits(RULE, run(5, ONES, run_kind="baseline"))
    assert not ok and why is not None and "validation_pass" in why
    failed = run(6, ONES, status="failed")
    assert admits("status == 'succeeded'", failed) == (False, None)
    assert admits("status == 'failed' && plan == 'web' && run_id == 'r6'", failed) == (True, None)


seconds = st.fixed_dictionaries(
    {k: st.floats(0.01, 10_000) for k in ("compile", "test", "upload", "publish")}
)
outsider = st.tuples(
    seconds,
    st.sampled_from(
        [
            {**GOOD, "sandbox": True},
            {**GOOD, "run_kind": "experiment"},
            {**GOOD, "validation_pass": False},
            {"run_kind": "baseline"},  # the rule cannot be evaluated: not admitted
        ]
    ),
)


@settings(max_examples=40, deadline=None)
@given(
    admitted=st.lists(seconds, max_size=8),
    outsiders=st.lists(st.tuples(st.integers(0, 8), outsider), max_size=8),
)
def test_a_run_outside_the_rule_never_changes_the_estimates(
    admitted: list[dict[str, float]],
    outsiders: list[tuple[int, tuple[dict[str, float], dict[str, Any]]]],
) -> None:
    the_plan = plan()
    inside = [run(n, s, **GOOD) for n, s in enumerate(admitted)]
    mixed = list(inside)
    for offset, (at, (taken, facts)) in enumerate(outsiders):
        mixed.insert(min(at, len(mixed)), run(100 + offset, taken, **facts))
    clean, noisy = fit(the_plan, inside), fit(the_plan, mixed)
    assert noisy.admission.refused == len(outsiders)
    assert [r.run_id for r in noisy.admission.admitted] == [r.run_id for r in inside]
    assert clean.models.estimate(samples=500) == noisy.models.estimate(samples=500)


def test_with_no_admitted_runs_the_estimates_are_the_hints() -> None:
    sandboxed = run(1, dict.fromkeys(ONES, 999.0), **{**GOOD, "sandbox": True})
    fitted = fit(plan(), [sandboxed])
    steps, phases, _ = fitted.models.estimate(samples=500)
    compile_ = next(e for e in steps if e.key == "build/compile")
    assert (compile_.p50, compile_.source, compile_.runs) == (pytest.approx(40.0), "hint", 0)
    build = next(e for e in phases if e.key == "build")
    assert build.p50 == pytest.approx(60.0) and build.source == "hint"
    assert next(e for e in phases if e.key == "ship").source == "steps"


def test_backtest_reports_mae_and_coverage_on_a_known_history() -> None:
    """300 runs whose steps take known log-normal times: rolling-origin predictions of steps,
    phases and the whole run cover the truth 85–95 % of the time; MAE is reported."""
    rng = random.Random(7)
    medians = {"compile": 40.0, "test": 20.0, "upload": 30.0, "publish": 15.0}

    def draw() -> dict[str, float]:
        return {k: rng.lognormvariate(math.log(m), 0.3) for k, m in medians.items()}

    history = [run(n, draw(), **GOOD) for n in range(300)]
    history += [
        run(300 + n, dict.fromkeys(medians, 10000.0), **{**GOOD, "sandbox": True})
        for n in range(20)
    ]
    report = backtest(plan(), history, run_origins=280, samples=1000)
    scores = {s["kind"]: s for s in report.as_dict()["scores"]}
    assert report.admission.refused == 20
    for kind in ("step", "phase", "run"):
        print(kind, scores[kind])
        assert scores[kind]["predictions"] > 100
        assert 0.85 <= scores[kind]["coverage"] <= 0.95, kind
        assert 0 < scores[kind]["mae_pct"] < 40, kind
