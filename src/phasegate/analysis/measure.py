"""One measurement of one analysis metric, classified.

Asking the provider and judging the value with ``success``/``failure`` is the ``metric``
check's job, so a measurement is one :meth:`MetricCheck.evaluate` whose observation is sorted
into six statuses:

| observation                                 | measurement    |
|---------------------------------------------|----------------|
| ``observed.no_data`` (empty answer, NaN)    | ``no_data``    |
| ``error`` (no answer, bad answer, CEL error)| ``error``      |
| ``observed.inconclusive`` (neither held)    | ``inconclusive``|
| ``failed``                                  | ``failed``     |
| ``passed`` and ``warning`` true             | ``warning``    |
| ``passed`` otherwise                        | ``successful`` |

``no_data`` is reported as itself whatever the metric's ``no_data:`` policy says: applying the
policy is the tally's business (``analysis.verdict``), so the journal keeps what was seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from phasegate.expr import ExprError, truthy
from phasegate.metrics.base import finite_or_text
from phasegate.plan.analysis import AnalysisMetric
from phasegate.plugin import PluginContext
from phasegate.run.record import JsonDict

MeasurementStatus = Literal["successful", "warning", "failed", "inconclusive", "error", "no_data"]


class MeasurementJson(TypedDict):
    """A measurement as reports and the journal's verdicts keep it."""

    metric: str
    at: float
    status: MeasurementStatus
    value: float | str | None  # a non-finite value as text (``NaN``, ``+Inf``)
    message: str
    observed: JsonDict


@dataclass(frozen=True)
class Measurement:
    """What one query of one metric gave, when, and what it means."""

    metric: str
    at: float  # wall-clock time the answer arrived (time.time())
    status: MeasurementStatus
    value: float | None = None
    message: str = ""
    observed: JsonDict = field(default_factory=dict)

    def to_dict(self) -> MeasurementJson:
        """JSON-ready (values are finite: NaN is no data, infinities become text)."""
        return {
            "metric": self.metric,
            "at": self.at,
            "status": self.status,
            "value": None if self.value is None else finite_or_text(self.value),
            "message": self.message,
            "observed": self.observed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        """A measurement back from the journal (to rebuild tallies on resume)."""
        return cls(
            metric=data["metric"],
            at=float(data["at"]),
            status=data["status"],
            value=_value(data.get("value")),
            message=data.get("message", ""),
            observed=dict(data.get("observed") or {}),
        )


async def measure(
    metric: AnalysisMetric, ctx: PluginContext, *, clock: Callable[[], float] = time.time
) -> Measurement:
    """Ask the provider once and classify the answer (never raises for provider trouble)."""
    observation = await metric.check().evaluate(ctx)
    at = clock()
    observed = dict(observation.observed) if isinstance(observation.observed, Mapping) else {}
    value = _value(observed.get("value"))

    def made(status: MeasurementStatus, message: str = observation.message) -> Measurement:
        return Measurement(metric.name, at, status, value, message, observed)

    if observed.get("no_data"):
        return made("no_data")
    if observation.status == "error":
        return made("error")
    if observed.get("inconclusive"):
        return made("inconclusive")
    if observation.status == "failed":
        return made("failed")
    if metric.warning is None or value is None:
        return made("successful")
    activation = {**ctx.activation(), "value": value}
    try:
        warned = truthy(metric.warning, activation)
    except ExprError as exc:
        return made("error", ctx.masker.text(f"value {value:g}: warning: {exc.message}"))
    if warned:
        return made("warning", ctx.masker.text(f"value {value:g}: warning {metric.warning}"))
    return made("successful")


def _value(shown: Any) -> float | None:
    """The value back from what the check recorded (infinities are stored as text)."""
    if isinstance(shown, bool) or shown is None:
        return None
    if isinstance(shown, int | float):
        return float(shown)
    if isinstance(shown, str):
        try:
            return float(shown)
        except ValueError:
            return None
    return None
