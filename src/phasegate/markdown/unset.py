"""Shell variables a command reads that the document never sets -> variables to bind (§3).

``psql -f fix.sql $target_url`` in a runbook that never says what ``target_url`` is: the reader
was meant to put their connection string there. Run as written, the shell expands it to "" and
``psql`` connects to whatever its defaults reach. Such a name becomes a plan variable read from
the environment with ``needs_binding`` naming it and its Markdown line, so ``run`` refuses the
plan until the environment gives it (the blocker is satisfied by the environment, so an
operator whose shell already exports ``DATABASE_URL`` runs the plan as is).

Set means set anywhere in the document (a fence, inline code or prose: ``X=…``, ``export X``,
``read X``, ``for X in``), a variable every shell or CI has (``HOME``, ``PATH``, ``CI_*``), a
plan variable, or ``${X:-default}``. A document that sources a file or ``eval``s one may set
anything, so it is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from phasegate.markdown.draft import Draft, Entry
from phasegate.markdown.nodes import CheckNode, StepNode
from phasegate.substitution import BUILTINS, shell_locals

# `$name`, `${name}`; not `${name:-x}` (has a default), `${#name}`, `$1`, `$?`, `${{ x }}`
_REF = re.compile(r"(?<!\\)\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_SINGLE_QUOTED = re.compile(r"'[^'\n]*'")
_SOURCES = re.compile(
    r"(?:^|[;&|(`]|&&|\|\|)\s*(?:source|\.)\s+\S|\beval\b|\bexport\s+\$\(|\bset\s+-a\b|--env-file\b|"
    r"\benvsubst\b|\bdirenv\b",
    re.M,
)
_MORE_SETTERS = (
    re.compile(r"\bexport\s+((?:[A-Za-z_]\w*\s*)+)"),
    re.compile(r"\bselect\s+([A-Za-z_]\w*)\s+in\b"),
    re.compile(r"\bprintf\s+-v\s+([A-Za-z_]\w*)"),
    re.compile(r"\b(?:mapfile|readarray)\s+(?:-\S+\s+)*([A-Za-z_]\w*)"),
    re.compile(r"\bgetopts\s+\S+\s+([A-Za-z_]\w*)"),
    re.compile(r"\bwhile\b[^\n;]*\bread\s+(?:-\w+\s+)*([A-Za-z_][\w ]*)"),
)
# what every shell, terminal or CI runner has; the engine's own variables
_KNOWN = frozenset(
    {
        "HOME",
        "PATH",
        "USER",
        "LOGNAME",
        "PWD",
        "OLDPWD",
        "SHELL",
        "HOSTNAME",
        "HOST",
        "RANDOM",
        "SECONDS",
        "LINENO",
        "IFS",
        "UID",
        "EUID",
        "PPID",
        "TMPDIR",
        "TMP",
        "TEMP",
        "LANG",
        "LC_ALL",
        "TERM",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "REPLY",
        "OPTARG",
        "OPTIND",
        "PIPESTATUS",
        "FUNCNAME",
        "OSTYPE",
        "HOSTTYPE",
        "MACHTYPE",
        "BASH",
        "BASHPID",
        "SHLVL",
        "DISPLAY",
        "SSH_AUTH_SOCK",
        "XDG_CONFIG_HOME",
        "XDG_RUNTIME_DIR",
        "CI",
        "KUBECONFIG",
        "GOPATH",
        "JAVA_HOME",
        "VIRTUAL_ENV",
        *BUILTINS,
    }
)
_KNOWN_PREFIXES = ("BASH_", "LC_", "CI_", "GITHUB_", "RUNNER_", "GITLAB_", "PHASEGATE_", "XDG_")
_COMMAND_KEYS = ("run", "command")


_PLACEHOLDER_SET = re.compile(
    r"\b(?:export\s+)?[A-Za-z_]\w*=(?:<[^>\n]+>|\[[^\]\n]+\]|YOUR_\w+|your[-_]\w+|x{3,}|"
    r"\.\.\.|…|CHANGE_?ME)"
)


def _commands(draft: Draft) -> Iterator[tuple[str, int]]:
    """Every command text of the draft with its Markdown line."""
    entries: list[Entry[StepNode] | Entry[CheckNode]] = [
        *draft.plan_rollback,
        *draft.verify_rollback,
    ]
    for phase in draft.phases:
        if not phase.keep():
            continue
        entries += [*phase.steps, *phase.gates, *phase.rollback]
    for entry in entries:
        if entry.data.get("shell"):  # pwsh's `$name` is its own variable, not the shell's
            continue
        for key in _COMMAND_KEYS:
            value = entry.data.get(key)
            if isinstance(value, str):
                yield value, entry.line


def _set_in(text: str) -> set[str]:
    found = shell_locals(text)
    for pattern in _MORE_SETTERS:
        for match in pattern.finditer(text):
            found |= set(match.group(1).split())
    return found


def _read(command: str) -> list[str]:
    """Names the command expands, outside single quotes and comment lines."""
    lines = [ln for ln in command.splitlines() if not ln.lstrip().startswith("#")]
    text = _SINGLE_QUOTED.sub("''", "\n".join(lines))
    return [m.group(1) or m.group(2) for m in _REF.finditer(text)]


def known(name: str) -> bool:
    """A name the environment gives every shell (``HOME``, ``PATH`` …): never the reader's."""
    return name in _KNOWN or name.startswith(_KNOWN_PREFIXES)


def ask_for(draft: Draft, name: str, line: int, why: str, described: str, what: str) -> None:
    """Declare ``name`` a plan variable read from the environment that the run needs given
    (``needs_binding``: ``why``), and note it at its Markdown ``line`` in the report."""
    draft.vars[name] = {"env": name, "needs_binding": why, "description": described}
    draft.note("needs_binding", line=line, what=what)


def bind(draft: Draft, text: str) -> None:
    """Declare every variable read but never set as a plan variable that needs binding."""
    commands = list(_commands(draft))
    if any(_SOURCES.search(command) for command, _ in commands):
        return
    # "Set your cluster name first: `export CLUSTER=<cluster>`": prose that sets a name to a
    # placeholder leaves it for the reader to give: it is not set (blind round 6)
    defined = _set_in(_PLACEHOLDER_SET.sub(" ", text))
    for command, _ in commands:
        defined |= _set_in(command)
    for command, line in commands:
        for name in _read(command):
            if name in defined or known(name) or name in draft.vars:
                continue
            ask_for(
                draft,
                name,
                line,
                f"`${name}` at {draft.source}:{line} is never set by the document: give its value",
                f"`${name}`, read by a command and set nowhere in the document",
                f"unset variable `${name}`",
            )
