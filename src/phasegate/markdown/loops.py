"""Shell loops that watch instead of finishing: ``while true; do …; sleep 5; done``.

Runbooks paste their monitoring scripts into fences ("Continuous monitoring script (run in
background)"). As a step, ``while true`` never ends: it hangs until the step's timeout and
then rolls back a healthy deployment. A loop watches, and so never belongs on the forward
path, when it

- cannot end: its condition is constant (``while true``, ``while :``, ``while [ 1 ]``,
  ``until false``) and its body has no ``break``, ``exit`` or ``return``; or
- runs for a span of time: its condition reads the clock (``$(date +%s)``) and its body
  sleeps ("monitor for 24 hours").

A loop that waits for something to become true (``until curl -fs …; do sleep 5; done``) ends
when it does: that is a real step, and not matched here.

The loop is read with bashlex (the shell's grammar). bashlex has no arithmetic expansion, so
``$(( … ))`` is first rewritten as a command substitution of the same words (``$(: … )``),
which keeps every command inside it (``$(date +%s)``) visible to the parser and changes no
loop structure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bashlex  # type: ignore[import-untyped]

from phasegate.markdown.shellsyntax import ShellNode, ShellTree

_CONSTANT_TRUE = ({"true"}, {":"}, {"[", "1", "]"}, {"[", "true", "]"}, {"test", "1"})
_LEAVES = frozenset({"break", "exit", "return"})
_LOOP_WORD = re.compile(r"^\s*(while|until)\b")


def watch_loop(text: str) -> str | None:
    """Why the loop ``text`` watches instead of finishing, else None (also for non-loops)."""
    if _LOOP_WORD.match(text) is None:
        return None
    loop = _loop_node(text)
    if loop is None:
        return None
    keyword = loop.parts[0].word
    condition = _commands(loop.parts[1])
    body = _commands(loop.parts[3]) if len(loop.parts) > 3 else []
    names = {words[0] for words in body}
    constant = len(condition) == 1 and (
        (keyword == "while" and set(condition[0]) in _CONSTANT_TRUE)
        or (keyword == "until" and condition[0] == ["false"])
    )
    if constant and not names & _LEAVES:
        return f"`{keyword} {' '.join(condition[0])}` loops until someone stops it"
    if "sleep" in names and any(words[0] == "date" for words in condition):
        return "a loop that watches for a span of time (its condition reads the clock)"
    return None


def _loop_node(text: str) -> ShellNode | None:
    try:
        tree: ShellTree = bashlex.parse(arithmetic_as_command(text))
    except Exception:  # bashlex raises its own errors, and sometimes plain ones
        return None
    if len(tree) != 1:
        return None
    node = tree[0]
    if node.kind == "compound" and node.list and node.list[0].kind in ("while", "until"):
        return node.list[0]
    return None


def arithmetic_as_command(text: str) -> str:
    """``$(( a - $(date +%s) ))`` -> ``$(: a - $(date +%s) )``: parseable by bashlex, with
    the same commands inside; ``(( … ))`` commands become ``: …``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$((", i) or (text.startswith("((", i) and _command_start(text, i)):
            dollar = text[i] == "$"
            end = _closing(text, i + (3 if dollar else 2))
            if end is None:
                return text
            inner = _arithmetic_words(text[i + (3 if dollar else 2) : end])
            out.append(f"$(: {inner} )" if dollar else f": {inner} ")
            i = end + 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


_OPENERS = ("do", "then", "else", "if", "elif", "while", "until", "!")


def _arithmetic_words(inner: str) -> str:
    """Arithmetic grouping and comparisons (``(a - b) / 2``, ``a > b``) are not shell: blanked;
    a command substitution inside (``$(date +%s)``) is kept whole."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(inner):
        char = inner[i]
        if inner.startswith("$(", i):
            depth += 1
            out.append("$(")
            i += 2
            continue
        if depth and char == "(":
            depth += 1
        elif depth and char == ")":
            depth -= 1
        elif not depth and char in "()<>":
            char = " "
        out.append(char)
        i += 1
    return "".join(out)


def _command_start(text: str, i: int) -> bool:
    before = text[:i].rstrip(" \t")
    return not before or before[-1] in ";\n&|" or before.endswith(_OPENERS)


def _closing(text: str, start: int) -> int | None:
    """Index of the ``))`` closing an arithmetic expression that starts at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i if text.startswith("))", i) else None
            depth -= 1
        i += 1
    return None


def _commands(node: ShellNode) -> list[list[str]]:
    """The words of every simple command under ``node`` (command substitutions included)."""
    found: list[list[str]] = []

    class _Visitor(bashlex.ast.nodevisitor):  # type: ignore[misc]
        def visitcommand(self, node: ShellNode, parts: Sequence[ShellNode]) -> None:
            words = [p.word for p in node.parts if p.kind == "word"]
            if words:
                found.append(words)

    _Visitor().visit(node)
    return found
