"""PowerShell blocks pasted from a console, and PowerShell that never ends (blind round 9).

``PS C:\\> Invoke-WebRequest … | Select-Object StatusCode`` followed by ``StatusCode`` /
``----------`` / ``200``: a transcript. The lines after a ``PS …>`` prompt are commands (and
their ``>>`` continuation lines); every other line is what the console printed, never a command
(issue 11 §2). ``Get-Content app.log -Wait`` follows a file forever, ``Test-Connection
-Continuous`` and ``ping -t`` ping forever, ``while ($true)`` loops forever: never a step that
hangs until the timeout; a person watches them in another window (a manual step), issue 11 §2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# "PS C:\>", "PS D:\Deploy>", "PS /home/app>", "PS>", "[WEB-P-01]: PS C:\>" (a remote session)
_PROMPT = re.compile(r"^\s*(?:\[[^\]\n]+\]:\s*)?PS(?:\s+[^>\n]*)?>\s?")
_CONTINUATION = re.compile(r"^\s*>>\s?")
_FOREVER = (
    (
        re.compile(r"\b(?:get-content|gc|cat|type)\b[^\n|;]*\s-wait\b", re.I),
        "follows the file forever (-Wait)",
    ),
    (re.compile(r"\btest-connection\b[^\n|;]*\s-continuous\b", re.I), "pings forever"),
    (re.compile(r"^\s*ping(?:\.exe)?\b[^\n|;]*\s-t\b", re.I), "pings forever (-t)"),
    (re.compile(r"\bwhile\s*\(\s*\$true\s*\)|\bfor\s*\(\s*;\s*;\s*\)", re.I), "loops forever"),
)


@dataclass
class Transcript:
    script: str  # the commands, prompts taken off, output lines dropped
    output: list[int] = field(default_factory=list)  # offsets of the lines printed


def strip(text: str) -> Transcript | None:
    """The commands of a pasted console session, or None when no line has a prompt."""
    lines = text.splitlines()
    if not any(_PROMPT.match(ln) for ln in lines):
        return None
    out: list[str] = []
    output: list[int] = []
    open_line = False  # the command above goes on (a trailing backtick, pipe or brace)
    for offset, line in enumerate(lines):
        prompt = _PROMPT.match(line)
        more = _CONTINUATION.match(line)
        if prompt is not None:
            command = line[prompt.end() :]
        elif more is not None or (open_line and line.strip()):
            command = line[more.end() :] if more is not None else line
        else:
            if line.strip():
                output.append(offset)
            open_line = False
            continue
        out.append(command.rstrip())
        open_line = command.rstrip().endswith(("`", "|", "{", "(", ","))
    return Transcript("\n".join(out).strip("\n"), output)


def never_ending(line: str) -> str | None:
    """Why the PowerShell line never ends by itself, else None."""
    for pattern, why in _FOREVER:
        if pattern.search(line):
            return why
    return None


def split_forever(script: str) -> tuple[str, list[tuple[int, str, str]]]:
    """The script without its never-ending lines, and those lines (offset, text, why)."""
    kept: list[str] = []
    forever: list[tuple[int, str, str]] = []
    for offset, line in enumerate(script.splitlines()):
        why = never_ending(line)
        if why is None:
            kept.append(line)
        else:
            forever.append((offset, line.strip(), why))
    return "\n".join(kept), forever
