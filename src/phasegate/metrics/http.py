"""``http``: GET a JSON document and read a number from it with a JSONPath.

```yaml
- metric: $.data.error_rate          # the JSONPath, unless `path:` is given
  provider:
    http:
      url: http://127.0.0.1:8080/stats   # ${VAR}s expand
      path: $.data.error_rate            # optional; then `metric:` only names the value
      headers: {Authorization: "Bearer ${TOKEN}"}
```

The path selects zero values (no data), one, or several (several samples: aggregate them in
the check). A JSON ``null`` is no data; numbers and numeric strings are values; anything else,
a non-2xx answer, a body that is not JSON and a timeout mean the provider could not answer.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field

from phasegate.compare import ComparisonError, json_path
from phasegate.metrics import _fetch
from phasegate.metrics.base import MetricResult, Provider, ProviderError, Sample, number
from phasegate.plugin import PluginContext, excerpt, hide_password, one_line


def check_path(path: str) -> None:
    """Reject an invalid JSONPath (ComparisonError is a ValueError), unless it still holds
    ``${VAR}``s that only the run can expand."""
    if "${" not in path:
        json_path(None, path)


def _valid_path(path: str | None) -> str | None:
    if path is not None:
        check_path(path)
    return path


# A provider's `path:` option, rejected at plan load when it is not a JSONPath.
JsonPathOption = Annotated[str | None, AfterValidator(_valid_path)]


def samples_at(document: Any, path: str, where: str, source: str = "") -> MetricResult:
    """The numbers a JSONPath selects in a document; ``null`` selections are no data.
    ``where`` names the document in messages."""
    try:
        found = json_path(document, path)
    except ComparisonError as exc:
        raise ProviderError(f"{where}: {exc}") from None
    samples = []
    for index, value in enumerate(found):
        parsed = number(value, f"{where}: {path}" + (f" (match {index + 1})" if index else ""))
        if parsed is not None:
            labels = {"match": str(index)} if len(found) > 1 else {}
            samples.append(Sample(parsed, labels))
    return MetricResult(tuple(samples), source=source)


class HttpProvider(Provider):
    """A number read from a JSON document served over HTTP."""

    kind: ClassVar[str] = "http"

    url: str = Field(min_length=1, description="URL of the JSON document; ${VAR}s expand")
    path: JsonPathOption = Field(
        None,
        description="JSONPath of the number, e.g. $.data.error_rate; default: the check's "
        "`metric:` text",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="request headers; ${VAR}s expand, secrets are masked"
    )
    verify_tls: bool = Field(True, description="verify the server's TLS certificate")

    def check_query(self, query: str) -> None:
        if self.path is None:
            check_path(query)

    def describe(self) -> str:
        return f"http {hide_password(self.url)}"

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        url = ctx.expand(self.url)
        path = ctx.expand(self.path) if self.path is not None else query
        target = f"GET {hide_password(url)}"
        response, text = await _fetch.get(
            url,
            headers={k: ctx.expand(v) for k, v in self.headers.items()},
            timeout=self.time_limit(ctx),
            verify=self.verify_tls,
        )
        if not 200 <= response.status_code < 300:
            said = one_line(excerpt(text, 200)) if text.strip() else "empty body"
            raise ProviderError(f"{target}: HTTP {response.status_code}: {said}")
        try:
            document = json.loads(text)
        except ValueError:
            raise ProviderError(
                f"{target}: the answer is not JSON: {one_line(excerpt(text, 120))}"
            ) from None
        return samples_at(document, path, target, source=target)
