"""PowerShell in a fence (issue 11 §2): a `powershell`/`pwsh`/`ps1` block runs under pwsh,
never bash; an untagged block is read as PowerShell only when every line is plainly
PowerShell (a `Verb-Noun` cmdlet of an approved verb, `$env:NAME = …`, `$name = …`, `& "…"`,
`.\\script.ps1`). A block mixing such lines with anything else, or holding a command that
waits for a person or never ends (`Read-Host`, `Enter-PSSession`, `Get-Content -Wait`), is
"ambiguous": a person does it (a manual step), nothing is guessed into execution."""

from __future__ import annotations

import re
from typing import Literal

from phasegate.markdown.nodes import CheckNode

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
    # `(Invoke-WebRequest -Uri … -UseBasicParsing).StatusCode`: a cmdlet's result, read
    plain = [bool(_CMDLET.match(ln.lstrip("( ")) or _LINE.match(ln)) for ln in lines]
    # `$TSMA = Test-MigrationServerAvailability …`: the cmdlet is the assignment's value
    cmdlets = sum(1 for ln in lines if _CMDLET.match(_ASSIGNED.sub("", ln).lstrip("( ")))
    if not any(plain) or (cmdlets == 0 and not any(ln.startswith("$env:") for ln in lines)):
        return None  # `$x = 1` alone is no sign of PowerShell (it is no valid sh either)
    if not all(plain) or _PERSON_OR_FOREVER.search(text):
        return "ambiguous"
    return "pwsh"


