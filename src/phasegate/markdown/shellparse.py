"""What each line of a shell fence is: a command, or text a human wrote between commands.

Runbooks put more than commands in ``bash`` fences: zone-file records (``Type: A``), URLs,
prose ("This stops the static pods."), sample output (``NAME READY STATUS``), and commands
that never end by themselves (``watch``, ``tail -f``, ``kubectl get pods -w``). A word list of
known commands cannot tell them apart, so a fence is read with a real shell parser:

1. **Syntax** — bashlex (a port of bash's own grammar) cuts the fence into complete commands
   (a ``\\`` continuation, a heredoc, an ``if … fi`` spanning lines is one unit). Where bashlex
   has a gap (``[[ … ]]``, ``$(( … ))``, ``case`` patterns) ``bash -n`` gives a second opinion;
   a line neither accepts is text.
2. **Meaning** — a unit that parses is still text when its command word cannot be a command: it
   ends in ``:`` (``Type: A``), is a URL, a DNS record (``@ 300 IN A …``), a line of English
   prose (capitalised word, lower-case words after it, not a program on PATH), or a header of
   sample output (``NAME READY STATUS``).
3. **Never-ending** — a unit whose command waits for a human or never exits (``watch``,
   ``tail -f``, ``-w`` / ``--watch``, ``port-forward``, ``-it``, editors, a bare ``ssh host``,
   ``read`` prompts, ``top``, ``ping`` without ``-c``) is marked, so it never becomes a plain
   step or gate that hangs until a timeout and then rolls back a healthy deployment.

This module cuts a fence into units and cleans it; each part lives in its own module:
syntax in shellsyntax.py, what a text line is in shelltext.py, never-ending commands in
forever.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown import devonly, listings, placeholders
from phasegate.markdown.forever import SESSIONS, SSH_SHELL, never_ending, never_ending_text
from phasegate.markdown.memo import memo
from phasegate.markdown.shellsyntax import ShellTree, bash_n, commands, complete_unit
from phasegate.markdown.shellsyntax import parse as _bashlex
from phasegate.markdown.shelltext import (
    AGENT,
    ASIDE,
    CONFIG,
    DEV_ONLY,
    OUTPUT,
    PROSE,
    REQUEST,
    SQL,
    URL,
    ZONE,
    agent_kind,
    json_kind,
    text_kind,
)

# the names other modules and the bench read from here
__all__ = [
    "AGENT",
    "ASIDE",
    "CONFIG",
    "DEV_ONLY",
    "OUTPUT",
    "PROSE",
    "REQUEST",
    "SESSION_END",
    "SQL",
    "URL",
    "ZONE",
    "Cleaned",
    "Unit",
    "_bashlex",
    "analyse",
    "bash_n",
    "clean",
    "never_ending",
    "never_ending_text",
]


SESSION_END = "end of an interactive session"
# "# Output", "# Output (truncated)", "# Expected output:", "# Sample result", "# Returns:",
# "# 出力", "# Salida": the lines under it show what the command above printed
OUTPUT_COMMENT = re.compile(
    r"^#+\s*(?:(?:expected|example|sample|typical|actual)\s+)?(?:output|result|response|"
    r"salida|sortie|ausgabe|出力|输出|结果)(?:\s+(?:is|looks like|should be|will be|similar to))?"
    r"\s*(?:\([^)]{0,30}\))?\s*[:：.]?\s*$"
    r"|^#+\s*(?:should|will|it) (?:print|output|return|show|display)s?\b[^\n]{0,60}:\s*$",
    re.I,
)


@dataclass
class Unit:
    """One complete command (possibly several lines), a comment, or a line of text."""

    start: int  # line offset inside the script
    lines: list[str]
    kind: str  # "command" | "comment" | "blank" | one of the text kinds
    forever: str | None = None  # why the command never ends by itself

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def is_text(self) -> bool:
        return self.kind not in ("command", "comment", "blank")


def analyse(script: str, opened: str | None = None) -> list[Unit]:
    """The fence cut into units, each with its kind. Fresh units each call (a caller may
    change its own); the analysis itself is memoized by the script's text (memo.py): a
    fence's chunk is cut once for its cleaning, again for what it carries to later chunks and
    for its reads and changes, and a 2 MB document holds ~1,100 such calls for ~600 texts.
    ``opened``: the interactive shell an earlier fence left open (``sudo -i -u app`` with no
    ``exit`` yet): the reader types this fence's commands into it (``sessions``)."""
    return [
        Unit(start, list(lines), kind, why) for start, lines, kind, why in _analysed(script, opened)
    ]


@memo(2048)
def _analysed(
    script: str, opened: str | None
) -> tuple[tuple[int, tuple[str, ...], str, str | None], ...]:
    return tuple((u.start, tuple(u.lines), u.kind, u.forever) for u in _analyse(script, opened))


# What could open another user's or host's shell (forever.py's SESSIONS): a fence without any
# of these words opens none.
_OPENS_SHELL = re.compile(r"\b(?:sudo|su|ssh)\b")


def sessions(script: str, opened: str | None = None) -> tuple[list[str | None], str | None]:
    """The interactive shell open before each line of ``script`` (None: this machine, this
    user) when ``opened`` was open before it, and the one still open after it. A runbook is
    typed into one terminal: `sudo -i -u mastodon` in one fence and `git checkout v4.3.2` in
    the next, "in the same session", is a command for mastodon's shell in ~/live, never for
    the runner's; the session lasts until an `exit` (or `logout`) line closes it."""
    before: list[str | None] = [None] * len(script.splitlines())
    if opened is None and not _OPENS_SHELL.search(script):
        return before, None  # most fences: nothing opens a shell, nothing to carry (no parse)
    units = analyse(script, opened)
    current, how = opened, None
    for unit in units:
        for index in range(unit.start, min(unit.start + len(unit.lines), len(before))):
            before[index] = current
        if unit.kind == SESSION_END:
            current = None
        elif unit.kind == "command" and current is None and unit.forever in SESSIONS:
            current, how = unit.lines[0].strip(), unit.forever
    # Only another user's shell on this machine is carried to later fences: a runbook's
    # `ssh bastion` left open is most often where it says to run location-free commands from
    # (`aws …`, `consul kv put …`), and within its own fence it is already a person's.
    return before, None if how == SSH_SHELL else current


