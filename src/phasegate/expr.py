"""CEL, the one expression language of plans (``when``, ``expr`` checks, conditions).

Backed by ``common-expression-language`` (Rust cel-interpreter): compiled once, cached.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from phasegate.errors import PhasegateError


class ExprError(PhasegateError):
    pass


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> Any:
    import cel

    try:
        return cel.compile(text)
    except (ValueError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ExprError(first, hint="CEL syntax, e.g. vars.ENV == 'prod' && size(x) > 0") from None


def evaluate(text: str, activation: dict[str, Any]) -> Any:
    program = compile_expr(text)
    try:
        return program.execute(activation)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ExprError(f"cannot evaluate {text!r}: {exc}") from None


def truthy(text: str, activation: dict[str, Any]) -> bool:
    value = evaluate(text, activation)
    if not isinstance(value, bool):
        raise ExprError(f"{text!r} gave {value!r}, not true or false")
    return value
