"""``prometheus``: an instant query against the Prometheus HTTP API.

```yaml
provider:
  prometheus:
    url: http://127.0.0.1:9090          # the server (or Thanos, Mimir, VictoriaMetrics…)
    headers: {Authorization: "Bearer ${PROM_TOKEN}"}   # ${VAR}s expand; secrets are masked
    timeout: 10s                        # default: the check's timeout
```

``GET {url}/api/v1/query?query=…``. A ``vector`` answer gives one sample per series (with
its labels), an empty vector is no data, a ``scalar`` one sample. Prometheus writes ``NaN``
(a ratio over no traffic, 0/0) and ``±Inf`` as sample values; they are passed on as floats.
A ``status: error`` answer (a malformed query), an HTTP error, a body that is not the API's
JSON, a range vector (``matrix``) and a timeout mean the provider could not answer.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import Field

from phasegate.metrics import _fetch
from phasegate.metrics.base import MetricResult, Provider, ProviderError, Sample, parse_number
from phasegate.plugin import PluginContext, excerpt, hide_password, one_line
from phasegate.run.record import JsonDict


class PrometheusProvider(Provider):
    """Instant queries against the Prometheus HTTP API."""

    kind: ClassVar[str] = "prometheus"

    url: str = Field(
        min_length=1, description="base URL of the Prometheus API, e.g. http://127.0.0.1:9090"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="request headers; ${VAR}s expand, secrets are masked"
    )
    verify_tls: bool = Field(True, description="verify the server's TLS certificate")

    def describe(self) -> str:
        return f"prometheus at {hide_password(self.url)}"

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        base = ctx.expand(self.url).rstrip("/")
        endpoint = f"{base}/api/v1/query"
        target = f"GET {hide_password(endpoint)}"
        response, text = await _fetch.get(
            endpoint,
            params={"query": query},
            headers={k: ctx.expand(v) for k, v in self.headers.items()},
            timeout=self.time_limit(ctx),
            verify=self.verify_tls,
        )
        try:
            document: Any = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and document.get("status") == "error":
            # Prometheus answers a bad query with 400/422 and this envelope: its words are
            # the useful part, whatever the HTTP status.
            kind = document.get("errorType") or "error"
            raise ProviderError(f"{target}: query rejected ({kind}): {document.get('error')}")
        if not 200 <= response.status_code < 300:
            said = one_line(excerpt(text, 200)) if text.strip() else "empty body"
            raise ProviderError(f"{target}: HTTP {response.status_code}: {said}")
        if document is None:
            raise ProviderError(f"{target}: the answer is not JSON: {one_line(excerpt(text, 120))}")
        if not isinstance(document, dict) or document.get("status") != "success":
            raise ProviderError(f"{target}: not a Prometheus API answer: {one_line(text[:120])}")
        samples, result_type = _samples(document.get("data"), target)
        details: JsonDict = {"result_type": result_type}
        warnings = document.get("warnings")
        if isinstance(warnings, list) and warnings:
            details["warnings"] = [str(w)[:200] for w in warnings[:5]]
        return MetricResult(tuple(samples), source=hide_password(base), details=details)


def _samples(data: Any, target: str) -> tuple[list[Sample], str]:
    def malformed(what: str) -> ProviderError:
        return ProviderError(f"{target}: malformed answer: {what}")

    if not isinstance(data, dict):
        raise malformed("no `data` object")
    result_type, result = data.get("resultType"), data.get("result")
    if result_type == "vector":
        if not isinstance(result, list):
            raise malformed("a vector's result is not a list")
        samples = []
        for series in result:
            if not isinstance(series, dict):
                raise malformed("a series is not an object")
            labels = series.get("metric") or {}
            if not isinstance(labels, dict):
                raise malformed("a series' labels are not an object")
            value = _value(series.get("value"), target)
            samples.append(Sample(value, {str(k): str(v) for k, v in labels.items()}))
        return samples, "vector"
    if result_type in ("scalar", "string"):
        return [Sample(_value(result, target))], str(result_type)
    if result_type == "matrix":
        raise ProviderError(
            f"{target}: the query returned a range vector (matrix); a check needs an instant "
            "value: drop the [range] or wrap it, e.g. avg_over_time(m[5m])"
        )
    raise malformed(f"unknown resultType {result_type!r}")


def _value(pair: Any, target: str) -> float:
    # The API writes every sample as [unix time, "value as text"].
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)):
        raise ProviderError(f'{target}: malformed answer: a sample is not [time, "value"]')
    try:
        return parse_number(pair[1])
    except ProviderError as exc:
        raise ProviderError(f"{target}: sample {exc.message}") from None
