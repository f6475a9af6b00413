"""``metric``: ask a metric provider for a value and judge it with CEL conditions.

```yaml
- metric: 'sum(rate(http_errors_total[1m])) / sum(rate(http_requests_total[1m]))'
  provider: {prometheus: {url: http://127.0.0.1:9090}}   # exactly one provider kind key
  failure: value > 0.01          # CEL over `value` (a double); true = failed
  success: value <= 0.01         # CEL; true = passed
  no_data: fail                  # fail | pause | ignore
  aggregate: max                 # min | max | sum | avg, when the query returns several series
```

Outcomes, in order:

* the provider could not answer (unreachable, HTTP 5xx, bad JSON, a rejected query, a
  timeout, several series without ``aggregate``): ``error``, the check could not look;
* no data (an empty vector, a JSON path selecting nothing, empty output; NaN, which is what
  a ratio over no traffic gives): ``no_data: fail`` -> ``failed``, ``ignore`` -> ``passed``,
  ``pause`` -> ``error`` with ``observed.action = "pause"`` for the engine to act on;
* ``failure`` true -> ``failed``; else ``success`` true -> ``passed``, false -> ``failed``
  (``observed.inconclusive`` when ``failure`` was given too: neither condition decided);
  with only ``failure``, false -> ``passed``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import (
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from phasegate.checks._support import observation, time_limit
from phasegate.checks.base import CheckSpec, Observation
from phasegate.expr import ExprError, truthy
from phasegate.metrics.base import MetricResult, Provider, ProviderError, Sample, finite_or_text
from phasegate.metrics.registry import located_error, provider_kinds, validate_provider
from phasegate.plugin import PluginContext, hide_password
from phasegate.run.record import JsonDict

# A provider gets this long beyond its own time limit before the check stops waiting: its
# own timeout words the problem better, this only guards against one that never returns.
GRACE = 2.0
SERIES_SHOWN = 20


class _ProviderJsonSchema:
    """The JSON Schema of `provider:`: one mapping key per registered kind. Built when a
    schema is asked for, so loading a plan does not import every provider."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        variants = []
        for name, model in sorted(provider_kinds().items()):
            options = handler(model.__pydantic_core_schema__)
            variants.append(
                {
                    "type": "object",
                    "properties": {name: options},
                    "required": [name],
                    "additionalProperties": False,
                }
            )
        return {
            "anyOf": variants,
            "description": "where values come from: one key naming the provider kind",
        }


def _dump_provider(provider: Provider) -> dict[str, JsonDict]:
    return {provider.kind: provider.model_dump(mode="json", by_alias=True, exclude_defaults=True)}


# Validated by the provider registry so a third-party kind is as welcome as a built-in. A
# plain string is reserved for naming a plan-level provider (not there yet, refused today).
ProviderOption = Annotated[
    Provider,
    PlainValidator(validate_provider),
    PlainSerializer(_dump_provider, return_type=dict[str, JsonDict]),
    _ProviderJsonSchema(),
]

Aggregate = Literal["min", "max", "sum", "avg"]


