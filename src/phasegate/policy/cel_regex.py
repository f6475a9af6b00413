"""CEL's ``matches`` without compiling the regex on every call.

The CEL binding compiles a ``matches`` pattern each time the expression runs: ~0.3 ms for the
starter pack's sudo rule, which on a 5,000-step plan with 500 ``sudo`` steps was 150 ms of a
~250 ms evaluation (bench/policy_eval.py). Policies evaluate the same few literal patterns on
thousands of nodes, so the compiled pattern is worth keeping.

How, without changing a verdict:

- ``rewrite``: a policy expression's member calls ``X.matches(P)`` (outside string literals)
  become ``X.phasegate_matches(P)``, a function the engine adds to each evaluation context;
- ``phasegate_matches`` answers with Python's ``re`` (the compiled pattern cached) only where
  Python's and the CEL binding's regex engine (Rust's ``regex``) provably agree: an ASCII
  subject, and a pattern in a plain subset (``accepted``: literals, classes without set
  operations, groups without flags or look-around, alternation, ``* + ? {n,m}`` quantifiers,
  ``^ $ \\b``, the escapes ``\\s \\S \\d \\D \\w \\W \\n \\t \\r`` and escaped punctuation),
  compiled ``re.ASCII`` with ``$`` as ``\\Z`` (Rust's ``$`` is the end of the text, Python's
  also before a final newline). ``matches`` is a search, as ``re.search``;
- anything else (non-ASCII text, another pattern, a non-string argument) is asked of the CEL
  binding's own ``matches``: the exact answer, at the old cost.

tests/policy/test_cel_regex.py checks the two against each other (hypothesis).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from phasegate.expr import cel_binding

FUNCTION = "phasegate_matches"

_LITERAL = re.compile(
    r"""(?:[rR][bB]?|[bB][rR]?)?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
    re.DOTALL,
)
_CALL = re.compile(r"\.(\s*)matches(\s*)\(")


def rewrite(expression: str) -> str:
    """``expression`` with its member calls to ``matches`` calling ``phasegate_matches``;
    string literals are left as they are."""
    out: list[str] = []
    at = 0
    for literal in _LITERAL.finditer(expression):
        out.append(_CALL.sub(rf".\1{FUNCTION}\2(", expression[at : literal.start()]))
        out.append(literal.group(0))
        at = literal.end()
    out.append(_CALL.sub(rf".\1{FUNCTION}\2(", expression[at:]))
    return "".join(out)


# Escapes both engines read the same way (on ASCII text, Python compiling with re.ASCII).
_ESCAPES_OUTSIDE = set("sSdDwWntrb")  # not \B: Python's never matches an empty text
_ESCAPES_INSIDE = set("sSdDwWntr")
_QUANTIFIER = re.compile(r"\{(\d{1,3})(,(\d{1,3})?)?\}")
# Escaped punctuation both read as the literal character.
_META = set("\\.+*?()|[]{}^$-&~#")


def accepted(pattern: str) -> str | None:
    """The Python pattern equivalent to ``pattern`` for Rust's ``regex`` on ASCII text, or
    None when ``pattern`` is outside the subset known to agree."""
    if not pattern.isascii():
        return None
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            e = pattern[i + 1]
            if e.isalnum():
                if e not in (_ESCAPES_INSIDE if in_class else _ESCAPES_OUTSIDE):
                    return None
            elif e not in _META:
                return None
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            # Rust reads nested classes and set operations (&&, --, ~~) inside a class.
            if c == "[" or pattern.startswith(("&&", "--", "~~"), i):
                return None
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):  # a leading ] is literal in Python, not in Rust
                return None
            continue
        if c == "(" and pattern.startswith("?", i + 1):
            return None  # flags, non-capturing or named groups, look-around
        if c == "+" and i > 0 and pattern[i - 1] in "*+?}" and not _escaped(pattern, i - 1):
            return None  # Python 3.11's possessive quantifiers; Rust has none
        if c == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            if quantifier is None or not out:
                return None
            out.append(quantifier.group(0))
            i = quantifier.end()
            continue
        if c == "}":
            return None
        out.append("\\Z" if c == "$" else c)
        i += 1
    if in_class:
        return None
    return "".join(out)


def _escaped(pattern: str, at: int) -> bool:
    """The character at ``at`` follows an odd number of backslashes."""
    count = 0
    while at - count - 1 >= 0 and pattern[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    python = accepted(pattern)
    if python is None:
        return None
    try:
        return re.compile(python, re.ASCII)
    except (re.error, OverflowError, RecursionError):
        return None


@lru_cache(maxsize=1)
def _exact() -> Any:
    cel = cel_binding()  # the CEL binding's own matches

    return cel.compile("subject.matches(pattern)")


def exact_matches(subject: Any, pattern: Any) -> bool:
    """The CEL binding's answer (its errors included)."""
    cel = cel_binding()

    return bool(_exact().execute(cel.Context({"subject": subject, "pattern": pattern})))


def phasegate_matches(subject: Any, pattern: Any) -> bool:
    if isinstance(subject, str) and isinstance(pattern, str) and subject.isascii():
        compiled = _compiled(pattern)
        if compiled is not None:
            return compiled.search(subject) is not None
    return exact_matches(subject, pattern)
