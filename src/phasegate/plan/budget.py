"""The plan's ``budget:`` (issue 13 §5): the rollback's guarantee, the run's duration with its
runway warnings and overrun guard, and numeric resource budgets taken from step outputs.

::

    budget:
      rollback: 5m                      # the rollback must finish within this
      duration: 2h                      # the run's work time (human waits excluded)
      runway: [15m, 5m]                 # budget.runway events: warning, then critical
      pause_above: 125%                 # projected total > 125 % of 2h: pause for an approval
      resources:
        tokens:                         # a resource counted from step outputs
          limit: 15000
          output: tokens                # steps write `tokens=1234` to $PHASEGATE_OUTPUT
          runway: [3000, 1000]
          pause_above: 125%

The runway is what is left once the projection is spent: ``budget - projected total``, where
the projected total is what the run has used so far plus the estimate of what it still needs
(``basis``: the median, or the 90th percentile for a cautious plan). Each threshold is passed
once per run. The engine side is ``engine/budgets.py``; the decisions are ``engine/runway.py``;
users read docs/budgets.md.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from phasegate.options import Duration, Identifier, Model

Basis = Literal["p50", "p90"]
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _ratio(value: Any) -> Any:
    """``125%`` -> 1.25; a bare number is a ratio already (``1.25``)."""
    if isinstance(value, str):
        found = _PERCENT.match(value)
        if found is None:
            raise ValueError(f"{value!r} is not a percentage: write e.g. 125% (or the ratio 1.25)")
        return float(found.group(1)) / 100.0
    return value


def _thresholds(values: list[float], unit: str) -> list[float]:
    if any(v <= 0 for v in values):
        raise ValueError(f"runway thresholds are {unit} left and must be more than 0")
    if len(set(values)) != len(values):
        raise ValueError("runway thresholds must be distinct")
    return sorted(values, reverse=True)  # the first passed (warning) is the largest


class _Guard(Model):
    """What duration and resource budgets share: runway thresholds and the pause bound."""

    pause_above: float | None = Field(
        None,
        gt=0,
        description="pause for an approval when the projected total exceeds this share of "
        "the budget (`125%`, or the ratio 1.25); an approval lets the run continue past it",
        json_schema_extra={"examples": ["125%", 1.25]},
    )
    basis: Basis = Field(
        "p50",
        description="which projection the runway and the pause bound read: the median (p50) "
        "or the cautious 90th percentile (p90)",
    )

    _percent = field_validator("pause_above", mode="before", json_schema_input_type=str | float)(
        _ratio
    )


class AmountHint(Model):
    """How much of a resource a step usually reports: the median and the 90th percentile."""

    p50: float = Field(gt=0, description="the median amount (half the runs report less)")
    p90: float = Field(gt=0, description="nine runs in ten report less than this; at least p50")

    @model_validator(mode="after")
    def _ordered(self) -> AmountHint:
        if self.p90 < self.p50:
            raise ValueError(f"p90 ({self.p90:g}) must be at least p50 ({self.p50:g})")
        return self


class ResourceBudget(_Guard):
    """A numeric budget counted from the steps' outputs (``NAME=VALUE`` lines a step writes to
    ``$PHASEGATE_OUTPUT``): the seed's tokens."""

    limit: float = Field(gt=0, description="the budget, in the resource's own unit")
    output: Identifier | None = Field(
        None, description="the step output that counts (default: the resource's name)"
    )
    unit: str | None = Field(None, max_length=20, description="shown after numbers (`tokens`)")
    runway: list[float] = Field(
        default_factory=list,
        max_length=10,
        description="warn when the budget left after the projection falls below each of these "
        "amounts: the first is a warning, the last critical",
    )

    estimate: dict[str, AmountHint] = Field(
        default_factory=dict,
        description="what steps usually report, by step key (`PHASE/STEP`: `{work/a: {p50: "
        "3000, p90: 5000}}`): the prior of each step's amount until the plan's history "
        "reports it; without one, a step no admitted run reported is projected as 0",
    )

    @field_validator("runway")
    @classmethod
    def _ordered(cls, value: list[float]) -> list[float]:
        return _thresholds(value, "amounts")

    @model_validator(mode="after")
    def _below_limit(self) -> ResourceBudget:
        if self.runway and self.runway[0] >= self.limit:
            raise ValueError(
                f"a runway threshold ({self.runway[0]:g}) must be less than the limit "
                f"({self.limit:g})"
            )
        return self


class Budget(_Guard):
    duration: Duration | None = Field(
        None,
        description="the run's work time (human waits excluded); going over it is said at "
        "once on the terminal and notified (`budget.warning`); the run continues",
    )
    rollback: Duration | None = Field(None, description="rollback must finish within this")
    runway: list[Duration] = Field(
        default_factory=list,
        max_length=10,
        description="with `duration`: a `budget.runway` event when the time left after the "
        "projected remaining work falls below each of these (`[15m, 5m]`): the first is a "
        "warning, the last critical",
    )
    resources: dict[Identifier, ResourceBudget] = Field(
        default_factory=dict,
        description="numeric budgets counted from step outputs (e.g. tokens), each with its "
        "own runway and pause bound (docs/budgets.md)",
    )

    @field_validator("runway")
    @classmethod
    def _ordered(cls, value: list[float]) -> list[float]:
        return _thresholds(value, "durations")

    @model_validator(mode="after")
    def _needs_duration(self) -> Budget:
        if self.duration is None and (self.runway or self.pause_above is not None):
            given = "runway" if self.runway else "pause_above"
            raise ValueError(f"`{given}` reads the run's duration budget: give `duration` too")
        if self.duration is not None and self.duration <= 0:
            raise ValueError("duration must be more than 0")
        if self.duration is not None and self.runway and self.runway[0] >= self.duration:
            raise ValueError(
                f"a runway threshold ({self.runway[0]:g}s) must be less than the duration "
                f"budget ({self.duration:g}s)"
            )
        return self

    @property
    def watched(self) -> bool:
        """Whether the run projects its budgets while it runs (runway or pause bounds)."""
        return bool(self.runway or self.pause_above is not None or self.resources)
