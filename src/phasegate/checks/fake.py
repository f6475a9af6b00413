"""A scripted check for engine tests: no I/O, outcomes given in the plan.

Plan syntax (register it in a test; it is deliberately not an entry point)::

    - fake: [failed, failed, passed]     # one outcome per evaluation; the last one repeats

Each instance counts its own evaluations, so a gate polled with ``retry`` sees the script in
order.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PrivateAttr

from phasegate.checks.base import CheckSpec, Observation, Status
from phasegate.plugin import PluginContext


class FakeCheck(CheckSpec):
    """Returns scripted outcomes in order, repeating the last one."""

    kind: ClassVar[str] = "fake"

    fake: list[Status] = Field(
        min_length=1, description="outcomes to return in order; the last one repeats"
    )
    _evaluations: int = PrivateAttr(0)

    @property
    def evaluations(self) -> int:
        """How many times evaluate() ran."""
        return self._evaluations

    def describe(self) -> str:
        return self.name or f"fake {' '.join(self.fake)}"

    def expectation(self) -> str:
        return "scripted"

    async def evaluate(self, ctx: PluginContext) -> Observation:
        index = min(self._evaluations, len(self.fake) - 1)
        self._evaluations += 1
        status = self.fake[index]
        return Observation(
            status,
            {"evaluation": self._evaluations},
            f"fake: evaluation {self._evaluations}: {status}",
        )
