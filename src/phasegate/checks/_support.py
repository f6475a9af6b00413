"""Small helpers shared by the built-in check kinds; not part of the plugin interface."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import os
import uuid
from collections.abc import Callable
from typing import Any

from phasegate.checks.base import CheckSpec, Observation, Status
from phasegate.compare import OPERATORS, describe, validate_expectation
from phasegate.plugin import PluginContext, one_line


def comparison(value: Any) -> Any:
    """Validate an expectation that is a plain value or an operator mapping.

    ``compare.validate_expectation`` lets a mapping without any operator through as a plain
    value to compare with; for counts, statuses and scalars such a mapping is always a typo.
    """
    validate_expectation(value)
    if isinstance(value, dict) and not (value and set(value) <= OPERATORS):
        bad = next(iter(value), "")
        raise ValueError(
            f"unknown operator {bad!r}; write a value or a comparison such as {{'>=': 1}} "
            f"using {', '.join(sorted(OPERATORS))}"
        )
    return value


def words(expected: Any) -> str:
    """An expectation as words: ``3`` for equality, ``>= 8`` for an operator mapping."""
    text = describe(expected)
    return text[3:] if text.startswith("== ") else text


def expand_all(value: Any, expand: Callable[[str], str]) -> Any:
    """Substitute ``${VAR}`` in every string of a JSON-like value."""
    if isinstance(value, str):
        return expand(value)
    if isinstance(value, dict):
        return {expand_all(k, expand): expand_all(v, expand) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_all(v, expand) for v in value]
    return value


def resolve_path(ctx: PluginContext, text: str) -> str:
    """A user-written path, variables expanded, relative to the plan's directory."""
    path = os.path.expanduser(ctx.expand(text))
    return os.path.abspath(os.path.join(ctx.plan_dir, path))


def time_limit(spec: CheckSpec, ctx: PluginContext) -> float:
    return spec.timeout or ctx.timeout


def jsonable(value: Any, limit: int = 200) -> Any:
    """A database or header value made JSON-serialisable and small enough for a journal."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return {"base64": base64.b64encode(raw[:limit]).decode(), "size": len(raw)}
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, limit) for v in value]
    return jsonable(str(value), limit)


def observation(ctx: PluginContext, status: Status, observed: Any, message: str) -> Observation:
    """An Observation with a one-line message, secrets masked in it and in what was observed.

    Secrets may sit in a URL, a header echoed back, a response body or a row.
    """
    return Observation(status, ctx.masker.data(observed), ctx.masker.text(one_line(message)))