class MetricCheck(CheckSpec):
    """A metric, from a provider, meets CEL conditions."""

    kind: ClassVar[str] = "metric"

    metric: str = Field(
        min_length=1,
        description="the query, in the provider's language (PromQL for prometheus); ${VAR}s expand",
    )
    provider: ProviderOption = Field(
        description="where the value comes from: one key naming the kind, e.g. "
        "{prometheus: {url: http://127.0.0.1:9090}}"
    )
    failure: str | None = Field(None, description="CEL over `value` (a double); true = failed")
    success: str | None = Field(None, description="CEL over `value` (a double); true = passed")
    no_data: Literal["fail", "pause", "ignore"] = Field(
        "fail", description="when the query returns no data: fail, pause or ignore (pass)"
    )
    aggregate: Aggregate | None = Field(
        None, description="combine several series into one value: min, max, sum or avg"
    )

    @model_validator(mode="after")
    def _conditions(self) -> MetricCheck:
        if self.failure is None and self.success is None:
            raise ValueError(
                "a metric check needs a condition: `failure:`, `success:` or both "
                "(e.g. failure: value > 0.01)"
            )
        try:
            self.provider.check_query(self.metric)
        except ValueError as exc:
            raise located_error(("metric",), self.metric, str(exc), None) from None
        return self

    def describe(self) -> str:
        if self.name:
            return self.name
        text = " ".join(self.metric.split())
        text = text if len(text) <= 60 else text[:59] + "…"
        return f"{text} ({self.provider.describe()})"

    def expectation(self) -> str:
        parts = []
        if self.failure is not None:
            parts.append(f"fails when {self.failure}")
        if self.success is not None:
            parts.append(f"passes when {self.success}")
        if self.aggregate is not None:
            parts.append(f"{self.aggregate} over series")
        parts.append(f"no data: {self.no_data}")
        return ", ".join(parts)

    def expressions(self) -> list[tuple[str, str]]:
        found = [("failure", self.failure), ("success", self.success)]
        return [(name, text) for name, text in found if text is not None]

    async def evaluate(self, ctx: PluginContext) -> Observation:
        provider = self.provider
        shown = ctx.expand(self.metric)
        observed: JsonDict = {"provider": provider.kind, "query": shown}
        limit = time_limit(self, ctx)
        asked = dataclasses.replace(ctx, timeout=limit)
        waited = provider.time_limit(asked) + GRACE
        try:
            result = await asyncio.wait_for(
                provider.query(self.metric if provider.raw_query else shown, asked), waited
            )
        except ProviderError as exc:
            return observation(ctx, "error", observed, f"{provider.kind}: {exc.message}")
        except TimeoutError:
            message = f"{provider.kind}: no answer in {waited:g}s"
            return observation(ctx, "error", observed, message)
        except Exception as exc:
            # A broken third-party provider is the check's problem to report, not a crash.
            message = f"{provider.kind}: the provider failed: {type(exc).__name__}: {exc}"
            return observation(ctx, "error", observed, message)
        if result.source:
            observed["source"] = hide_password(result.source)
        observed.update(result.details)
        return self._judge(ctx, result, observed)

    def _judge(self, ctx: PluginContext, result: MetricResult, observed: JsonDict) -> Observation:
        samples = [s for s in result.samples if not math.isnan(s.value)]
        if len(samples) < len(result.samples):
            observed["nan_series"] = len(result.samples) - len(samples)
        if len(samples) > 1:
            observed["series"] = [
                {"labels": dict(s.labels), "value": finite_or_text(s.value)}
                for s in samples[:SERIES_SHOWN]
            ]
        if not samples:
            why = "NaN" if result.samples else "no data"
            return self._no_data(ctx, observed, why)
        if len(samples) > 1 and self.aggregate is None:
            listed = ", ".join(_labels(s) for s in samples[:5])
            more = f" and {len(samples) - 5} more" if len(samples) > 5 else ""
            message = (
                f"the query returned {len(samples)} series ({listed}{more}); narrow it to one "
                "or give `aggregate: min|max|sum|avg`"
            )
            return observation(ctx, "error", observed, message)
        value = _aggregate(self.aggregate, [s.value for s in samples])
        observed["value"] = finite_or_text(value)
        if len(samples) > 1:
            observed["aggregate"] = self.aggregate
        activation = {**ctx.activation(), "value": value}
        said = f"value {value:g}"
        try:
            if self.failure is not None and truthy(self.failure, activation):
                return observation(ctx, "failed", observed, f"{said}: failure {self.failure}")
            if self.success is None:
                return observation(ctx, "passed", observed, f"{said}: not {self.failure}")
            if truthy(self.success, activation):
                return observation(ctx, "passed", observed, f"{said}: success {self.success}")
        except ExprError as exc:
            return observation(ctx, "error", observed, f"{said}: {exc.message}")
        if self.failure is not None:
            observed["inconclusive"] = True
            message = (
                f"{said}: inconclusive, neither failure ({self.failure}) "
                f"nor success ({self.success}) holds"
            )
            return observation(ctx, "failed", observed, message)
        return observation(ctx, "failed", observed, f"{said}: not {self.success}")

    def _no_data(self, ctx: PluginContext, observed: JsonDict, why: str) -> Observation:
        observed["no_data"] = True
        said = f"the query returned {why}"
        if self.no_data == "ignore":
            return observation(ctx, "passed", observed, f"{said}; ignored (no_data: ignore)")
        if self.no_data == "pause":
            observed["action"] = "pause"
            return observation(ctx, "error", observed, f"{said}; pausing (no_data: pause)")
        return observation(ctx, "failed", observed, f"{said} (no_data: fail)")


def _labels(sample: Sample) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
    return "{" + inner + "}"


def _aggregate(how: Aggregate | None, values: Sequence[float]) -> float:
    if how is None or len(values) == 1:
        return values[0]
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    total = math.fsum(values)
    return total if how == "sum" else total / len(values)
