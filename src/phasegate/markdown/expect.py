"""Expectation cells as authors write them ("Exit 0", "8 files", "200 OK") -> a check."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

from phasegate.markdown.nodes import CheckNode
from phasegate.run.record import JsonValue


@dataclass
class ParsedCheck:
    check: CheckNode
    how: str  # how the expectation was read, for the import report
    ambiguous: bool = False


_EXIT = re.compile(r"\b(?:exit(?:\s*code)?|returns?|rc|status)\s*[:=]?\s*(\d{1,3})\b", re.I)
_NONZERO = re.compile(r"\b(?:non[- ]?zero|fails?|error exit)\b", re.I)
_ROWS = re.compile(r"\b\d+\s+(?:new\s+)?rows?\b|\bempty\b|\bno rows\b", re.I)
_COUNT = re.compile(r"^\s*(\d+)\s+(?:files?|entries|items|directories|dirs)\b", re.I)
_PLURAL_FILES = re.compile(r"\b(?:files|logs?)\b", re.I)
_HTTP = re.compile(r"^\s*(?:HTTP\s*)?([1-5]\d\d)\b(?:\s+[A-Za-z ]+)?\s*$", re.I)
_VERSION = re.compile(r"^\s*`?(v?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?)`?\s*$")
_QUOTED = re.compile(r"^\s*[\"'`](.+?)[\"'`]\s*$")
_OK_WORDS = re.compile(
    r"\b(help text|usage|success|succeeds|passes|pass|ok|no errors?|works|runs?|completes?|"
    r"output|prints?|shows?|lists?|version)\b",
    re.I,
)


def _path_arg(command: str, tools: tuple[str, ...]) -> str | None:
    """The single path operand of ``ls PATH`` / ``test -e PATH`` / ``stat PATH``, else None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] not in tools:
        return None
    operands = [w for w in words[1:] if not w.startswith("-") and w not in ("[", "]")]
    if len(operands) != 1 or any(ch in command for ch in "|;&><*?$`"):
        return None
    return operands[0]


def _code(command: str) -> str:
    """The command without its comment lines (``# Health check``, ``# Expected: …``)."""
    return "\n".join(ln for ln in command.splitlines() if not ln.lstrip().startswith("#")).strip()


_CURL_FAIL = re.compile(
    r"(?:^|[\s|;&(])curl\b[^|;&\n]*?\s(?:--fail(?:-with-body)?|-[A-Za-z]*f[A-Za-z]*)\b"
)


def exit_code_says(command: str, parsed: ParsedCheck) -> bool:
    """Whether the command's own exit code already checks what ``parsed`` expects: an exit-0
    expectation, or an HTTP status below 400 of a `curl -f` (exit 22 on an HTTP error)."""
    if parsed.ambiguous:
        return False
    if parsed.check == {"command": command, "expect": {"exit": 0}}:
        return True
    status = parsed.check.get("expect", {}).get("status")
    return (
        "http" in parsed.check
        and isinstance(status, int)
        and status < 400
        and bool(_CURL_FAIL.search(_code(command)))
    )


def _curl_url(command: str) -> str | None:
    command = _code(command)
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] != "curl" or any(ch in command for ch in "|;&>`"):
        return None
    urls = [w for w in words[1:] if w.startswith(("http://", "https://"))]
    flags = [w for w in words[1:] if w.startswith("-")]
    quiet = all(f in ("-s", "-S", "-sS", "-f", "-fsS", "-sf", "-L", "-k", "-i") for f in flags)
    if len(urls) == 1 and len(words) == 1 + len(urls) + len(flags) and quiet:
        return urls[0]
    return None


def _json_expect(text: str) -> dict[str, JsonValue] | None:
    stripped = text.strip().strip("`")
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data:
        return None
    out: dict[str, JsonValue] = {}
    for key, value in data.items():
        if isinstance(value, str | int | float | bool):
            out[f"$.{key}" if re.fullmatch(r"[A-Za-z_]\w*", str(key)) else f"$['{key}']"] = value
    return out or None


def described_output(command: str) -> ParsedCheck:
    """A multi-line "Expected output:" description: exit 0, and a human must compare."""
    return ParsedCheck({"command": command, "expect": {"exit": 0}}, "described output", True)


