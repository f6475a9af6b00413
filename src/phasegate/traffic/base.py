"""The router interface: one small class per kind, registered through entry points.

A router kind is a pydantic model of its options (unknown keys rejected at plan load) with one
coroutine, :meth:`RouterSpec.apply`, that makes the given weights live and returns the weights
actually in effect afterwards, as the router reports them. Weights are integer percentages per
backend that add up to 100; the engine journals every change and what was applied.
"""

from __future__ import annotations

from typing import ClassVar

from phasegate.options import Model
from phasegate.plugin import PluginContext

Weights = dict[str, int]


class RouterError(Exception):
    """The router could not apply the weights; the previous ones may still be live."""


class RouterSpec(Model):
    """Options every router accepts, whatever its kind."""

    kind: ClassVar[str] = ""

    def describe(self) -> str:
        return f"{self.kind} router"

    async def apply(self, weights: Weights, ctx: PluginContext) -> Weights:
        raise NotImplementedError


def canary_weight(weights: Weights, backends: list[str]) -> int:
    """The share of every backend but the first (the stable one): "the canary weight"."""
    return sum(weights.get(name, 0) for name in backends[1:])


def describe_weights(weights: Weights) -> str:
    return ", ".join(f"{name} {value}%" for name, value in weights.items())
