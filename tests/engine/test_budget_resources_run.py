"""Resource budgets counted from step outputs (issue 13 §5, the seed's tokens): what a run
used, what history projects the rest will use, the runway and the pause bound, for real."""

from __future__ import annotations

import random
from typing import Any

from phasegate.estimate.history import RunDurations
from phasegate.estimate.resources import fit_resource, project
from phasegate.plan.model import Plan
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan

STEPS = """\
phases:
  - id: work
    steps:
      - {name: a, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}
      - {name: b, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}
      - {name: c, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}
"""


def plan_text(limit: int, pause: str = "") -> str:
    guard = f", pause_above: {pause}" if pause else ""
    return (
        "version: 1\nname: tokens\n"
        f"budget: {{resources: {{tokens: {{limit: {limit}, runway: [40, 20]{guard}}}}}}}\n" + STEPS
    )


def journal(cli: CLI, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir)
    try:
        return [(etype, data) for _, _, etype, data in store.events(run_id)]
    finally:
        store.close()


def test_tokens_from_outputs_pass_the_runway_then_history_holds_the_next_run(cli: CLI) -> None:
    # No history: the projection is what was used; the last step leaves 10 of 100.
    first = cli("run", str(write_plan(cli.cwd, plan_text(100), "a.yaml")))
    assert first.returncode == 0, first.stderr
    run1 = cli.status()["run"]["id"]
    said = [d for t, d in journal(cli, run1) if t == "budget.runway"]
    assert [(d["budget"], d["threshold"], d["severity"], d["used"]) for d in said] == [
        ("tokens", 40, "warning", 90),
        ("tokens", 20, "critical", 90),
    ]
    assert "critical: budget runway (tokens): 10 tokens left" in first.stderr

    # The same plan (by name) with 70 tokens: history says ~90 before a step runs, over
    # 125% of 70 (87.5): held before anything starts.
    second = cli("run", str(write_plan(cli.cwd, plan_text(70, "125%"), "b.yaml")))
    assert second.returncode == 4, second.stderr
    run2 = cli.status()["run"]["id"]
    status = cli.status(run2)
    assert status["pause"]["message"].startswith("tokens budget: projected 9")
    assert "over the pause bound of 125% (87.5 tokens)" in status["pause"]["message"]
    events = journal(cli, run2)
    assert not [d for t, d in events if t == "item.started"]  # nothing ran
    projected = [d["projected"] for t, d in events if t == "budget.runway"]
    assert projected and all(80 < p < 100 for p in projected)

    assert cli("approve", run2, "--comment", "PM: go").returncode == 0
    resumed = cli("resume", run2)
    assert resumed.returncode == 0, resumed.stderr
    assert "run used 90 tokens, over its budget of 70 tokens; the run continues" in resumed.stderr
    overruns = [d for t, d in journal(cli, run2) if t == "warning" and d.get("budget")]
    assert [d["budget"] for d in overruns] == ["tokens"]


PLAN = Plan.model_validate(
    {
        "version": 1,
        "name": "p",
        "phases": [{"id": "w", "steps": [{"id": "a", "run": "x"}, {"id": "b", "run": "y"}]}],
    }
)


def past(tokens_a: float, tokens_b: float, status: str = "succeeded") -> RunDurations:
    return RunDurations(
        run_id=f"r{tokens_a}",
        plan="p",
        status=status,
        created_at=0,
        vars={},
        amounts={"w/a": {"tokens": tokens_a}, "w/b": {"tokens": tokens_b}},
    )


def done(key: str, tokens: str) -> dict[str, Any]:
    return {key: {"tokens": tokens}}


def test_projection_learns_per_step_only_from_admitted_runs() -> None:
    rng = random.Random(3)
    history = [past(rng.lognormvariate(7, 0.2), rng.lognormvariate(8, 0.2)) for _ in range(30)]
    refused = [past(1e9, 1e9, status="failed")]  # outside the default rule: teaches nothing
    model = fit_resource(PLAN, history + refused, "tokens")
    assert model.evidence["w/a"].n == 30
    fresh = project(model, {})
    assert fresh.used == 0 and 3800 < fresh.p50 < 4500 and fresh.p90 > fresh.p50  # e^7 + e^8
    halfway = project(model, done("w/a", "1,500"))
    assert halfway.used == 1500
    assert 1500 + 2500 < halfway.p50 < 1500 + 3500  # b's ~e^8 = 2981 still to come
    assert halfway.unprojected == []


def test_steps_without_history_are_not_projected() -> None:
    model = fit_resource(PLAN, [], "tokens")
    use = project(model, done("w/a", "12"))
    assert (use.used, use.p50, use.p90) == (12, 12, 12)
    assert use.unprojected == ["w/b"]


def test_a_step_over_the_pause_bound_holds_the_next_step_back(cli: CLI) -> None:
    """A step's output is judged before the next step starts: the step that passes the pause
    bound is the last one that ran (a finishing step adds no item to the state, so judging
    on new items only let the next step start first)."""
    text = (
        "version: 1\nname: held\n"
        "budget: {resources: {tokens: {limit: 10, pause_above: 125%}}}\n" + STEPS
    ).replace("tokens=30", "tokens=20", 1)
    result = cli("run", str(write_plan(cli.cwd, text)))
    assert result.returncode == 4, result.stderr
    events = journal(cli, cli.status()["run"]["id"])
    started = [d["key"] for t, d in events if t == "item.started"]
    assert started == ["work/a"]
    held = [d for t, d in events if t == "item.finished" and d["key"] == "budget:tokens"]
    assert [d["status"] for d in held] == ["awaiting_approval"]
    assert held[0]["message"].startswith("tokens budget: projected 20 tokens (200% of the 10")
