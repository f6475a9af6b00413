"""The ``analysis:`` model: metrics measured on a schedule, judged by limits and scoring.

```yaml
analysis:
  interval: 30s            # per metric, on a fixed grid
  count: 10                # measurements per metric; omitted = until the phase ends
  failure_limit: 0         # failed measurements tolerated
  metrics:
    - name: error-rate
      metric: sum(rate(http_errors_total[1m])) / sum(rate(http_requests_total[1m]))
      provider: {prometheus: {url: http://127.0.0.1:9090}}
      failure: value > 0.01
```

A metric's query, provider and conditions mean exactly what they mean in a ``metric`` check
(the measuring is delegated to :class:`~phasegate.checks.metric.MetricCheck`); an analysis
adds ``warning:``, a schedule, limits and scoring. Settings a metric leaves out are inherited
from the analysis: :meth:`Analysis.effective` resolves them once, so nothing downstream has to
know about inheritance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from phasegate.checks.metric import Aggregate, MetricCheck, ProviderOption
from phasegate.expr import ExprError, cel_detail, compile_expr
from phasegate.metrics.registry import located_error
from phasegate.options import Duration, Identifier, Model
from phasegate.run.record import JsonDict

NoData = Literal["fail", "pause", "ignore"]


def _critical_alias(schema: JsonDict) -> None:
    """Show ``critical`` in the JSON Schema: it is accepted, and the schema forbids extras."""
    properties = schema.get("properties", {})
    failure = properties.get("failure") if isinstance(properties, dict) else None
    if isinstance(properties, dict) and isinstance(failure, dict):
        properties["critical"] = {
            **failure,
            "description": "another name for `failure` (a critical threshold)",
        }


class AnalysisMetric(Model):
    """One metric of an analysis: a query, where it runs and what its values mean."""

    model_config = ConfigDict(json_schema_extra=_critical_alias)

    name: Identifier = Field(description="names the metric in messages, the journal and reports")
    metric: str = Field(
        min_length=1,
        description="the query, in the provider's language (PromQL for prometheus); "
        "${VAR}s expand at each measurement",
    )
    provider: ProviderOption = Field(
        description="where values come from: one key naming the kind, e.g. "
        "{prometheus: {url: http://127.0.0.1:9090}}"
    )
    success: str | None = Field(
        None, description="CEL over `value` (a double); true = a successful measurement"
    )
    failure: str | None = Field(
        None,
        validation_alias=AliasChoices("failure", "critical"),
        description="CEL over `value`; true = a failed measurement (alias: critical)",
    )
    warning: str | None = Field(
        None,
        description="CEL over `value`; true on a measurement that did not fail = it passes, "
        "in the warning zone",
    )
    no_data: NoData = Field(
        "fail",
        description="a measurement without data counts as failed (fail), inconclusive (pause) "
        "or not at all (ignore)",
    )
    aggregate: Aggregate | None = Field(
        None, description="combine several series into one value: min, max, sum or avg"
    )
    interval: Duration | None = Field(
        None, gt=0, description="time between measurements; default: the analysis's"
    )
    count: int | None = Field(
        None, ge=1, description="measurements to take; default: the analysis's"
    )
    initial_delay: Duration | None = Field(
        None, description="wait before the first measurement; default: the analysis's"
    )
    failure_limit: int | None = Field(
        None, ge=0, description="failed measurements tolerated; default: the analysis's"
    )
    consecutive_error_limit: int | None = Field(
        None,
        ge=0,
        description="provider errors in a row tolerated; default: the analysis's",
    )
    inconclusive_limit: int | None = Field(
        None, ge=0, description="inconclusive measurements tolerated; default: the analysis's"
    )
    weight: float = Field(1.0, gt=0, description="the metric's share of the score (scoring)")
    key: bool = Field(
        False, description="with scoring: a failure of this metric fails the analysis outright"
    )

    _check: MetricCheck | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _one_failure(cls, data: Any) -> Any:
        if isinstance(data, dict) and "failure" in data and "critical" in data:
            raise ValueError(
                "`failure` and `critical` are two names for the same condition; give one"
            )
        return data

    @field_validator("success", "failure", "warning")
    @classmethod
    def _compiles(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                compile_expr(text)
            except ExprError as exc:
                raise ValueError(
                    f"invalid CEL expression {text!r}: {cel_detail(exc.message)}"
                ) from None
        return text

    @model_validator(mode="after")
    def _conditions(self) -> AnalysisMetric:
        if self.failure is None and self.success is None:
            raise ValueError(
                f"analysis metric {self.name!r} needs a condition: `failure:`, `success:` or "
                "both (e.g. failure: value > 0.01)"
            )
        try:
            self.provider.check_query(self.metric)
        except ValueError as exc:
            raise located_error(("metric",), self.metric, str(exc), None) from None
        return self

    def check(self) -> MetricCheck:
        """The ``metric`` check that takes one measurement: built once, validated already."""
        if self._check is None:
            self._check = MetricCheck.model_validate(
                {
                    "name": self.name,
                    "metric": self.metric,
                    "provider": self.provider,
                    "success": self.success,
                    "failure": self.failure,
                    "no_data": self.no_data,
                    "aggregate": self.aggregate,
                }
            )
        return self._check

    def expressions(self) -> list[tuple[str, str]]:
        """CEL expressions as (field, text), like :meth:`CheckSpec.expressions`."""
        found = [("success", self.success), ("failure", self.failure), ("warning", self.warning)]
        return [(name, text) for name, text in found if text is not None]


class Scoring(Model):
    """Keptn-style scoring: the analysis passes on a weighted score instead of "all passed"."""

    pass_: float = Field(
        90.0,
        alias="pass",
        ge=0,
        le=100,
        description="a score (percent) at or above this passes",
    )
    warning: float = Field(
        75.0, ge=0, le=100, description="a score at or above this (and below pass) is a warning"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Scoring:
        if self.warning > self.pass_:
            raise ValueError(
                f"scoring: warning ({self.warning:g}) must not be above pass ({self.pass_:g})"
            )
        return self


@dataclass(frozen=True)
class MetricSettings:
    """A metric's schedule, limits and policies with the analysis defaults filled in."""

    name: str
    interval: float
    count: int | None  # None: measure until the analysis is stopped
    initial_delay: float
    failure_limit: int
    consecutive_error_limit: int
    inconclusive_limit: int
    no_data: NoData
    weight: float = 1.0
    key: bool = False


