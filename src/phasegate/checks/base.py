"""The check interface: one small class per kind.

A check kind is a pydantic model (its options, validated at plan load with unknown keys
rejected) with one coroutine, :meth:`CheckSpec.evaluate`, that observes the world once and
returns an :class:`Observation`. Retrying, ``hold_for``, timeouts and severity are the
engine's business (``engine.gates``), so a kind only says what it saw.

Kinds register through the ``phasegate.checks`` entry-point group, built-ins included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import Field

from phasegate.executors.base import Executor
from phasegate.masking import Masker
from phasegate.plan.types import Duration, Model, RetryPolicy

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


@dataclass
class CheckContext:
    """What a check may use. Everything with side effects arrives through here."""

    executor: Executor
    masker: Masker
    plan_dir: str
    env: Mapping[str, str]
    expand: Callable[[str], str]
    shell: list[str]
    activation: Callable[[], dict[str, Any]] = field(default=lambda: {})
    timeout: float = 60.0
    # Where commands start when they name no `cwd`: the shell session's (`shell_session`),
    # else the plan's directory.
    cwd: str | None = None


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

    async def evaluate(self, ctx: CheckContext) -> Observation:
        raise NotImplementedError