def person_label(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    shown = "; ".join(lines[:3]) + ("; …" if len(lines) > 3 else "")
    return f"run in PowerShell by hand (not sure it is safe to run as written): {shown}"


# verbs that only read (PowerShell's approved verbs of the Common/Diagnostic/Data groups that
# change nothing), and the web cmdlets when they send no body
_READ_VERBS = frozenset(
    {"get", "test", "measure", "select", "where", "format", "out", "compare", "find", "search"}
    | {"resolve", "show", "convertto", "convertfrom", "sort", "group", "write", "foreach"}
)
_WRITES = re.compile(r"(?<![-\w])(?:>|>>)\s*\S|Out-File|Set-Content|Add-Content", re.I)
_ANY_CMDLET = re.compile(rf"(?<![\w-])((?:{_VERBS}))-([A-Z][A-Za-z0-9]+)\b")
_WEB = re.compile(r"^Invoke-(?:WebRequest|RestMethod)$", re.I)
_WEB_WRITES = re.compile(r"-Method\s+['\"]?(?:post|put|patch|delete)\b|-Body\b|-InFile\b", re.I)
_REMOTE = re.compile(r"^Invoke-Command$", re.I)
_OTHER_PROGRAM = re.compile(r"(?m)(?:^|[;{|]\s*)(?!\$|\(|[A-Za-z]+-[A-Z])([a-z][\w.]*)(?=\s|$)")


def reads_only(script: str) -> bool:
    """Whether a PowerShell check only looks: every cmdlet reads (``Get-Service``,
    ``Test-NetConnection``, ``Invoke-WebRequest`` without a body or a writing method,
    ``Invoke-Command`` running such cmdlets), no other program is called, nothing is
    assigned to a drive or piped into a file."""
    body = "\n".join(ln for ln in script.splitlines() if not ln.strip().startswith("#"))
    if not body.strip() or _WRITES.search(body):
        return False
    found = _ANY_CMDLET.findall(body)
    if not found:
        return False
    for verb, noun in found:
        name = f"{verb}-{noun}"
        if _WEB.match(name):
            if _WEB_WRITES.search(body):
                return False
        elif _REMOTE.match(name):
            continue  # what it runs is read here too: the cmdlets of its script block
        elif verb.lower() not in _READ_VERBS:
            return False
    return not _OTHER_PROGRAM.search(body)


_NET_TEST = re.compile(
    r"^Test-NetConnection\s+(?:-ComputerName\s+)?(?P<host>[\w.-]+)\s+-Port\s+(?P<port>\d{1,5})"
    r"(?:\s+-InformationLevel\s+\w+)?\s*$",
    re.I,
)
# a web request throws on a status that is no success: its exit code says whether it passed
_THROWS = re.compile(r"^Invoke-(?:WebRequest|RestMethod)$", re.I)
# "Expected: `200`.", "All must be `Running`.", "Should return `True`", "Erwartet: `OK`"
_SAID = re.compile(
    r"(?:expected(?:\s+(?:output|result|value))?\s*[:：]|must (?:be|show|say|return)|"
    r"should (?:be|show|say|return|print)|erwartet\s*[:：]|attendu\s*[:：]|esperado\s*[:：]|"
    r"muss\s+\S+\s+sein|deve (?:essere|ser)|doit (?:être|afficher))[^`\n]{0,40}`([^`\n]+)`",
    re.I,
)


def check(script: str, said: str) -> CheckNode | None:
    """A PowerShell block under a check's heading as a check a machine makes, or None (a
    person checks it): ``Test-NetConnection host -Port n`` is a tcp check; a block that only
    reads is a pwsh command check when what passing looks like is known: the value the prose
    after it names ("Expected: `200`", "All must be `Running`"), or a web request (it throws
    on a status that is no success)."""
    body = [ln.strip() for ln in script.splitlines() if ln.strip()]
    body = [ln for ln in body if not ln.startswith("#")]
    if len(body) == 1 and (net := _NET_TEST.match(body[0])):
        return {"tcp": f"{net.group('host')}:{net.group('port')}"}
    if not reads_only(script):
        return None
    command = STRICT + script.strip()
    value = _SAID.search(" ".join(said.split()))
    if value is not None:
        return {
            "command": command,
            "shell": SHELL,
            "expect": {"exit": 0, "stdout_contains": value.group(1).strip()},
        }
    cmdlets = {f"{v}-{n}" for v, n in _ANY_CMDLET.findall(script)}
    if cmdlets and all(_THROWS.match(c) for c in cmdlets):
        return {"command": command, "shell": SHELL, "expect": {"exit": 0}}
    return None


_DEFINITION = re.compile(r"^\$([A-Za-z_]\w*)\s*=\s*(?P<rhs>\S.*)$")
_LITERAL = re.compile(
    r"""^(?:'[^'\n]*'|"[^"$`\n]*"|-?\d+(?:\.\d+)?|\$(?:true|false|null))"""
    r"""(?:\s*,\s*(?:'[^'\n]*'|"[^"$`\n]*"|-?\d+(?:\.\d+)?))*$""",
    re.I,
)


def defines(script: str, known: dict[str, list[str]]) -> dict[str, list[str]]:
    """The ``$name = …`` lines of a block that set a value by reading only (literals such as
    ``$Servers = 'WEB-01','WEB-02'``, or a query such as ``$pilot = Get-ADComputer -Filter *
    -SearchBase "OU=…"``), each with the earlier definitions it reads: what a later block may
    set again before it runs. PowerShell blocks are separate processes; a query set again
    reads the same (or a fresher) value, and a literal is the same."""
    found: dict[str, list[str]] = {}
    for raw in script.splitlines():
        line = raw.strip()
        match = _DEFINITION.match(line)
        if match is None or match.group(1).lower() in {n.lower() for n in _AUTOMATIC}:
            continue
        rhs = match.group("rhs")
        if not (_LITERAL.match(rhs) or reads_only(rhs)):
            continue
        needs: list[str] = []
        ok = True
        for name in unset_reads(rhs):
            prior = found.get(name.lower()) or known.get(name.lower())
            if prior is None:
                ok = False
                break
            needs += [ln for ln in prior if ln not in needs]
        if ok:
            found[match.group(1).lower()] = [*needs, line]
    return found


def carried(script: str, known: dict[str, list[str]]) -> str:
    """The block with the definitions it reads but does not set put before it (``defines``)."""
    lines: list[str] = []
    for name in unset_reads(script):
        for line in known.get(name.lower(), []):
            if line not in lines:
                lines.append(line)
    return "\n".join([*lines, script]) if lines else script
