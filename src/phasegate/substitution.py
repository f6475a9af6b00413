"""The ``${NAME}`` syntax: finding references and substituting values into text.

A core module (below plan/ and the plugins): check kinds and routers substitute variables into
their options without importing the plan model; ``plan/variables.py`` resolves the values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BUILTINS = ("RUN_ID", "RUN_DIR", "PLAN_DIR", "PLAN_NAME", "STATE_DIR", "PHASEGATE_OUTPUT")


def references(text: str) -> list[str]:
    return [m.group(1) for m in REFERENCE.finditer(text) if m.group(1)]


def shell_locals(script: str) -> set[str]:
    """Names a shell script assigns itself (``X=…``, ``for X in``, ``read X``, ``local X``)."""
    found = set(
        re.findall(
            r"(?:^|[\s;&|(])(?:export\s+|local\s+|declare\s+(?:-\w+\s+)*)?"
            r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=",
            script,
        )
    )
    found |= set(re.findall(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b", script))
    found |= set(re.findall(r"\bread\s+(?:-\w+\s+)*([A-Za-z_][A-Za-z0-9_ ]*)", script))
    return {name for chunk in found for name in chunk.split()}


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Textual substitution for non-shell fields; unknown names are left as written."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "${"
        return values.get(name, match.group(0))

    return REFERENCE.sub(repl, text)


def unescape_shell(script: str) -> str:
    """In shell scripts ``${NAME}`` stays for the shell; only the ``$${`` escape is undone."""
    return script.replace("$${", "${")
