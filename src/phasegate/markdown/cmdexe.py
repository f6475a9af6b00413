"""Windows ``cmd.exe`` in a fence (round 11, issue 11 §2).

A ``bat``/``cmd``/``batch`` fence, or an untagged one whose commands carry a ``C:\\>`` prompt
(``C:\\> sc stop LabelSvc`` and the lines ``sc`` printed under it), is cmd.exe, never bash:
bash would read ``copy /Y "C:\\…"`` as a command that does not exist, and ``set PKG=…`` as
nothing at all. Following the PowerShell convention (powershell.py): the block is one step run
by cmd.exe (``shell: cmd.exe /d /s /c``), a rollback action in a way-back section, a manual
step when it waits for a person or never ends (``pause``, ``set /p``, ``ping -t``) or reads a
``%NAME%`` nobody set. In a transcript only the prompted lines are commands; the rest is what
they printed (never run). ``set NAME=value`` carries to the later cmd blocks (each step is its
own cmd.exe process, as a reader's console is one): the values are set again before them, and
a line reading ``%NAME%`` is run through ``call`` so cmd expands it after the ``set`` on the
same command line ran (cmd expands ``%…%`` when it reads the line, before any of it runs).
"""

from __future__ import annotations

import re

TAGS = frozenset({"bat", "batch", "batchfile", "cmd", "dos", "doscon", "winbatch"})
# no AutoRun commands of the registry (/d), the command line as written (/s)
SHELL = "cmd.exe /d /s /c"
RULE = "cmd.exe fence"

_PROMPT = re.compile(r"^\s*[A-Za-z]:\\[^>\n]{0,80}>\s?")
_SET = re.compile(r'^\s*set\s+(?!/[aApP]\b)"?([A-Za-z_][\w.-]*)=([^"\n]*?)"?\s*$', re.I)
_COMMENT = re.compile(r"^\s*(?:rem\b|::|@?echo\s+off\b)", re.I)
# waits for a person, or never ends: `pause`, `set /p`, `choice`, `ping -t`, `timeout /t -1`,
# an editor, a bare new console
_PERSON_OR_FOREVER = re.compile(
    r"^\s*(?:pause|choice)\b|^\s*set\s+/p\b|\bping\b[^\n]*\s[-/]t\b|^\s*timeout\s+/t\s+-1\b|"
    r"^\s*(?:start\s+)?notepad(?:\.exe)?\b|^\s*(?:cmd|powershell)(?:\.exe)?\s*$",
    re.I,
)
_READS = re.compile(r"%([A-Za-z_][\w.-]*)%")
# what Windows sets itself: never a value the document forgot to give
_NAMES = """ProgramData ProgramFiles ProgramFiles(x86) ProgramW6432 SystemRoot SystemDrive windir
TEMP TMP USERPROFILE USERNAME USERDOMAIN COMPUTERNAME APPDATA LOCALAPPDATA HOMEDRIVE HOMEPATH
PATH PATHEXT PUBLIC ALLUSERSPROFILE COMSPEC ERRORLEVEL DATE TIME CD RANDOM OS
PROCESSOR_ARCHITECTURE NUMBER_OF_PROCESSORS"""
_WINDOWS_VARS = frozenset(_NAMES.lower().replace("\n", " ").split())


def is_transcript(text: str) -> bool:
    """An untagged block whose commands carry a drive prompt (``C:\\>``, ``D:\\app>``)."""
    return any(_PROMPT.match(line) for line in text.splitlines())


def commands(text: str) -> list[tuple[int, str]]:
    """(offset, command) of every line cmd.exe runs: the prompted lines of a transcript (the
    others are what they printed), else every line that is no comment."""
    lines = text.splitlines()
    if is_transcript(text):
        found = [
            (i, ln[m.end() :].strip()) for i, ln in enumerate(lines) if (m := _PROMPT.match(ln))
        ]
        return [(i, c) for i, c in found if c]
    return [(i, ln.strip()) for i, ln in enumerate(lines) if ln.strip() and not _COMMENT.match(ln)]


def output_lines(text: str) -> list[int]:
    """Offsets of a transcript's lines that are output (neither a prompt nor blank)."""
    if not is_transcript(text):
        return []
    return [i for i, ln in enumerate(text.splitlines()) if ln.strip() and not _PROMPT.match(ln)]


def defines(cmds: list[tuple[int, str]]) -> dict[str, str]:
    """``set NAME=value`` of the block, by name (the last one wins, as in cmd)."""
    found: dict[str, str] = {}
    for _, command in cmds:
        m = _SET.match(command)
        if m is not None:
            found[m.group(1)] = m.group(2)
    return found


def waits(cmds: list[tuple[int, str]]) -> str | None:
    """The first command that waits for a person or never ends, else None."""
    return next((c for _, c in cmds if _PERSON_OR_FOREVER.search(c)), None)


def unset_reads(cmds: list[tuple[int, str]], carried: dict[str, str]) -> list[str]:
    """``%NAME%``s read before the block or an earlier one set them (and not Windows' own)."""
    known = {k.lower() for k in carried}
    missing: list[str] = []
    for _, command in cmds:
        m = _SET.match(command)
        for name in _READS.findall(command if m is None else m.group(2)):
            if name.lower() not in known and name.lower() not in _WINDOWS_VARS:
                missing.append(name)
        if m is not None:
            known.add(m.group(1).lower())
    return list(dict.fromkeys(missing))


def script(cmds: list[tuple[int, str]], carried: dict[str, str]) -> str:
    """One cmd.exe command line: the values earlier blocks set, then the block's commands,
    each only if the one before succeeded (``&&``)."""
    own = defines(cmds)
    read = {n.lower() for _, c in cmds for n in _READS.findall(c)}
    parts = [
        _set(name, value)
        for name, value in carried.items()
        if name not in own and name.lower() in read
    ]
    for _, command in cmds:
        m = _SET.match(command)
        if m is not None:
            parts.append(_set(m.group(1), m.group(2)))
        elif _READS.search(command):
            parts.append(f"call {command}")  # expanded when it runs, after the sets
        else:
            parts.append(command)
    return " && ".join(parts)


def _set(name: str, value: str) -> str:
    return f'set "{name}={value}"'  # quoted: no trailing blank before `&&` in the value


def person_label(cmds: list[tuple[int, str]]) -> str:
    shown = "; ".join(c for _, c in cmds[:3])
    more = " …" if len(cmds) > 3 else ""
    return f"run in cmd.exe by hand: {shown}{more}"
