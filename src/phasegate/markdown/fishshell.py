"""fish in a fence (round 11, issue 11 §2).

A ```` ```fish ```` block is fish, never bash: bash reads ``set -x ASG prod`` as "trace every
command" and ``(aws …)`` as a subshell. There is no maintained Python parser of fish, so fish
is read as a shell language with its own small rules, and what they do not cover is never
guessed: the block is one step run by fish (``shell: fish --no-config -c``; fish stops a
``and``-less line at its error only with ``; or exit``, so each command line is followed by
``or exit $status``), a rollback action on the way back, and a manual step when a line is
not understood, waits for a person, never ends (``while true … end``) or holds a placeholder.

Understood: ``set [-x|-g|-l|-U|-gx|-Ux …] NAME value…`` (a ``-x``/global value carries to the
later fish blocks — set again before them, as one terminal session would have it), the block
keywords (``if``/``else``/``for``/``while``/``begin``/``switch``/``case``/``end``), ``and``/
``or``/``not`` prefixes, and a command line of a program the shell word lists know, with
balanced quotes and parentheses (fish's ``(…)`` command substitution included). Comments and
``$ ``/``> `` prompts are taken out.
"""

from __future__ import annotations

import re

TAGS = frozenset({"fish"})
SHELL = "fish --no-config -c"
RULE = "fish fence"

_PROMPT = re.compile(r"^\s*(?:\$|>|❯|⋊>)\s+")
_SET = re.compile(r"^\s*set\s+((?:-[A-Za-z]+\s+)*)([A-Za-z_]\w*)(?:\s+(.*))?$")
_KEYWORD = re.compile(r"^\s*(?:if|else(?:\s+if)?|for|while|begin|switch|case|end|break|continue)\b")
_FOREVER = re.compile(r"^\s*while\s+(?:true|1|:)\s*(?:;|$)")
_PREFIX = re.compile(r"^\s*(?:and|or|not|command|builtin|env|sudo)\s+")
_READ = re.compile(r"\$([A-Za-z_]\w*)")
# fish's own variables: never a value the document forgot to give
_FISH_VARS = frozenset({"status", "argv", "HOME", "PATH", "USER", "PWD", "fish_pid", "hostname"})
_WAITS = re.compile(r"^\s*(?:read|vi|vim|nano|less|more|top|htop)\b|\s-(?:it|ti)\b|--follow\b|"
                    r"\btail\s+-[fF]\b|^\s*watch\b")  # fmt: skip


def commands(text: str) -> list[tuple[int, str]]:
    """(offset, line) of what fish runs: prompts and comments taken out."""
    out: list[tuple[int, str]] = []
    for i, raw in enumerate(text.splitlines()):
        line = _PROMPT.sub("", raw, count=1).rstrip()
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((i, line))
    return out


def _balanced(line: str) -> bool:
    depth, quote = 0, ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quote


def not_understood(cmds: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The lines these rules do not read: the block is then a person's (never guessed)."""
    from phasegate.markdown import shell  # the word lists of the bash reader

    bad: list[tuple[int, str]] = []
    opened = 0
    for offset, line in cmds:
        if not _balanced(line):
            bad.append((offset, line))
            continue
        if re.match(r"^\s*end\s*$", line):
            opened -= 1
            continue
        if _KEYWORD.match(line):
            opened += line.lstrip().startswith(("if", "for", "while", "begin", "switch"))
            continue
        if _SET.match(line):
            continue
        plain = _PREFIX.sub("", line)
        if not shell.looks_like_shell_line(plain):
            bad.append((offset, line))
    if opened != 0:
        bad.append((cmds[-1][0] if cmds else 0, "a block not closed by `end`"))
    return bad


def forever(cmds: list[tuple[int, str]]) -> str | None:
    """The line that never ends or waits for a person, else None."""
    return next((ln.strip() for _, ln in cmds if _FOREVER.match(ln) or _WAITS.search(ln)), None)


def defines(cmds: list[tuple[int, str]]) -> dict[str, str]:
    """Top-level ``set`` lines (outside any block) by name: carried to later blocks."""
    found: dict[str, str] = {}
    depth = 0
    for _, line in cmds:
        if re.match(r"^\s*end\s*$", line):
            depth -= 1
        elif _KEYWORD.match(line) and line.lstrip().startswith(
            ("if", "for", "while", "begin", "switch")
        ):
            depth += 1
        elif depth == 0 and (m := _SET.match(line)) is not None and m.group(3):
            flags = m.group(1)
            if "-e" in flags or "-q" in flags or "-l" in flags:
                continue
            found[m.group(2)] = line.strip()
    return found


def unset_reads(cmds: list[tuple[int, str]], carried: dict[str, str]) -> list[str]:
    known = set(carried) | _FISH_VARS
    missing: list[str] = []
    for _, line in cmds:
        m = _SET.match(line)
        for name in _READ.findall(line if m is None else (m.group(3) or "")):
            if name not in known:
                missing.append(name)
        if m is not None:
            known.add(m.group(2))
        loop = re.match(r"^\s*for\s+([A-Za-z_]\w*)\s+in\b", line)
        if loop:
            known.add(loop.group(1))
    return list(dict.fromkeys(missing))


def script(cmds: list[tuple[int, str]], carried: dict[str, str]) -> str:
    """The block as fish runs it: the values earlier blocks set and this one reads first; a
    failing top-level command ends the step with its status (fish has no ``set -e``)."""
    own = defines(cmds)
    read = {n for _, ln in cmds for n in _READ.findall(ln)}
    lines = [v for k, v in carried.items() if k not in own and k in read]
    depth = 0
    for _, line in cmds:
        text = line.strip()
        if re.match(r"^end\s*$", text):
            depth -= 1
        opens = _KEYWORD.match(text) and text.startswith(("if", "for", "while", "begin", "switch"))
        if depth == 0 and not opens and not _KEYWORD.match(text) and not _PREFIX.match(text):
            lines.append(f"{line}; or exit $status")
        else:
            lines.append(line)
        if opens:
            depth += 1
    return "\n".join(lines)


def person_label(cmds: list[tuple[int, str]], why: str) -> str:
    shown = "; ".join(ln.strip() for _, ln in cmds[:3])
    more = " …" if len(cmds) > 3 else ""
    return f"run in fish by hand ({why}): {shown}{more}"


def scanned(cmds: list[tuple[int, str]]) -> str:
    """The text to look for placeholders in: values, not the names ``set`` gives or ``$``
    reads (``LT_VERSION`` is a variable's name, no placeholder)."""
    out = []
    for _, line in cmds:
        m = _SET.match(line)
        out.append(_READ.sub(" ", line if m is None else (m.group(3) or "")))
    return "\n".join(out)
