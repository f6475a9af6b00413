"""The budget watch's models are fitted again when the plan's history changes, looked at when
a phase of the run ends (as the window fit's p90s, engine/phase_p90.py): a long run projects
its runway with fresh estimates. A fake runner and a fake history: nothing runs or sleeps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from phasegate.engine.budgets import BudgetWatch
from phasegate.estimate import RunDurations
from phasegate.plan.model import Plan

PLAN = Plan.model_validate(
    {
        "version": 1,
        "name": "p",
        "budget": {"duration": "1h", "runway": ["10m"]},
        "phases": [
            {"id": "one", "steps": [{"id": "s", "run": "x"}]},
            {"id": "two", "needs": ["one"], "steps": [{"id": "t", "run": "x"}]},
        ],
    }
)


def _runs(n: int, seconds: float, start: int = 0) -> list[RunDurations]:
    return [
        RunDurations(
            f"r{i}", "p", "succeeded", float(i), {}, phases={"one": seconds, "two": seconds}
        )
        for i in range(start, start + n)
    ]


def test_the_watch_fits_again_only_after_a_phase_ends_with_a_changed_history() -> None:
    runner: Any = SimpleNamespace(ctx=SimpleNamespace(plan=PLAN), store=None, state=None)
    watch = BudgetWatch(runner)
    history = {"runs": _runs(20, 100.0), "reads": 0}

    def read() -> list[RunDurations]:
        history["reads"] += 1
        return list(history["runs"])

    watch._read = read  # type: ignore[method-assign]
    assert watch.relearn(frozenset()) is False  # nothing fitted yet: the first projection fits
    watch._fit()
    before = watch._durations
    assert before is not None and history["reads"] == 1
    p90 = before.phase_quantile("two", 0.9)
    assert watch.relearn(frozenset()) is False and history["reads"] == 1  # same stamp: no read
    history["runs"] = _runs(20, 100.0) + _runs(20, 1000.0, start=20)  # slower runs since
    assert watch.relearn(frozenset({"one"})) is True and history["reads"] == 2
    after = watch._durations
    assert after is not before and after is not None
    assert after.phase_quantile("two", 0.9) > 2 * p90
    # A phase end with the same history reads it and fits nothing.
    assert watch.relearn(frozenset({"one", "two"})) is False and history["reads"] == 3
    assert watch._durations is after
