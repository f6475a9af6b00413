"""Read a YAML document into plain Python data plus the source position of every node.

PyYAML's composer keeps a mark on every node; we build the Python values ourselves from the
node tree so that each value's ``(line, column)`` can be looked up by its path
(``("phases", 0, "steps", 1, "run")``). Building it ourselves also lets us refuse what a
plan never needs and an attacker would love: alias bombs, recursive aliases, absurd nesting,
duplicate keys, non-scalar keys, language-specific tags, binary and oversized files.

Every refusal is a :class:`PlanError`; no other exception leaves this module for any input.
"""

from __future__ import annotations

import re
import resource
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phasegate.errors import PlanError, Problem
from phasegate.run.record import JsonDict, JsonValue

MAX_PLAN_BYTES = 10 * 1024 * 1024
MAX_NODES = 2_000_000  # aliases are expanded; this bounds the expansion (alias bombs)
MAX_DEPTH = 100  # a plan nests a dozen levels; this keeps every recursive walk shallow

Path_ = tuple[str | int, ...]

try:  # libyaml when available: ~10x faster composition of big plans
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

_CORE = "tag:yaml.org,2002:"
# Plain YAML: the tags a plan may carry, written or implied. Anything else (`!!python/…`,
# `!Ref`, `!!set`) would be silently ignored by our builder, so it is refused instead.
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")} | {
    _CORE + "seq",
    _CORE + "map",
}
_NOT_YAML_TEXT = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass
class SourceMap:
    """Positions (1-based line, column) of values and of mapping keys, by path."""

    file: str
    values: dict[Path_, tuple[int, int | None]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int | None]] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> tuple[int | None, int | None]:
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
            table = self.values
        return self.values.get((), (None, None))

    def problem(
        self, path: Path_, message: str, hint: str | None = None, *, key: bool = False
    ) -> Problem:
        line, column = self.locate(path, key=key)
        return Problem(
            message=message,
            file=self.file,
            line=line,
            column=column,
            field=format_path(path) or None,
            hint=hint,
        )


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_plan_text(path: Path) -> str:
    """Read a plan file, refusing binary, non-UTF-8 and oversized files with a clear problem."""
    name = str(path)

    def refuse(message: str, hint: str | None = None, at: int | None = None) -> PlanError:
        line = column = None
        if at is not None:
            line = raw.count(b"\n", 0, at) + 1
            column = at - (raw.rfind(b"\n", 0, at) + 1) + 1
        return PlanError([Problem(message, name, line, column, hint=hint)])

    raw = b""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise refuse("this is a directory, not a plan file")
        if size > MAX_PLAN_BYTES:
            mib = 1024 * 1024
            raise refuse(
                f"the file is {size / mib:.1f} MB; a plan may be at most "
                f"{MAX_PLAN_BYTES // mib} MB",
                "is this the right file? Keep data out of the plan and refer to it by path",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise refuse("no such file", "check the path") from None
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror}") from None
    if b"\x00" in raw[:8192]:
        raise refuse("the file is binary, not a YAML plan", "pass the plan's .yaml file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        raise refuse(message, "save the plan as UTF-8", at=exc.start) from None


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; return plain data (None for an empty one) and its source map."""
    smap = SourceMap(file=file)
    if not text.strip():
        return None, smap
    # The pre-pass tokenizes the whole text once more (~12% of a big plan's load): only
    # when composing first could overflow the C stack. Otherwise it runs only where its
    # verdict could differ from composing's (a syntax error, a deep tree), so every document
    # is refused or accepted with the same words as when it always ran first.
    safe = _compose_is_safe(text)
    # Whether a node can be shared (an alias, ``*name``): from the pre-pass's tokens when it
    # ran, else from the text (``_may_alias``: never misses one; ``&&``, ``2>&1`` and anchors
    # without aliases, in every imported plan's commands, do not count).
    aliases = _refuse_deep_nesting(text, file) if not safe else _may_alias(text)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        if safe:
            _refuse_deep_nesting(text, file)
        raise PlanError([_syntax_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        if safe:
            _refuse_deep_nesting(text, file)
        raise PlanError([_stream_problem(exc, text, file)]) from None
    if node is None:
        return None, smap
    # Without aliases no node is shared (nothing multiplies, nothing recurses): only depth
    # can hurt, and a plain walk checks that far faster than the full measurement (with
    # them, a walk could take exponential time: an alias bomb). Keys counted too on the fast
    # path: the pre-pass counts every collection it sees opened, never more than the tree's
    # depth through keys and values, so within the bound it would have passed.
    if aliases and safe:
        _refuse_deep_nesting(text, file)
    deep = not aliases and _deeper_than(node, MAX_DEPTH, keys=safe)
    if deep and safe:
        _refuse_deep_nesting(text, file)
        deep = _deeper_than(node, MAX_DEPTH)
    if aliases or deep:
        _guard(node, smap)
    builder = _Builder(smap)
    data = builder.build(node, (), primary=True)
    if builder.problems:
        raise PlanError(builder.problems)
    return data, smap


_OPENS = (
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
)
_CLOSES = (yaml.BlockEndToken, yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)


# C stack a level of libyaml's composing may take, at most: measured 175-360 bytes (a 1 MB
# stack composes 2,900 nested lists or block mappings and not 6,000); 2 KB keeps a margin.
_STACK_PER_LEVEL = 2048
_DEFAULT_STACK = 8 * 1024 * 1024  # the main thread's when its limit is unlimited


def _compose_is_safe(text: str) -> bool:
    """Whether composing ``text`` cannot overflow the C stack, without tokenizing it: its
    collections nest at most (``[`` and ``{`` in it) + (longest line + 2) deep — every flow
    collection opens with one of those characters (or a quote holds it: counted anyway), and
    open block collections have strictly increasing indentation — and that many levels fit in
    half the main thread's stack limit. Other threads' stacks are not known: never safe."""
    if threading.current_thread() is not threading.main_thread():
        return False
    limit = resource.getrlimit(resource.RLIMIT_STACK)[0]
    if limit == resource.RLIM_INFINITY or limit <= 0:
        limit = _DEFAULT_STACK
    levels = limit // 2 // _STACK_PER_LEVEL
    flows = text.count("[") + text.count("{")
    if flows >= levels:
        return False
    return flows + max(map(len, text.splitlines()), default=0) + 2 <= levels


# Where an alias token can start: a node starts the text or a line, or follows white space,
# a flow indicator or a JSON-like key's colon; its name is letters, digits, '-' and '_' (the
# scanners of libyaml and PyYAML read no other). A '*' elsewhere (a glob, '**') is not one.
_ALIAS = re.compile(r"(?:^|[\s\[\]{},:])\*[0-9A-Za-z_-]")


def _may_alias(text: str) -> bool:
    """Whether ``text`` may hold an alias (``*name``): never False for one that does; True
    for some that do not (``ls *.log`` in a command), which costs the full measurement."""
    return _ALIAS.search(text) is not None


def _refuse_deep_nesting(text: str, file: str) -> bool:
    """Refuse a document nested deeper than MAX_DEPTH before it is composed.

    Why before: libyaml's composer recurses once per level in C, so ``[`` x 100,000 (a 200 KB
    request) overflows the C stack (a segfault) or, on the pure-Python path, costs tens of
    seconds. The scanner is iterative and linear, and we stop reading tokens at the first
    level past the bound, so refusing costs a few microseconds however deep the document
    goes. Collections opened by the tokens counted here are a lower bound of the depth (an
    indentless ``- `` sequence opens none); the exact measure runs after composing.

    Returns whether the document holds an alias (``*name``), or may (a syntax error ended
    the scan): only then can a node be shared, and the full measurement (``_guard``) runs.
    """
    level = 0
    aliases = False
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.AliasToken):
                aliases = True
            elif isinstance(token, _OPENS):
                level += 1
                if level > MAX_DEPTH:
                    mark = token.start_mark
                    raise PlanError(
                        [
                            Problem(
                                f"the document is nested more than {MAX_DEPTH} levels deep",
                                file,
                                mark.line + 1,
                                mark.column + 1,
                                hint="a plan needs a dozen levels at most; flatten this structure",
                            )
                        ]
                    )
            elif isinstance(token, _CLOSES):
                level -= 1
    except yaml.YAMLError:
        return True  # a syntax error within the bound: composing reports it, located
    return aliases


# How PyYAML's syntax errors read to a plan author: (what the error says, in its problem or
# context; our message; our hint; whether the context mark, where the construct began, is
# the better position). The first match wins. {char} is the character at the error.
_SYNTAX = [
    ("\t", "a tab character; YAML indents with spaces only",
     "replace the tabs at the start of this line with spaces", False),
    ("cannot start any token", "a plain value cannot start with {char!r}",
     'quote the value: "{char}…"', False),
    ("single document", "the file holds more than one YAML document",
     "a plan is one document: remove this `---` line, or split the file", False),
    ("quoted scalar", "this quoted string is never closed",
     "close it with the quote it opens with", True),
    ("flow sequence", "the [ opened here is not closed properly",
     "look for a missing ',' or ']'", True),
    ("flow mapping", "the {{ opened here is not closed properly",
     "look for a missing ',' or '}}'", True),
    ("mapping values are not allowed", "a ': ' inside a value, or a key indented too deep",
     "quote a value that contains ': ', or check this line's indentation", False),
    ("undefined alias", "an alias (*name) refers to no anchor (&name) before it",
     "define the anchor first, or remove the alias", False),
]  # fmt: skip


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem, context = exc.problem or "", exc.context or ""
    lines = text.splitlines()
    char = ""
    if mark and mark.line < len(lines) and mark.column < len(lines[mark.line]):
        char = lines[mark.line][mark.column]
    # libyaml does not name the offending character; the tab check needs it.
    said = problem + "\n" + context + ("\t" if char == "\t" and "token" in problem else "")

    def located(message: str, hint: str, at: Any) -> Problem:
        line, column = (at.line + 1, at.column + 1) if at else (None, None)
        return Problem("YAML syntax error: " + message, file, line, column, hint=hint)

    for needle, message, hint, at_context in _SYNTAX:
        if needle in said and (char or "{char" not in message):
            at = exc.context_mark if at_context and exc.context_mark else mark
            return located(message.format(char=char), hint.format(char=char), at)
    quote = _open_quote(text, mark)
    if quote is not None and mark is not None:
        message = (
            f"the quoted string that starts here runs on to line {mark.line + 1}; "
            "is its closing quote missing?"
        )
        return located(message, "close the string on the line where it starts", quote)
    where = ""
    if context and exc.context_mark is not None and exc.problem_mark is not None:
        where = f" ({context} that starts at line {exc.context_mark.line + 1})"
    return located(
        f"{problem or context or 'invalid YAML'}{where}",
        "check the indentation and quoting on this line and the one before",
        mark,
    )


def _open_quote(text: str, mark: Any) -> Any:
    """The start of a quoted string that spans lines and ends where parsing failed, if any.

    A missing closing quote makes YAML swallow the following lines up to the next quote and
    fail there; the useful position is where the string starts.
    """
    if mark is None:
        return None
    found = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.line > mark.line:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.start_mark.line < token.end_mark.line
                and token.end_mark.line == mark.line
            ):
                found = token.start_mark
    except yaml.YAMLError:
        pass
    return found


def _stream_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    bad = _NOT_YAML_TEXT.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        return Problem(
            f"the file contains a control character (U+{ord(bad.group()):04X}) "
            "that YAML does not allow",
            file=file,
            line=line,
            column=column,
            hint='remove it, or write it as an escape inside a double-quoted string ("\\x01")',
        )
    return Problem(f"the file cannot be read as YAML: {exc}", file=file)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _children(node: yaml.Node) -> list[tuple[yaml.Node, str | int | None]]:
    """A node's children with the path step that reaches each (None: a mapping key)."""
    if isinstance(node, yaml.SequenceNode):
        return [(child, index) for index, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[yaml.Node, str | int | None]] = []
        for key, value in node.value:
            out.append((key, None))
            out.append((value, key.value if isinstance(key, yaml.ScalarNode) else "?"))
        return out
    return []


def _deeper_than(root: yaml.Node, limit: int, *, keys: bool = False) -> bool:
    """Whether the tree nests deeper than ``limit`` through its values (``keys``: through
    its mappings' keys too)."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return True
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, level + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((value, level + 1) for _, value in node.value)
            if keys:
                stack.extend((key, level + 1) for key, _ in node.value)
    return False


def _guard(root: yaml.Node, smap: SourceMap) -> None:
    """Refuse recursive aliases, alias bombs and absurd nesting before expanding anything."""
    size, depth, first = _measure(root, smap)
    if size[id(root)] > MAX_NODES:
        node, path = _largest(root, size, first)
        message = (
            f"this value expands to {size[id(node)]:,} YAML nodes through aliases; "
            f"a plan may have at most {MAX_NODES:,} (an alias bomb?)"
        )
        hint = "remove the aliases (*name) that multiply this value"
        raise PlanError([_at(smap, node, path, message, hint)])
    if depth[id(root)] > MAX_DEPTH:
        node, path = _deepest(root, depth)
        message = f"the document is nested more than {MAX_DEPTH} levels deep"
        hint = "a plan needs a dozen levels at most; flatten this structure"
        raise PlanError([_at(smap, node, path, message, hint)])


def _at(smap: SourceMap, node: yaml.Node, path: Path_, message: str, hint: str) -> Problem:
    line, column = _mark(node)
    return Problem(message, smap.file, line, column, format_path(path) or None, hint)


def _measure(
    root: yaml.Node, smap: SourceMap
) -> tuple[dict[int, int], dict[int, int], dict[int, Path_]]:
    """Expanded size and depth of every node, and the path where each first occurs.

    Aliases make the node tree a graph whose nodes are shared, so each node is measured once;
    the walk is iterative so that a deep document cannot exhaust Python's stack.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    first: dict[int, Path_] = {}
    pending: set[int] = set()
    stack: list[tuple[yaml.Node, Path_, bool]] = [(root, (), False)]
    while stack:
        node, path, done = stack.pop()
        nid = id(node)
        kids = _children(node)
        if done:
            pending.discard(nid)
            size[nid] = 1 + sum(size[id(kid)] for kid, _ in kids)
            depth[nid] = 1 + max((depth[id(kid)] for kid, _ in kids), default=0)
            continue
        if nid in size:
            continue
        if nid in pending:
            message = "a YAML alias refers to a value that contains the alias itself"
            hint = "a plan cannot be recursive; remove the alias (*name)"
            raise PlanError([_at(smap, node, path, message, hint)])
        pending.add(nid)
        first.setdefault(nid, path)
        stack.append((node, path, True))
        for kid, step in reversed(kids):
            stack.append((kid, path if step is None else (*path, step), False))
    return size, depth, first


def _largest(
    root: yaml.Node, size: dict[int, int], first: dict[int, Path_]
) -> tuple[yaml.Node, Path_]:
    """Follow the largest branch while it is written out in place rather than reached
    through an alias: the value found is the one the author should look at."""
    node = root
    path: Path_ = ()
    while True:
        values = [(kid, step) for kid, step in _children(node) if step is not None]
        if not values:
            return node, path
        kid, step = max(values, key=lambda item: size[id(item[0])])
        below: Path_ = (*path, step)
        if size[id(kid)] <= MAX_NODES or first[id(kid)] != below:
            return node, path
        node, path = kid, below


def _deepest(root: yaml.Node, depth: dict[int, int]) -> tuple[yaml.Node, Path_]:
    node = root
    path: Path_ = ()
    for _ in range(MAX_DEPTH):
        node, step = max(_children(node), key=lambda item: depth[id(item[0])])
        path = path if step is None else (*path, step)
    return node, path


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Builder:
    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")  # for scalar resolution only

    def _refuse(self, node: yaml.Node, path: Path_, message: str, hint: str) -> None:
        line, column = _mark(node)
        self.problems.append(
            Problem(message, self.smap.file, line, column, format_path(path) or None, hint)
        )

    def build(self, node: yaml.Node, path: Path_, *, primary: bool) -> JsonValue:
        # JSON: the core tags only, and timestamps stay text.
        # Values merged in with `<<` yield their position to values written in place.
        if primary:
            self.smap.values[path] = _mark(node)
        else:
            self.smap.values.setdefault(path, _mark(node))
        if node.tag not in _ALLOWED_TAGS:
            if node.tag == _CORE + "binary":
                self._refuse(node, path, "binary values are not allowed", "write text")
            else:
                self._refuse(
                    node,
                    path,
                    f"unsupported YAML tag {_tag_name(node.tag)}",
                    "plans are plain YAML: remove the tag",
                )
            return None
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _CORE + "timestamp":
                return str(node.value)  # plans treat dates as text (target dates, windows)
            try:
                scalar: JsonValue = self._constructor.construct_object(node, deep=True)
                return scalar  # a core tag's: str, int, float, bool or None
            except Exception:  # PyYAML raises ValueError, KeyError, … on malformed scalars
                resolve = self._constructor.resolve
                implied = resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
                if not node.style and implied == node.tag:
                    return str(node.value)  # a plain value that only looks typed (`0b_`): text
                self._refuse(
                    node,
                    path,
                    f"{node.value!r} is not a valid {_tag_name(node.tag)} value",
                    "remove the tag or fix the value",
                )
                return None
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(child, (*path, i), primary=primary) for i, child in enumerate(node.value)
            ]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, primary=primary)
        return None  # pragma: no cover - PyYAML has only three node kinds

    def _mapping(self, node: yaml.MappingNode, path: Path_, *, primary: bool) -> JsonDict:
        merged: JsonDict = {}
        out: JsonDict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                value = self.build(value_node, path, primary=False)
                sources = value if isinstance(value, list) else [value]
                if not all(isinstance(source, dict) for source in sources):
                    self._refuse(
                        key_node,
                        path,
                        "`<<` merges mappings only",
                        "write `<<: *name` where &name anchors a mapping",
                    )
                    continue
                for source in sources:
                    for k, v in source.items() if isinstance(source, dict) else ():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _ALLOWED_TAGS:
                self._refuse(key_node, path, "mapping keys must be plain text", "write a plain key")
                continue
            key = key_node.value  # the key as written: `on`, `1.0` and `null` stay text
            child = (*path, key)
            if key in out:
                self._refuse(
                    key_node,
                    child,
                    f"duplicate key {key!r}",
                    "each key may appear once in a mapping; remove or rename one",
                )
                continue
            if primary:
                self.smap.keys[child] = _mark(key_node)
            else:
                self.smap.keys.setdefault(child, _mark(key_node))
            out[key] = self.build(value_node, child, primary=primary)
        return {**merged, **out}
