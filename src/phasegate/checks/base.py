"""The check interface: one small class per kind.

A check kind is a pydantic model (its options, validated at plan load with unknown keys
rejected) with one coroutine, :meth:`CheckSpec.evaluate`, that observes the world once and
returns an :class:`Observation`. Retrying, ``hold_for``, timeouts and severity are the
engine's business (``engine.gates``), so a kind only says what it saw.

Kinds register through the ``phasegate.checks`` entry-point group, built-ins included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from phasegate.options import Duration, Model, RetryPolicy
from phasegate.plugin import PluginContext

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class Observation:
    """What one evaluation saw.

    ``failed`` means the world is not as expected; ``error`` means the check could not look
    (connection refused by a metrics API, a malformed query): triggers and analysis treat the
    two differently.
    """

    status: Status
    observed: Any = None
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class CheckSpec(Model):
    """Options every check accepts, whatever its kind."""

    kind: ClassVar[str] = ""

    id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str | None = None
    severity: Literal["fail", "warn"] = Field(
        "fail", description="warn records a warning instead of failing the gate"
    )
    retry: RetryPolicy | None = Field(None, description="poll until it passes")
    hold_for: Duration | None = Field(
        None, description="must keep passing for this long (polled every `every`)"
    )
    every: Duration = Field(1.0, description="poll interval for hold_for")
    timeout: Duration | None = Field(None, description="limit for one evaluation")

    def describe(self) -> str:
        """A one-line, human description used in progress output and reports."""
        return self.name or f"{self.kind} check"

    def expectation(self) -> str:
        """The expectation, in words, for reports."""
        return ""

    def expressions(self) -> list[tuple[str, str]]:
        """CEL expressions in this check as (field, text), compiled at plan load."""
        return []

    async def evaluate(self, ctx: PluginContext) -> Observation:
        raise NotImplementedError
