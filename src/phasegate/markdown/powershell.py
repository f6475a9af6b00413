"""PowerShell in a fence (issue 11 §2): a `powershell`/`pwsh`/`ps1` block runs under pwsh,
never bash; an untagged block is read as PowerShell only when every line is plainly
PowerShell (a `Verb-Noun` cmdlet of an approved verb, `$env:NAME = …`, `$name = …`, `& "…"`,
`.\\script.ps1`). A block mixing such lines with anything else, or holding a command that
waits for a person or never ends (`Read-Host`, `Enter-PSSession`, `Get-Content -Wait`), is
"ambiguous": a person does it (a manual step), nothing is guessed into execution."""

from __future__ import annotations

import re
from typing import Literal

# how a PowerShell step runs: no profile (what the reader's machine adds), no prompts
SHELL = "pwsh -NoLogo -NoProfile -NonInteractive -Command"
# a failing cmdlet stops the step instead of writing an error and going on (as `set -e`)
STRICT = "$ErrorActionPreference = 'Stop'\n"
TAGS = frozenset({"powershell", "pwsh", "ps1", "ps"})

_VERBS = (
    "Add|Approve|Assert|Backup|Block|Build|Checkpoint|Clear|Close|Compare|Complete|Compress|"
    "Confirm|Connect|Convert|ConvertFrom|ConvertTo|Copy|Debug|Deny|Deploy|Disable|Disconnect|"
    "Dismount|Edit|Enable|Enter|Exit|Expand|Export|Find|ForEach|Format|Get|Grant|Group|Hide|"
    "Import|Initialize|Install|Invoke|Join|Limit|Lock|Measure|Merge|Mount|Move|New|Open|"
    "Optimize|Out|Ping|Pop|Protect|Publish|Push|Read|Receive|Redo|Register|Remove|Rename|"
    "Repair|Request|Reset|Resize|Resolve|Restart|Restore|Resume|Revoke|Save|Search|Select|"
    "Send|Set|Show|Skip|Sort|Split|Start|Step|Stop|Submit|Suspend|Switch|Sync|Tee|Test|Trace|"
    "Unblock|Undo|Uninstall|Unlock|Unprotect|Unregister|Update|Use|Wait|Watch|Where|Write"
)
_CMDLET = re.compile(rf"^(?:{_VERBS})-[A-Z][A-Za-z0-9]+(?=\s|$|\|)")
_LINE = re.compile(
    r"^(?:\$env:[A-Za-z_]\w*\s*=|\$[A-Za-z_]\w*\s*=\s*\S|&\s*[\"'$.\w]|\.\\[\w.-]+\.ps1\b)"
)
_PERSON_OR_FOREVER = re.compile(
    r"\b(?:Read-Host|Enter-PSSession|Get-Credential|Pause)\b|^pause\b|"
    r"\bGet-Content\b.*\s-Wait\b|\bWait-Event\b|\bStart-Sleep\b.*-Seconds\s+\d{5,}",
    re.I,
)

_ASSIGNED = re.compile(r"^\$[A-Za-z_]\w*\s*=\s*")
# PowerShell's own variables: set by PowerShell, never by the document
_AUTOMATIC = frozenset(
    {
        "_",
        "args",
        "error",
        "errorActionPreference",
        "false",
        "home",
        "host",
        "input",
        "lastExitCode",
        "matches",
        "null",
        "psItem",
        "psScriptRoot",
        "psVersionTable",
        "pwd",
        "true",
        "verbosePreference",
        "warningPreference",
        "confirmPreference",
    }
)
_READ = re.compile(r"\$(?!env:)([A-Za-z_]\w*)")
_SET = re.compile(r"(?m)^\s*\$([A-Za-z_]\w*)\s*=|\bforeach\s*\(\s*\$([A-Za-z_]\w*)", re.I)

Kind = Literal["pwsh", "ambiguous"]


def unset_reads(text: str) -> list[str]:
    """``$name``s the block reads but does not set: a value an earlier block (another pwsh
    process) or the reader was to give; run alone, PowerShell reads them as empty."""
    set_here = {n.lower() for pair in _SET.findall(text) for n in pair if n}
    automatic = {n.lower() for n in _AUTOMATIC}
    out: list[str] = []
    for name in _READ.findall(text):
        if name.lower() not in set_here | automatic and name not in out:
            out.append(name)
    return out


def classify(text: str) -> Kind | None:
    """What an untagged block is: PowerShell to run, PowerShell-like but unsure, or neither."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("#")]
    if not lines:
        return None
    plain = [bool(_CMDLET.match(ln) or _LINE.match(ln)) for ln in lines]
    # `$TSMA = Test-MigrationServerAvailability …`: the cmdlet is the assignment's value
    cmdlets = sum(1 for ln in lines if _CMDLET.match(_ASSIGNED.sub("", ln)))
    if not any(plain) or (cmdlets == 0 and not any(ln.startswith("$env:") for ln in lines)):
        return None  # `$x = 1` alone is no sign of PowerShell (it is no valid sh either)
    if not all(plain) or _PERSON_OR_FOREVER.search(text):
        return "ambiguous"
    return "pwsh"


def person_label(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    shown = "; ".join(lines[:3]) + ("; …" if len(lines) > 3 else "")
    return f"run in PowerShell by hand (not sure it is safe to run as written): {shown}"
