"""MyST and Quarto fences (blind round 11, issue 11 §2): a fence whose info string is a
directive in braces.

- ```` ```{code-block} bash ````, ```` ```{code} sh ````, ```` ```{code-cell} bash ```` and
  Quarto's ```` ```{bash} ```` / ```` ```{sql} ```` / ```` ```{sh} ```` ARE commands in that
  language; their leading option lines (``:caption: on edge-01``, ``:linenos:``, Quarto's
  ``#| label: build``) are the renderer's, never part of the command: they become blank lines
  (the line numbers of the commands stay those of the Markdown).
- ```` ```{warning} ````, ```` ```{note} ````, ```` ```{admonition} Title ````,
  ```` ```{contents} ```` and every other directive are text: an admonition of that kind (a
  warning the operator acknowledges, a note read), never a command.
- (admonitions.py) ``:::{dropdown} Rollback`` / ``:::details Rollback``: the container's
  title introduces what it holds, like ``<details><summary>Rollback</summary>``.
"""

from __future__ import annotations

import re

_DIRECTIVE = re.compile(r"^\{([A-Za-z][\w-]*)\}\s*(.*)$")
# directives that hold code in the language named after them
_CODE = frozenset({"code-block", "code", "code-cell", "sourcecode", "literalinclude"})
# Quarto / R Markdown / knitr chunks: ```{bash}, ```{sql, connection=con}, ```{r label}
_CHUNK_LANGS = frozenset(
    {"bash", "sh", "shell", "zsh", "sql", "python", "r", "powershell", "pwsh", "console"}
)
_MYST_OPTION = re.compile(r"^\s*:[\w-]+:.*$")
_QUARTO_OPTION = re.compile(r"^\s*(?:#\||--\|)\s*[\w.-]+\s*:.*$")


def directive(info: str) -> tuple[str, str] | None:
    """``("code-block", "bash")`` for ```` ```{code-block} bash ````, else None."""
    match = _DIRECTIVE.match(info.strip())
    if match is None:
        return None
    name = match.group(1).lower()
    rest = match.group(2).strip()
    return name, rest


def code_language(name: str, rest: str) -> str | None:
    """The language a directive fence holds commands in, or None when it is text."""
    if name in _CODE:
        return (rest.split() or [""])[0].lower().strip(",")
    head = name.split(",", maxsplit=1)[0]
    if head in _CHUNK_LANGS:
        return "bash" if head in ("sh", "shell", "zsh", "console") else head
    return None


def strip_options(text: str) -> str:
    """The leading option lines of a directive's body as blank lines (line numbers kept)."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if _MYST_OPTION.match(line) or _QUARTO_OPTION.match(line):
            lines[n] = ""
        elif line.strip():
            break
    return "\n".join(lines)


def admonition_text(text: str) -> str:
    """A text directive's body without its option lines."""
    return strip_options(text).strip()
