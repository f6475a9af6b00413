"""``streak``: a schedule's newest runs passed N times in a row ("3 consecutive nights").

```yaml
- streak: {schedule: invariants, passes: 3}
```
The schedule's runs are those its server fires and ``phasegate run --schedule NAME`` records
(schedules/streak.py): a run still in flight is not counted, a succeeded one adds one, any
other finished status ends the streak. ``failed`` while the streak is shorter (the observed
value is the streak); ``error`` for a schedule the store does not have.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from phasegate.checks.base import CheckSpec, Observation
from phasegate.options import Model
from phasegate.plugin import PluginContext


class StreakSpec(Model):
    schedule: str = Field(min_length=1, description="the schedule's name (`phasegate schedule`)")
    passes: int = Field(ge=1, le=10_000, description="consecutive passing runs required")


class StreakCheck(CheckSpec):
    kind: ClassVar[str] = "streak"

    streak: StreakSpec = Field(description="the schedule and how many passes in a row")

    def describe(self) -> str:
        return self.name or f"schedule {self.streak.schedule}: {self.streak.passes} passes"

    def expectation(self) -> str:
        return f"the newest {self.streak.passes} runs of schedule {self.streak.schedule} passed"

    async def evaluate(self, ctx: PluginContext) -> Observation:
        name, wanted = self.streak.schedule, self.streak.passes
        if ctx.streak is None:
            return Observation("error", None, "streaks are read from a run's store; none here")
        found = ctx.streak(name)
        if found is None:
            return Observation("error", None, f"no schedule {name!r} in the store")
        if found >= wanted:
            return Observation("passed", found, f"{found} consecutive passes")
        return Observation(
            "failed", found, f"schedule {name}: {found} consecutive passes, {wanted} needed"
        )