def parse_expectation(command: str, expected: str) -> ParsedCheck:
    """A check for running ``command`` and seeing ``expected``; never raises."""
    text = expected.strip()
    base: CheckNode = {"command": command}
    json_expect = _json_expect(text)
    if json_expect is not None:
        return ParsedCheck({**base, "expect": {"exit": 0, "json": json_expect}}, "JSON output")
    if _ROWS.search(text):  # rows of a query: needs a `sql` check, not an exit code
        return ParsedCheck({**base, "expect": {"exit": 0}}, "rows -> exit 0", ambiguous=True)
    match = _EXIT.search(text)
    if match:
        return ParsedCheck({**base, "expect": {"exit": int(match.group(1))}}, "exit code")
    if _NONZERO.search(text):
        return ParsedCheck({**base, "expect": {"exit": {">": 0}}}, "non-zero exit")
    if re.search(r"\bfile exists\b|\bexists\b", text, re.I):
        path = _path_arg(command, ("ls", "test", "stat", "["))
        if path is not None:
            return ParsedCheck({"file": path, "expect": {"exists": True}}, "file exists")
        return ParsedCheck({**base, "expect": {"exit": 0}}, "exists -> exit 0")
    count = _COUNT.match(text)
    if count:
        path = _path_arg(command, ("ls",))
        if path is not None:
            return ParsedCheck(
                {"file": path, "expect": {"count": int(count.group(1))}}, "directory entry count"
            )
        return ParsedCheck({**base, "expect": {"exit": 0}}, "count not checkable", ambiguous=True)
    status = _HTTP.match(text)
    if status:
        code = int(status.group(1))
        url = _curl_url(command)
        if url is not None:
            return ParsedCheck({"http": url, "expect": {"status": code}}, "HTTP status")
        if code < 400 and _CURL_FAIL.search(_code(command)):
            # `curl -f` exits 22 on an HTTP error: its exit code is the status check the
            # author meant; the body need not contain "200".
            return ParsedCheck({**base, "expect": {"exit": 0}}, "HTTP status via curl -f")
        if "%{http_code}" in command or "%{response_code}" in command:
            return ParsedCheck(
                {**base, "expect": {"exit": 0, "stdout_contains": str(code)}},
                "HTTP status in output",
            )
        return ParsedCheck(
            {**base, "expect": {"exit": 0}}, "HTTP status not checkable -> exit 0", ambiguous=True
        )
    quoted = _QUOTED.match(text)
    if quoted:
        return ParsedCheck(
            {**base, "expect": {"exit": 0, "stdout_contains": quoted.group(1)}}, "output contains"
        )
    if _PLURAL_FILES.search(text):
        path = _path_arg(command, ("ls",))
        if path is not None:
            return ParsedCheck(
                {"file": path, "expect": {"count": {">=": 1}}}, "directory is not empty"
            )
    version = _VERSION.match(text)
    if version:  # "| `indexer --version` | 4.0.1 |": the version it must print
        return ParsedCheck(
            {**base, "expect": {"exit": 0, "stdout_contains": version.group(1)}}, "output contains"
        )
    if not text or _OK_WORDS.search(text):
        return ParsedCheck({**base, "expect": {"exit": 0}}, "exit 0")
    return ParsedCheck({**base, "expect": {"exit": 0}}, "unparsed -> exit 0", ambiguous=True)


# "Replication lag of `pg-orders-2` must be 0 MB. Check it with:", "The count should be 0.
# Verify:", "Der Wert muss 0 sein. Prüfen mit:": the value the command after it must print
_STATED_VALUE = re.compile(
    r"\b(?:must|should|has to|needs? to|is expected to|ought to)\s+(?:be|equal|read|show|return)\s+"
    r"(?:exactly\s+)?(?P<num>-?\d+(?:\.\d+)?)\s*(?P<unit>[A-Za-z%]{0,3})\b(?![.,]\d)|"
    r"\bmuss\s+(?P<num2>-?\d+(?:\.\d+)?)\s*(?P<unit2>[A-Za-z%]{0,3})\s+sein\b|"
    r"\b(?:deve|debe)\s+ser\s+(?P<num3>-?\d+(?:\.\d+)?)\s*(?P<unit3>[A-Za-z%]{0,3})\b",
    re.I,
)
_CHECK_LEAD = re.compile(
    r"(?:check|verify|confirm|test)\w*\b[^.:]{0,30}:\s*$|(?:pr[üu]f|kontroll|überprüf|verifi|"
    r"confer|comprueb)\w*\b[^.:]{0,30}:\s*$",
    re.I,
)


def stated_value(lead: str, command: str) -> ParsedCheck | None:
    """The check for a fence whose lead-in states the one number it must print ("… must be 0
    MB. Check it with:"): the output must be that number (a unit after it allowed), never
    just any output — which would pass whatever the lag is."""
    text = " ".join(lead.split())
    if not _CHECK_LEAD.search(text):
        return None
    found = _STATED_VALUE.search(text)
    if found is None:
        return None
    number = found.group("num") or found.group("num2") or found.group("num3")
    unit = found.group("unit") or found.group("unit2") or found.group("unit3") or ""
    value = re.escape(number) + (r"(?:\.0+)?" if "." not in number else "")
    tail = rf"(?:\s*{re.escape(unit)})?" if unit else ""
    check: CheckNode = {
        "command": command,
        "expect": {"exit": 0, "stdout_regex": rf"^\s*{value}{tail}\s*$"},
    }
    return ParsedCheck(check, f"prints {number} {unit}".strip())
