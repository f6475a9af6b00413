"""Window evaluation cost (issue 13 §1, goal ≤ 50 µs per `is_open` check): seed 003's rules
plus a NY public-holiday deny, at instants spread over a year, every risk; and the cost of
`next_open`/`next_close`, which the engine calls once per wait; and what a waiting run's poll
costs the engine (`decide` every 0.2 s), with one held phase and with 1,000, as a ratio to
the same `decide` of a plan without windows.

Run: ``uv run python bench/windows_eval.py``.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

from phasegate.engine.commands import Wait
from phasegate.engine.decide import decide
from phasegate.plan.model import Plan
from phasegate.plan.windows import Windows
from phasegate.run.events import RunCreated, RunStarted, RunWaiting
from phasegate.run.state import RunState, apply
from phasegate.windows import is_open, next_close, next_open

SEED_003 = Windows.model_validate(
    {
        "timezone": "America/New_York",
        "allow": [
            {"days": ["mon", "tue", "wed", "thu"], "hours": "09:00-16:00"},
            {"days": ["sat", "sun"], "risk": ["none", "low"]},
        ],
        "deny": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "09:30-09:45"},
            {"dates": ["2026-12-24..2026-12-26"]},
            {"holidays": {"country": "US", "subdiv": "NY"}},
        ],
    }
)
RISKS = ("none", "low", "medium", "high")


def main(checks: int = 100_000, searches: int = 500) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    instants = [start + timedelta(minutes=37 * n) for n in range(checks)]
    is_open(SEED_003, start, "low")  # compile, load the holiday calendar
    began = time.perf_counter()
    for n, at in enumerate(instants):
        is_open(SEED_003, at, RISKS[n % 4])
    per_check = (time.perf_counter() - began) / checks * 1e6
    began = time.perf_counter()
    for n in range(searches):
        at = instants[n * 97 % checks]
        next_open(SEED_003, at, RISKS[n % 4])
        next_close(SEED_003, at, RISKS[n % 4])
    per_search = (time.perf_counter() - began) / (2 * searches) * 1e6
    print(f"is_open: {per_check:.2f} µs per check over {checks} instants (goal ≤ 50 µs)")
    print(f"next_open/next_close: {per_search:.0f} µs per call over {2 * searches} calls")
    for phases in (1, 1000):
        waiting, plain = _poll_cost(phases, max(20, checks // (10 * phases)))
        print(
            f"waiting run's poll, {phases} held phase(s): {waiting:.1f} µs "
            f"({waiting / plain:.1f}x decide without windows)"
        )


def _poll_cost(phases: int, polls: int) -> tuple[float, float]:
    """µs per ``decide`` of a run waiting at admission (every phase held: Monday 09:35 in the
    stand-up), and of the same run without windows (which starts its phases)."""
    spec = [
        {"id": f"p{n}", "risk": RISKS[n % 4], "steps": [{"run": "true"}]} for n in range(phases)
    ]
    rules = SEED_003.model_dump(exclude_none=True)
    now = datetime(2026, 12, 7, 14, 35, tzinfo=UTC).timestamp()
    timings = []
    for windows in (rules, None):
        plan = Plan.model_validate(
            {"version": 1, "name": "b", "phases": spec, **({"windows": windows} if windows else {})}
        )
        state = RunState(run_id="bench")
        apply(state, RunCreated(phases=tuple(p["id"] for p in spec)), 1.0)
        apply(state, RunStarted(), 2.0)
        for command in decide(plan, state, (), now):  # compile, warm the caches
            if isinstance(command, Wait):  # the runner journals it: the run waits
                apply(state, RunWaiting.model_validate(dataclasses.asdict(command)), 3.0)
        began = time.perf_counter()
        for _ in range(polls):
            decide(plan, state, (), now)
        timings.append((time.perf_counter() - began) / polls * 1e6)
    return timings[0], timings[1]


if __name__ == "__main__":
    main()
