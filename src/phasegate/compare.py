"""Comparisons as plans write them, shared by every check kind.

An expectation is either a plain value (equality) or a mapping of operators:
``{">": 5}``, ``{"<=": 0.01}``, ``{"between": [1, 3]}``, ``{"in": [200, 204]}``,
``{"contains": "ok"}``, ``{"matches": "^v1\\."}``, ``{"exists": true}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import JsonValue

OPERATORS = {
    "==",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "in",
    "not_in",
    "contains",
    "matches",
    "between",
    "exists",
}


class ComparisonError(ValueError):
    pass


def validate_expectation(expected: Any) -> Any:
    if isinstance(expected, dict) and expected and set(expected) <= OPERATORS:
        for op, operand in expected.items():
            if op in ("in", "not_in") and not isinstance(operand, list):
                raise ComparisonError(f"{op!r} needs a list")
            if op == "between" and not (isinstance(operand, list) and len(operand) == 2):
                raise ComparisonError("'between' needs [low, high]")
            if op == "matches":
                try:
                    re.compile(str(operand))
                except re.error as exc:
                    raise ComparisonError(f"invalid regex {operand!r}: {exc}") from None
    elif isinstance(expected, dict) and expected:
        bad = sorted(set(expected) - OPERATORS)
        if bad and any(k in OPERATORS for k in expected):
            raise ComparisonError(f"unknown operator {bad[0]!r}; use one of {sorted(OPERATORS)}")
    return expected


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _order(a: Any, b: Any) -> tuple[Any, Any]:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na, nb
    return str(a), str(b)


def _equal(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None and not isinstance(a, bool):
        return na == nb
    return bool(a == b) or (isinstance(b, str) and not isinstance(a, str) and str(a) == b)


def matches(actual: Any, expected: Any) -> bool:
    """True when actual satisfies the expectation."""
    if not (isinstance(expected, dict) and expected and set(expected) <= OPERATORS):
        return _equal(actual, expected)
    for op, operand in expected.items():
        if op == "exists":
            if (actual is not None) != bool(operand):
                return False
            continue
        if actual is None:
            return False
        if op == "==":
            ok = _equal(actual, operand)
        elif op == "!=":
            ok = not _equal(actual, operand)
        elif op in (">", ">=", "<", "<="):
            a, b = _order(actual, operand)
            if type(a) is not type(b):
                return False
            ok = {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]
        elif op == "in":
            ok = any(_equal(actual, x) for x in operand)
        elif op == "not_in":
            ok = not any(_equal(actual, x) for x in operand)
        elif op == "contains":
            ok = (
                str(operand) in (actual if isinstance(actual, str) else str(actual))
                if not (isinstance(actual, list))
                else operand in actual
            )
        elif op == "matches":
            ok = re.search(str(operand), str(actual)) is not None
        elif op == "between":
            low, high = operand
            a, lo = _order(actual, low)
            _, hi = _order(actual, high)
            ok = type(a) is type(lo) is type(hi) and lo <= a <= hi
        else:  # pragma: no cover - validate_expectation rejects it
            raise ComparisonError(op)
        if not ok:
            return False
    return True


def describe(expected: Any) -> str:
    if isinstance(expected, dict) and expected and set(expected) <= OPERATORS:
        return " and ".join(f"{op} {operand!r}" for op, operand in expected.items())
    return f"== {expected!r}"


def json_path(document: Any, path: str) -> list[Any]:
    """All values a JSONPath selects (jsonpath-ng); raises ComparisonError on bad syntax."""
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

    try:
        expression = parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        raise ComparisonError(f"invalid JSONPath {path!r}: {exc}") from None
    return [m.value for m in expression.find(document)]


def check_json(
    document: JsonValue, expectations: Mapping[str, object]
) -> tuple[bool, dict[str, JsonValue]]:
    """Compare JSONPath selections with expectations; return (ok, observed values)."""
    observed: dict[str, JsonValue] = {}
    ok = True
    for path, expected in expectations.items():
        found = json_path(document, path)
        value = found[0] if len(found) == 1 else (found or None)
        observed[path] = value
        if not matches(value, expected):
            ok = False
    return ok, observed