_TYPED = "typed in the shell "


def typed_elsewhere(unit: Unit) -> bool:
    """A command that opens another user's or host's shell (``sudo -i``, ``ssh host``), or is
    typed into one: never run here as this user."""
    return opens_shell(unit) or (unit.forever or "").startswith(_TYPED)


def opens_shell(unit: Unit) -> bool:
    """``sudo -i``, ``su - app``, ``ssh host``: the command that opens that shell."""
    return unit.forever in SESSIONS


def _analyse(script: str, opened: str | None = None) -> list[Unit]:
    lines = script.splitlines()
    # placeholders bound before the parse: `-p <port> > out` is no redirection from `port>`
    parsed = [placeholders.mask_for_parsing(line) for line in lines]
    units: list[Unit] = []
    in_output = False  # after "# Output (truncated)" or a `NAME READY STATUS` header
    # `ssh host` / `su - app` / `sudo -i` (here or in an earlier fence): lines typed in that shell
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            units.append(Unit(i, [line], "blank"))
            in_output = False
            i += 1
            continue
        if stripped.startswith("#"):
            units.append(Unit(i, [line], "comment"))
            in_output = bool(OUTPUT_COMMENT.match(stripped))
            i += 1
            continue
        if in_output or stripped.startswith("//"):
            # what the command above printed, down to the next blank line or comment; a `//`
            # line is another language's comment (`// TODO`), never a command
            units.append(Unit(i, [line], OUTPUT if in_output else PROSE))
            i += 1
            continue
        end, tree = complete_unit(parsed, i)
        if end is None:  # neither bashlex nor bash accepts it: text
            units.append(Unit(i, [line], text_kind(stripped) or PROSE))
            i += 1
            continue
        body = lines[i:end]
        kind = text_kind(stripped) if end == i + 1 else json_kind(body) or agent_kind(stripped)
        if kind is None and stripped in ("exit", "logout"):
            # typed into a terminal, a bare `exit` leaves the `su`/`ssh` session the reader
            # opened; run in a step it would end the step and skip every command after it
            kind = SESSION_END
        if kind == SESSION_END:
            opened = None
        if kind is not None:
            units.append(Unit(i, body, kind))
            in_output = kind == OUTPUT and end == i + 1 and not stripped.startswith((".", "…"))
        elif _dev_only(body, tree, units):
            units.append(Unit(i, body, DEV_ONLY))
        elif _after_aside(units):  # "You can retrieve it from the other node:" + command
            units.append(Unit(i, body, ASIDE))
        else:
            why = never_ending("\n".join(body), tree)
            if why is None and opened is not None:
                # typed into the shell the line above opened (on another host, as another
                # user): never run here, where it would act on the wrong machine or user
                why = f"{_TYPED}`{opened}` opens, not on this machine as this user"
            elif why in SESSIONS and opened is None:
                opened = stripped
            units.append(Unit(i, body, "command", why))
        i = end
    return units


def _after_aside(before: list[Unit]) -> bool:
    last = next((u for u in reversed(before) if u.kind != "blank"), None)
    return last is not None and last.is_text and listings.aside(last.text)


def _dev_only(body: list[str], tree: ShellTree | None, before: list[Unit]) -> bool:
    """A development-only command: by its tool's docs, or by the comment just above it
    ("# Reset the database (DEV ONLY)")."""
    comment = next((u for u in reversed(before) if u.kind != "blank"), None)
    if comment is not None and comment.kind == "comment" and devonly.marked_comment(comment.text):
        return True
    # "# DO NOT RUN IN PROD - staging only" over two commands: the mark holds for every
    # command of its paragraph, down to the next blank line or comment (blind round 9)
    for unit in reversed(before):
        if unit.kind == "blank" or (
            unit.kind == "comment" and not devonly.marked_comment(unit.text)
        ):
            break
        if unit.kind == "comment":
            return True
        if unit.kind != DEV_ONLY:
            break
    found = commands(tree) if tree is not None else [" ".join(body).split()]
    return any(devonly.tool_dev_only(words) for words in found if words)


@dataclass
class Cleaned:
    """A script with its text and never-ending lines commented out, and what they were."""

    script: str  # what may run: commands only (text kept as `# [not run: …]` comments)
    texts: list[Unit]  # lines of text, for a manual step or a review note
    forever: list[Unit]  # never-ending commands, for a manual step or a note
    commands: int  # how many complete commands remain

    @property
    def changed(self) -> bool:
        return bool(self.texts or self.forever)


def clean(script: str, opened: str | None = None) -> Cleaned:
    units = analyse(script, opened)
    out: list[str] = []
    texts: list[Unit] = []
    forever: list[Unit] = []
    commands = 0
    for unit in units:
        if unit.is_text:
            texts.append(unit)
            out.extend(f"# [not run: {unit.kind}] {ln.strip()}" for ln in unit.lines)
        elif unit.forever:
            forever.append(unit)
            out.extend(f"# [not run: never ends] {ln.strip()}" for ln in unit.lines)
        else:
            commands += unit.kind == "command"
            out.extend(unit.lines)
    return Cleaned("\n".join(out).strip("\n"), texts, forever, commands)
