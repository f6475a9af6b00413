"""The ``estimate:`` blocks of a plan (issue 13 §4): duration hints and the calibration rule.

A step or a phase may say how long it usually takes (``estimate: {p50: 2m, p90: 5m}``): the
prior of its duration model until history says otherwise. The plan's ``estimate:`` holds the
calibration rule (a CEL expression over a past run's facts: which runs may teach the model)
and a default hint for steps without one. The model itself is ``phasegate.estimate``; this
module is only the validated shape, part of the plan model.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from phasegate.expr import ExprError, cel_detail, compile_expr
from phasegate.options import Duration, Model

DEFAULT_CALIBRATION = "status == 'succeeded'"


class EstimateHint(Model):
    """How long this usually takes: the median and the 90th percentile (a duration each)."""

    p50: Duration = Field(description="the median duration (half the runs take less)")
    p90: Duration = Field(description="nine runs in ten take less than this; at least p50")

    @model_validator(mode="after")
    def _ordered(self) -> EstimateHint:
        if self.p50 <= 0:
            raise ValueError("p50 must be more than 0 (e.g. p50: 30s)")
        if self.p90 < self.p50:
            raise ValueError(f"p90 ({self.p90:g}s) must be at least p50 ({self.p50:g}s)")
        return self


class PlanEstimate(Model):
    """The plan-wide estimate settings."""

    calibration: str = Field(
        DEFAULT_CALIBRATION,
        description="CEL over a past run's facts (its vars, `status`, `plan`, `run_id`): only "
        "runs it admits update the estimates, e.g. `run_kind in ['baseline', 'hotfix'] && "
        "validation_pass && !sandbox`",
    )
    default: EstimateHint | None = Field(
        None, description="the hint of steps that give none (default: a vague prior)"
    )

    @field_validator("calibration")
    @classmethod
    def _compiles(cls, text: str) -> str:
        try:
            compile_expr(text)
        except ExprError as exc:
            raise ValueError(
                f"invalid CEL expression {text!r}: {cel_detail(exc.message)}"
            ) from None
        return text
