"""CEL, the one expression language of plans (``when``, ``expr`` checks, conditions).

Backed by ``common-expression-language`` (Rust cel-interpreter): compiled once, cached.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from phasegate.errors import PhasegateError


class ExprError(PhasegateError):
    pass


# Bounds checked before the text reaches the native CEL library, whose recursive parser
# overflows its stack (signal 11, taking the whole process with it) on deeply nested or very
# long expressions: ~30,000 `1+1+...` terms crash it. Real plan conditions are far smaller.
MAX_LENGTH = 4096
MAX_TOKENS = 512
MAX_DEPTH = 32
# Strings first, so brackets and operators inside a string literal are not counted.
_TOKEN = re.compile(
    r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\S"""
)
_OPEN, _CLOSE = "([{", ")]}"


def check_bounds(text: str) -> None:
    """Refuse an expression too large or too deeply nested to hand to the native parser."""
    if len(text) > MAX_LENGTH:
        raise ExprError(
            f"expression is {len(text)} characters long, over the limit of {MAX_LENGTH}",
            hint="split the condition, or compute it in a command check",
        )
    depth = 0
    deepest = 0
    for tokens, match in enumerate(_TOKEN.finditer(text), start=1):
        token = match.group()
        if token in _OPEN:
            depth += 1
        elif token in _CLOSE:
            depth = max(depth - 1, 0)
        deepest = max(deepest, depth)
        if tokens > MAX_TOKENS:
            raise ExprError(
                f"expression has over {MAX_TOKENS} tokens",
                hint="split the condition, or compute it in a command check",
            )
    if deepest > MAX_DEPTH:
        raise ExprError(
            f"expression nests {deepest} levels deep, over the limit of {MAX_DEPTH}",
            hint="flatten the parentheses",
        )


@lru_cache(maxsize=1)
def cel_binding() -> Any:
    """The CEL binding (common-expression-language), imported without its REPL.

    The package's ``__init__`` imports its command-line REPL (``cel.cli``: typer,
    prompt_toolkit, pygments), ~250 ms at the first CEL use of every phasegate process that
    evaluates one (``estimate``'s calibration rule, ``validate``, the policies at
    admission); phasegate never uses that REPL, so a placeholder stands in for ``cel.cli``
    while the binding itself (the compiled extension and its ``stdlib``) loads as usual.
    A process that imported the real ``cel.cli`` first keeps it."""
    if "cel" not in sys.modules and "cel.cli" not in sys.modules:
        sys.modules["cel.cli"] = types.ModuleType(
            "cel.cli", "placeholder: phasegate does not load the CEL binding's REPL"
        )
    import cel

    return cel


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> Any:
    cel = cel_binding()

    check_bounds(text)
    try:
        return cel.compile(text)
    except (ValueError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ExprError(first, hint="CEL syntax, e.g. vars.ENV == 'prod' && size(x) > 0") from None


def evaluate(text: str, activation: Mapping[str, object]) -> Any:
    """``activation``: the names the expression sees, any Python values CEL converts."""
    program = compile_expr(text)
    try:
        return program.execute(activation)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ExprError(f"cannot evaluate {text!r}: {exc}") from None


def truthy(text: str, activation: Mapping[str, object]) -> bool:
    value = evaluate(text, activation)
    if not isinstance(value, bool):
        raise ExprError(f"{text!r} gave {value!r}, not true or false")
    return value


_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+): (?:Syntax error: )?(.*)$", re.S)


def cel_detail(message: str) -> str:
    """The CEL parser's message without its ANTLR internals: what is wrong, and where."""
    match = _CEL_POSITION.search(message)
    if match is None:
        return message
    line, column, detail = match.groups()
    detail = detail.strip()
    ends_early = detail.startswith("mismatched input '<EOF>'") or (
        detail.startswith("missing") and "<EOF>" in detail
    )
    if ends_early:
        detail = "it ends too early (an operand or a closing bracket is missing)"
    elif "expecting {" in detail and detail.count(",") > 3:
        detail = detail[: detail.index("expecting {")].strip() + ", expecting an operand"
    where = f"column {column}" if line == "1" else f"line {line}, column {column}"
    return f"{detail} (at {where})"
