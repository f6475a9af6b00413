"""Read a YAML document into plain Python data plus the source position of every node.

PyYAML's composer keeps a mark on every node; we build the Python values ourselves from the
node tree so that each value's ``(line, column)`` can be looked up by its path
(``("phases", 0, "steps", 1, "run")``). Building it ourselves also lets us refuse what a
plan never needs and an attacker would love: alias bombs, duplicate keys, non-string keys,
binary and oversized files.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phasegate.errors import PlanError, Problem

MAX_PLAN_BYTES = 10 * 1024 * 1024
MAX_NODES = 2_000_000  # aliases are expanded; this bounds the expansion (alias bombs)

Path_ = tuple[str | int, ...]

try:  # libyaml when available: ~10x faster composition of big plans
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


@dataclass
class SourceMap:
    """Positions (1-based line, column) of values and of mapping keys, by path."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

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
        return self.values.get((), (None, None))  # type: ignore[return-value]

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
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise PlanError([Problem(f"no such file: {name}", hint="check the path")]) from None
    except OSError as exc:
        raise PlanError([Problem(f"cannot read {name}: {exc.strerror}")]) from exc
    if path.is_dir():
        raise PlanError([Problem(f"{name} is a directory, not a plan file")])
    if size > MAX_PLAN_BYTES:
        raise PlanError(
            [
                Problem(
                    f"file is {size / 1e6:.1f} MB; plans are limited to "
                    f"{MAX_PLAN_BYTES // (1024 * 1024)} MB",
                    file=name,
                    hint="split data out of the plan and reference it by path",
                )
            ]
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanError([Problem(f"cannot read {name}: {exc.strerror}", file=name)]) from exc
    if b"\x00" in raw[:8192]:
        raise PlanError(
            [Problem("file is binary, not a YAML plan", file=name, hint="pass a .yaml file")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PlanError(
            [
                Problem(
                    f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                    file=name,
                    line=line,
                    hint="save the plan as UTF-8",
                )
            ]
        ) from None
    return text


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; return plain data and its source map."""
    smap = SourceMap(file=file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        raise PlanError(
            [
                Problem(
                    f"YAML syntax error: {what}",
                    file=file,
                    line=line,
                    column=column,
                    hint="check indentation and quoting around this position",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise PlanError([Problem(f"YAML error: {exc}", file=file)]) from None
    if node is None:
        return None, smap
    builder = _Builder(smap)
    data = builder.build(node, ())
    if builder.problems:
        raise PlanError(builder.problems)
    return data, smap


class _Builder:
    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap
        self.count = 0
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")  # for scalar resolution only

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise PlanError(
                [
                    self.smap.problem(
                        path,
                        "document expands to more than "
                        f"{MAX_NODES:,} nodes (YAML alias bomb?)",
                        hint="remove the recursive aliases (&anchor / *alias)",
                    )
                ]
            )
        self.smap.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self._constructor.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                self.problems.append(self.smap.problem(path, f"invalid value: {exc}"))
                return None
            if isinstance(value, datetime.date):
                return value.isoformat()  # plans treat dates as text (target dates, windows)
            if isinstance(value, bytes):
                self.problems.append(self.smap.problem(path, "binary values are not allowed"))
                return None
            return value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged = self.build(value_node, path)
                    for item in merged if isinstance(merged, list) else [merged]:
                        if isinstance(item, dict):
                            for k, v in item.items():
                                out.setdefault(k, v)
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(
                        self.smap.problem(path, "mapping keys must be plain strings")
                    )
                    continue
                key = str(self._constructor.construct_object(key_node))
                child = (*path, key)
                if key in out:
                    self.problems.append(
                        Problem(
                            f"duplicate key {key!r}",
                            file=self.smap.file,
                            line=key_node.start_mark.line + 1,
                            column=key_node.start_mark.column + 1,
                            field=format_path(child),
                            hint="each key may appear once in a mapping; remove or rename one",
                        )
                    )
                    continue
                self.smap.keys[child] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, child)
            return out
        return None  # pragma: no cover - PyYAML has only three node kinds