class Analysis(Model):
    """Metrics measured on a schedule; the verdict comes from ``phasegate.analysis.verdict``."""

    interval: Duration = Field(10.0, gt=0, description="time between measurements of a metric")
    count: int | None = Field(
        None,
        ge=1,
        description="measurements per metric; omitted = until stopped (background analysis)",
    )
    initial_delay: Duration = Field(0.0, description="wait before the first measurement")
    failure_limit: int = Field(
        0, ge=0, description="failed measurements a metric may have; one more fails it"
    )
    consecutive_error_limit: int = Field(
        4,
        ge=0,
        description="provider errors in a row a metric may have; one more is an error",
    )
    inconclusive_limit: int = Field(
        0, ge=0, description="inconclusive measurements a metric may have; one more decides"
    )
    metrics: list[AnalysisMetric] = Field(min_length=1, description="what to measure")
    scoring: Scoring | None = Field(
        None, description="judge by a weighted score instead of requiring every metric to pass"
    )

    @field_validator("metrics")
    @classmethod
    def _distinct(cls, metrics: list[AnalysisMetric]) -> list[AnalysisMetric]:
        seen: set[str] = set()
        for metric in metrics:
            if metric.name in seen:
                raise ValueError(f"two metrics are named {metric.name!r}; names must differ")
            seen.add(metric.name)
        return metrics

    def metric(self, name: str) -> AnalysisMetric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def effective(self, metric: AnalysisMetric | str) -> MetricSettings:
        """The metric's settings, its own where it gives them, the analysis's otherwise."""
        if isinstance(metric, str):
            metric = self.metric(metric)

        def pick(own: Any, inherited: Any) -> Any:
            return inherited if own is None else own

        return MetricSettings(
            name=metric.name,
            interval=pick(metric.interval, self.interval),
            count=pick(metric.count, self.count),
            initial_delay=pick(metric.initial_delay, self.initial_delay),
            failure_limit=pick(metric.failure_limit, self.failure_limit),
            consecutive_error_limit=pick(
                metric.consecutive_error_limit, self.consecutive_error_limit
            ),
            inconclusive_limit=pick(metric.inconclusive_limit, self.inconclusive_limit),
            no_data=metric.no_data,
            weight=metric.weight,
            key=metric.key,
        )

    def settings(self) -> dict[str, MetricSettings]:
        """Every metric's effective settings, by name, in the order written."""
        return {metric.name: self.effective(metric) for metric in self.metrics}

    def expressions(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every CEL expression as (path below the analysis, text), for plan semantics."""
        return [
            (("metrics", index, field), text)
            for index, metric in enumerate(self.metrics)
            for field, text in metric.expressions()
        ]
