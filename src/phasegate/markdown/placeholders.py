"""Placeholders in commands (``<node>``, ``YOUR_TOKEN``, ``your_key_here``, ``YYYYMMDD``,
``1.27.x``, ``[Current IP]``, ``xxx``) -> named variables that need binding.

A runbook leaves some values to its reader. Run as written, ``kubectl drain <node>`` is a
redirect from a file called ``node>`` and ``echo your_new_token_here > token`` writes a
placeholder into production. Each placeholder becomes ``${NAME}`` in the command and a plan
variable read from the environment with ``needs_binding`` naming the placeholder and its
Markdown line, so ``validate`` lists it and ``run`` refuses the plan until it is bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown.draft import Draft
from phasegate.plan.variables import BUILTINS

# Tags a command may legitimately echo (`echo "<html>"`): never placeholders.
_HTML_TAGS = frozenset(
    [
        "a",
        "b",
        "i",
        "p",
        "br",
        "hr",
        "div",
        "span",
        "html",
        "head",
        "body",
        "title",
        "script",
        "style",
        "pre",
        "code",
        "table",
        "tr",
        "td",
        "th",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "img",
        "meta",
        "link",
        "em",
        "strong",
    ]
)
_PATTERNS = [
    # <node>, <REV>, <your-project-id>: not a heredoc (<<), not a process substitution
    ("angle", re.compile(r"(?<![<\w])<([A-Za-z][A-Za-z0-9_.:-]{0,40})>(?!>)")),
    # [Current IP], [cluster name]: words in brackets, not a test `[ -f x ]` or array index
    (
        "bracket",
        # a one-word all-caps tag (`[PLMS]`, `[ERROR]`) is a label, not a placeholder
        re.compile(
            r"(?<![\w\]\[$\\])\[([A-Z][A-Za-z0-9_]*(?: [A-Za-z0-9_]+){1,4}|[A-Z][a-z]+)\]"
            r"(?![(\[])"
        ),
    ),
    ("your", re.compile(r"\b(YOUR_[A-Z0-9_]+|your[_-][a-z0-9_-]*[a-z0-9])\b")),
    ("here", re.compile(r"\b([a-z0-9]+(?:_[a-z0-9]+)*_here)\b")),
    ("date", re.compile(r"\b(YYYY[-_]?MM[-_]?DD(?:[-_]?HH(?:[-_]?MM)?)?)\b")),
    ("version", re.compile(r"\b(v?\d+\.(?:\d+|x)\.x|v?\d+\.x)\b")),
    ("xxx", re.compile(r"(?<![\w-])([xX]{3,})(?![\w-])")),
    ("changeme", re.compile(r"\b(CHANGE_?ME|changeme|REPLACE_?ME|replace[_-]me|PLACEHOLDER)\b")),
]


@dataclass
class Found:
    text: str
    name: str


def _name(kind: str, text: str) -> str:
    inner = text.strip("<>[]")
    if kind == "date":
        return "DATE_" + re.sub(r"[^A-Z]", "_", inner.upper()).strip("_")
    if kind == "version":
        return "VERSION_" + re.sub(r"[^A-Z0-9]", "_", inner.upper()).strip("_")
    if kind == "xxx":
        return "PLACEHOLDER_XXX"
    if kind == "changeme":
        return "PLACEHOLDER_CHANGEME"
    name = re.sub(r"[^A-Za-z0-9]+", "_", inner).strip("_").upper()
    name = re.sub(r"^YOUR_", "", name)
    name = re.sub(r"_HERE$", "", name)
    if not name or name[0].isdigit():
        name = "VALUE_" + name
    return name


def find(command: str) -> list[tuple[int, int, Found]]:
    """Placeholders in a command: (start, end, what), not overlapping, in order."""
    spans: list[tuple[int, int, Found]] = []
    literal = _quoted_heredocs(command)
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(command):
            text = match.group(0)
            if kind == "angle" and match.group(1).lower() in _HTML_TAGS:
                continue
            start, end = match.start(), match.end()
            if any(s <= start < e for s, e in literal):
                continue  # a quoted heredoc's body is written as is: `${X}` would not expand
            if any(s < end and start < e for s, e, _ in spans):
                continue
            if command[max(0, start - 2) : start].endswith(("${", "$")):
                continue  # `$YOUR_TOKEN`: a shell variable, declared by emit and bound below
            spans.append((start, end, Found(text, _name(kind, text))))
    return sorted(spans, key=lambda s: s[0])


_HEREDOC = re.compile(r"<<-?\s*(['\"])([A-Za-z_][\w-]*)\1")


def _quoted_heredocs(command: str) -> list[tuple[int, int]]:
    """Character ranges of the bodies of ``<<'EOF'`` heredocs."""
    ranges: list[tuple[int, int]] = []
    for match in _HEREDOC.finditer(command):
        body = command.find("\n", match.end())
        if body < 0:
            continue
        end = re.compile(rf"^\s*{re.escape(match.group(2))}\s*$", re.M).search(command, body + 1)
        ranges.append((body, end.start() if end else len(command)))
    return ranges


def _in_single_quotes(command: str, index: int) -> bool:
    line_start = command.rfind("\n", 0, index) + 1
    quote: str | None = None
    for ch in command[line_start:index]:
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return quote == "'"


_SHELL_VAR = re.compile(r"\$\{?(YOUR_[A-Z0-9_]+|[A-Z0-9_]+_HERE)\b")


def bind(draft: Draft, command: str, line: int) -> str:
    """The command with each placeholder replaced by ``${NAME}``; each NAME becomes a plan
    variable that needs binding, naming the placeholder and its line."""
    out: list[str] = []
    last = 0
    for start, end, found in find(command):
        if found.name in BUILTINS:
            continue
        ref = "${" + found.name + "}"
        out.append(command[last:start])
        out.append(f"'\"{ref}\"'" if _in_single_quotes(command, start) else ref)
        last = end
        _declare(draft, found.name, found.text, line)
    out.append(command[last:])
    for match in _SHELL_VAR.finditer(command):  # `$YOUR_TOKEN`: the reader's value too
        _declare(draft, match.group(1), match.group(0), line)
    return "".join(out)


def _declare(draft: Draft, name: str, text: str, line: int) -> None:
    where = f"{draft.source}:{line}"
    spec = draft.vars.get(name)
    if isinstance(spec, dict) and "placeholder" in str(spec.get("description", "")):
        if where not in spec["needs_binding"]:
            spec["needs_binding"] += f", {where}"
        return
    if spec is not None:
        return
    draft.vars[name] = {
        "env": name,
        "needs_binding": f"placeholder `{text}` at {where}: the value the document leaves "
        f"to its reader",
        "description": f"placeholder `{text}` in the document",
    }
    draft.note("needs_binding", line=line, what=f"placeholder `{text}` -> ${{{name}}}")
