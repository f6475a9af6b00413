"""Window evaluation cost (issue 13 §1, goal ≤ 50 µs per `is_open` check): seed 003's rules
plus a NY public-holiday deny, at instants spread over a year, every risk; and the cost of
`next_open`/`next_close`, which the engine calls once per wait.

Run: ``uv run python bench/windows_eval.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from phasegate.plan.windows import Windows
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


if __name__ == "__main__":
    main()
