"""A router for engine tests: no I/O; remembers what it applied (deliberately not an entry
point: tests use it directly)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PrivateAttr

from phasegate.plugin import PluginContext
from phasegate.traffic.base import RouterError, RouterSpec, Weights


class FakeRouter(RouterSpec):
    kind: ClassVar[str] = "fake"

    fake: dict[str, int] = Field(
        default_factory=dict,
        description="canary weights that fail to apply, mapped to how many times they fail",
    )
    _applied: list[Weights] = PrivateAttr(default_factory=list)

    @property
    def applied(self) -> list[Weights]:
        """Every change applied, oldest first."""
        return self._applied

    async def apply(self, weights: Weights, ctx: PluginContext) -> Weights:
        canary = str(sum(list(weights.values())[1:]))
        if self.fake.get(canary, 0) > 0:
            self.fake[canary] -= 1
            raise RouterError(f"fake: refusing weight {canary}")
        self._applied.append(dict(weights))
        return dict(weights)
