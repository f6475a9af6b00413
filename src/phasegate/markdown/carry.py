"""Shell functions and arrays a later fence uses: one terminal, as the reader assumes (§4).

An imported plan runs with ``shell_session: true``: the variables and the working directory a
step leaves are there for the next step (engine/shellstate.py). Functions and arrays are not
carried (bash cannot export them, and the session is rebuilt from the journal), so a fence
that calls ``deploy_node`` or loops over ``"${NODES[@]}"`` defined in an earlier fence would
fail with "command not found" — or, worse, loop zero times over an empty array and succeed
having done nothing.

A definition is pure text with no effect of its own (``f() { … }``, ``NODES=(a b c)``), so it
is written again in front of the command that uses it, with a comment citing where the
document defined it: what the reader's terminal would have had. An array filled by a command
(``NODES=($(kubectl get nodes -o name))``) is not pasted — running the command again could do
something twice, or give another answer — and the step that uses it ``needs_binding`` until
a person moves the definition where it belongs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown import shellparse
from phasegate.markdown.draft import Draft

_FUNCTION = re.compile(
    r"^\s*(?:function\s+([A-Za-z_][\w:.-]*)\s*(?:\(\s*\))?|([A-Za-z_][\w:.-]*)\s*\(\s*\))\s*"
    r"(?:\{|\(|$)"
)
_ARRAY = re.compile(r"^\s*(?:(?:declare|local|typeset|readonly)\s+-[aA]\w*\s+)?([A-Za-z_]\w*)=\(")
_SUBSTITUTION = re.compile(r"\$\(|`")
_DEFINES = re.compile(
    r"^\s*(?:function\s|[A-Za-z_][\w:.-]*\s*\(\s*\)|(?:declare|local|typeset|readonly)\s+-[aA]|"
    r"[A-Za-z_]\w*=\()",
    re.M,
)


@dataclass
class Definition:
    name: str
    kind: str  # "function" | "array"
    text: str
    line: int  # the Markdown line of its first line
    pure: bool  # writing it again has no effect of its own


def remember(draft: Draft, script: str, line: int) -> None:
    """The functions and arrays a fence defines (``line``: the Markdown line of its first
    line), for the fences after it."""
    if "(" not in script or not _DEFINES.search(script):
        return  # most fences define nothing: no second parse
    for unit in shellparse.analyse(script):
        if unit.kind != "command":
            continue
        function = _FUNCTION.match(unit.lines[0])
        if function is not None:
            name = function.group(1) or function.group(2)
            found = Definition(name, "function", unit.text.strip(), line + unit.start, True)
        else:
            array = _ARRAY.match(unit.lines[0])
            if array is None:
                continue
            pure = not _SUBSTITUTION.search(unit.text)
            found = Definition(array.group(1), "array", unit.text.strip(), line + unit.start, pure)
        draft.definitions[found.name] = found


def carry(draft: Draft, command: str, line: int) -> tuple[str, str | None]:
    """The command with the pure definitions it uses (and they use) written in front of it,
    and why it needs binding (an array a command filled) or None."""
    if not draft.definitions:
        return command, None
    needed: list[Definition] = []
    seen: set[str] = set()
    pending = [command]
    while pending:
        text = pending.pop()
        for definition in _used(draft, text, seen):
            seen.add(definition.name)
            if _defines(command, definition):
                continue  # the command defines it again itself
            needed.append(definition)
            pending.append(definition.text)
    if not needed:
        return command, None
    needed.sort(key=lambda d: d.line)
    impure = [d for d in needed if not d.pure]
    for definition in needed:
        what = f"{definition.kind} `{definition.name}` defined at line {definition.line}"
        if definition.pure:
            draft.note("carried", line=line, what=f"{what}: written again before this command")
    head = [
        f"# {d.kind} {d.name}, as defined at {draft.source}:{d.line} (one terminal)\n{d.text}"
        for d in needed
        if d.pure
    ]
    carried = "\n".join([*head, command]) if head else command
    if not impure:
        return carried, None
    names = ", ".join(f"`{d.name}` (line {d.line})" for d in impure)
    why = (
        f"uses the array {names} a command filled in an earlier block; arrays are not carried "
        "between steps and running that command again could differ: move its definition into "
        "this step"
    )
    draft.note("needs_binding", line=line, what=why)
    return carried, why


def _used(draft: Draft, text: str, seen: set[str]) -> list[Definition]:
    found = []
    for name, definition in draft.definitions.items():
        if name in seen or name not in text:
            continue
        if definition.kind == "array":
            if re.search(rf"\$\{{[#!]?{re.escape(name)}\[", text):
                found.append(definition)
        elif re.search(
            rf"(?:^|[;&|({{`]|\$\(|\b(?:then|do|else|time|sudo|exec)\s)\s*{re.escape(name)}(?![\w:.-])",
            text,
            re.M,
        ):
            found.append(definition)
    return found


def _defines(command: str, definition: Definition) -> bool:
    pattern = _FUNCTION if definition.kind == "function" else _ARRAY
    for line in command.splitlines():
        match = pattern.match(line)
        if match and definition.name in match.groups():
            return True
    return False
