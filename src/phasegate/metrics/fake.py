"""A scripted provider for tests: no I/O, values given in the spec.

Python only (deliberately not an entry point, like ``checks/fake.py``)::

    MetricCheck.model_validate(
        {"metric": "errors", "provider": FakeProvider(values=[0.5, None, [1, 2], "error"]),
         "failure": "value > 0.4"}
    )

One entry per query, the last one repeating: a number is one sample, ``None`` is no data, a
list is several samples (series), ``"error"`` makes the provider fail to answer.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, PrivateAttr

from phasegate.metrics.base import MetricResult, Provider, ProviderError, Sample
from phasegate.plugin import PluginContext


class FakeProvider(Provider):
    """Returns scripted values in order, repeating the last one."""

    kind: ClassVar[str] = "fake"

    values: list[float | list[float] | Literal["error"] | None] = Field(
        min_length=1,
        description="one answer per query, the last repeats: a number, a list (several "
        "series), null (no data) or 'error'",
    )
    _queries: list[str] = PrivateAttr(default_factory=list)

    @property
    def queries(self) -> list[str]:
        """The queries asked so far, as the provider received them."""
        return list(self._queries)

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        answer = self.values[min(len(self._queries), len(self.values) - 1)]
        self._queries.append(query)
        if answer == "error":
            raise ProviderError(f"fake: scripted error for query {len(self._queries)}")
        if answer is None:
            return MetricResult(source="fake")
        if isinstance(answer, list):
            samples = tuple(Sample(v, {"series": str(i)}) for i, v in enumerate(answer))
            return MetricResult(samples, source="fake")
        return MetricResult((Sample(answer),), source="fake")
