"""The shell grammar half of reading a fence (see shellparse.py): where a complete command
ends (bashlex, a port of bash's own grammar, with ``bash -n`` as a second opinion where bashlex
has gaps), heredoc bodies, and the simple commands inside a parsed tree."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, TypeAlias

import bashlex  # type: ignore[import-untyped]

from phasegate.markdown import memo


class ShellNode(Protocol):
    """A node of bashlex's tree as this package reads it (bashlex ships no types). Its
    ``kind`` says which other attribute it has: ``word`` (a word), ``parts`` (a command, a
    pipeline, a loop), ``list`` (a compound)."""

    kind: str
    word: str
    parts: Sequence[ShellNode]
    list: Sequence[ShellNode]


# What ``bashlex.parse`` returns: one node per top-level command.
ShellTree: TypeAlias = Sequence[ShellNode]

_INCOMPLETE = re.compile(r"unexpected EOF|end-of-file|end of file|wanted '", re.I)
MAX_UNIT_LINES = 400  # a heredoc or loop longer than this is read line by line


def complete_unit(lines: list[str], start: int) -> tuple[int | None, ShellTree | None]:
    """The end (exclusive) of the shortest run of lines from ``start`` that is a complete
    shell command, and its bashlex tree (None when only ``bash -n`` accepted it)."""
    limit = min(len(lines), start + MAX_UNIT_LINES)
    heredoc = _heredoc_end(lines, start)
    if heredoc is not None:  # the body is data, whatever it holds (Markdown, quotes, `#`)
        head = _HEREDOC.sub("", lines[start])
        verdict, tree = parse(head)
        return heredoc, tree if verdict == "ok" else None
    first = start + 1
    asked = False
    for end in range(start + 1, limit + 1):
        if end < first:
            continue  # prefixes the first command's own parse showed incomplete
        text = "\n".join(lines[start:end])
        if end < limit and lines[end - 1].rstrip().endswith("\\"):
            continue
        verdict, tree = parse(text)
        if verdict == "incomplete" and end >= start + _SHORT and end < limit and not asked:
            # a long command over several lines (`for … do` … `done`, `if … fi`, a quote):
            # where it ends, from one parse of its first command instead of a parse of each
            # longer prefix (quadratic in its length: an unclosed loop of 400 lines took
            # seconds); a short one is cheaper prefix by prefix
            first, asked = _first_end(lines, start, limit, end), True
            continue
        if verdict == "ok":
            return end, tree
        if verdict == "incomplete":
            continue
        # bashlex has gaps (`[[ ]]`, `$(( ))`, `case`): ask bash itself.
        opinion = bash_n(text)
        if opinion == "ok":
            return end, None
        if opinion != "incomplete":
            return None, None
    return None, None


_SHORT = 4  # lines tried prefix by prefix before the first command's own parse is asked


def _first_end(lines: list[str], start: int, limit: int, after: int) -> int:
    """The first prefix ``lines[start:end]`` worth parsing whole, ``lines[start:after]``
    being incomplete, from bashlex's parse of only the first command of
    ``lines[start:limit]`` (``parsesingle``): the line where it ends; or ``limit`` when it is
    still open there (unclosed to the end of the fence). Else ``after + 1``: the next prefix,
    as if this were never asked.

    Why the prefixes in between need no parse: bashlex is an LR parser reading tokens left
    to right, so a prefix is read exactly as the longer text up to its end, where the longer
    text has a newline and the prefix its end of input. The longer text's first command went
    on past that newline (or to the end of the window): the prefix's command was still open
    there, and bashlex reports an open command at the end of input as an "unexpected EOF"
    (incomplete, the verdict that made the loop try the next line). A syntax error earlier in
    the prefix would have stopped the longer parse at the same token."""
    text = "\n".join(lines[start:limit])
    try:
        node = bashlex.parser.parsesingle(text)
        finder = bashlex.parser._endfinder()  # the end of a heredoc inside the command
        finder.visit(node)
        stop = max(node.pos[1], finder.end)
    except NotImplementedError:  # a gap of bashlex's (`case`, `$(( ))`): each prefix
        return after + 1
    except Exception as exc:
        # still open at the end of the window: only the whole window is worth a parse
        return limit if _INCOMPLETE.search(str(exc)) else after + 1
    end = start + 1 + text.count("\n", 0, stop)
    if end <= after or end > limit:
        return after + 1
    # a closed loop makes each shorter prefix an open one; the one just shorter is asked
    # again as a guard (a bashlex quirk there: every prefix, as before)
    if end - 1 > after and parse("\n".join(lines[start : end - 1]))[0] != "incomplete":
        return after + 1
    return end


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][\w-]*)\1")


def _heredoc_end(lines: list[str], start: int) -> int | None:
    """The end (exclusive) of a heredoc opened on ``lines[start]``: the line after its
    terminator (or the end of the fence)."""
    match = _HEREDOC.search(lines[start])
    if match is None:
        return None
    word = match.group(2)
    strip = lines[start][match.start() : match.start() + 3] == "<<-"
    for index in range(start + 1, len(lines)):
        line = lines[index].lstrip("\t") if strip else lines[index]
        if line.strip() == word:
            return index + 1
    return len(lines)


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple[str, ShellTree | None]:
    """bashlex's verdict and tree (read-only: nobody mutates it, so it is cached). Runbooks
    repeat commands (the same health check in every phase), and bashlex is pure Python at
    ~1 ms a line: the cache is most of a large document's mapping time (docs/performance.md)."""
    try:
        tree: ShellTree = bashlex.parse(text)
        return "ok", tree
    except NotImplementedError:
        return "unknown", None
    except Exception as exc:  # bashlex raises its own errors, and sometimes plain ones
        return ("incomplete" if _INCOMPLETE.search(str(exc)) else "error"), None


@lru_cache(maxsize=4096)
def bash_n(text: str) -> str:
    """``bash -n``: "ok", "incomplete", "error", or "unavailable" without bash."""
    bash = shutil.which("bash")
    if bash is None:
        return "unavailable"
    try:
        done = subprocess.run(
            [bash, "-n"], input=text, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    if done.returncode == 0:
        return "ok"
    return "incomplete" if _INCOMPLETE.search(done.stderr) else "error"


class _CommandWords(bashlex.ast.nodevisitor):  # type: ignore[misc]
    """Collects each simple command's words (one class for all calls: a class statement per
    call cost more than the visit of a one-line command)."""

    def __init__(self, found: list[list[str]]) -> None:
        self.found = found

    def visitcommand(self, node: ShellNode, parts: Sequence[ShellNode]) -> None:
        words = [p.word for p in node.parts if p.kind == "word"]
        if words:
            self.found.append(words)


memo.register(parse)
memo.register(bash_n)


def commands(tree: ShellTree) -> list[list[str]]:
    found: list[list[str]] = []
    for node in tree:
        _CommandWords(found).visit(node)
    return found
