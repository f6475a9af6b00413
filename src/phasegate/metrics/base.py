"""The metric provider interface: one small class per kind.

A provider kind is a pydantic model (its options, validated at plan load with unknown keys
rejected) with one coroutine, :meth:`Provider.query`, that asks its source once and returns a
:class:`MetricResult`: zero (no data), one or several samples. Deciding what a value means
(conditions, ``no_data``, several series) is the ``metric`` check's business, so a provider
only says what it got.

A provider that cannot answer (connection refused, an HTTP 5xx, a malformed document, a
rejected query, a timeout) raises :class:`ProviderError`; the check records that as an
observation with status ``error``: it could not look, which is neither passed nor failed.

Kinds register through the ``phasegate.metrics`` entry-point group, built-ins included.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field

from phasegate.errors import PhasegateError
from phasegate.options import Duration, Model
from phasegate.plugin import PluginContext
from phasegate.run.record import JsonValue


class ProviderError(PhasegateError):
    """The provider could not answer. The message is for humans; secrets are masked later."""


@dataclass(frozen=True)
class Sample:
    """One value, with the labels that tell it from its siblings (a Prometheus series)."""

    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricResult:
    """What one query returned. No samples means no data (an empty vector, a JSON path that
    selects nothing, empty output), which plans handle with ``no_data:``."""

    samples: tuple[Sample, ...] = ()
    source: str = ""  # where the values came from (a URL, a command), for messages
    details: Mapping[str, JsonValue] = field(default_factory=dict)  # extra observations

    @classmethod
    def of(cls, *values: float, source: str = "") -> MetricResult:
        return cls(tuple(Sample(v) for v in values), source)


class Provider(Model):
    """Options every provider accepts, whatever its kind."""

    kind: ClassVar[str] = ""
    # True: query() receives the check's text as written, ``${VAR}``s untouched. For shell
    # scripts, where variables reach the command through its environment so that a value
    # can never become shell syntax (see plan/variables.py).
    raw_query: ClassVar[bool] = False

    timeout: Duration | None = Field(
        None, description="limit for one query; default: the check's timeout"
    )

    def describe(self) -> str:
        """Where values come from, in a few words (shown in progress output and reports)."""
        return self.kind

    def check_query(self, query: str) -> None:
        """Validate the check's query at plan load; raise ValueError to reject it."""

    def time_limit(self, ctx: PluginContext) -> float:
        return self.timeout if self.timeout is not None else ctx.timeout

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        """Ask the source once; ``query`` has its ``${VAR}``s expanded already."""
        raise NotImplementedError


_NUMBER = re.compile(
    r"""[+-]?(?:
        (?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?   # 3, 0.5, .5, 1e-3
        |inf(?:inity)?|nan                          # Prometheus writes NaN, +Inf, -Inf
    )""",
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def parse_number(text: str) -> float:
    """A number written as text (command output, a Prometheus sample, a JSON string).

    Stricter than ``float()``, which also takes ``1_000``, full-width digits and the like:
    a metric that prints something unexpected should be an error, not a guess.
    """
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        shown = stripped if len(stripped) <= 60 else stripped[:57] + "..."
        raise ProviderError(f"not a number: {shown!r}")
    return float(stripped)


def number(value: Any, where: str) -> float | None:
    """A JSON value as a number; ``None`` for null (no data). Raises ProviderError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProviderError(f"{where} is {str(value).lower()}, not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ProviderError as exc:
            raise ProviderError(f"{where}: {exc.message}") from None
    kind = "a list" if isinstance(value, list) else "a mapping"
    raise ProviderError(f"{where} is {kind}, not a number")


def finite_or_text(value: float) -> float | str:
    """A value as the journal can store it (strict JSON has no NaN or Infinity)."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
