"""Translate pydantic validation errors into located, hinted Problems worded for plan authors.

Pydantic reports a union (``run: str | list[str]``) as one error per member, tagged with the
member's name in the error's location. A plan author wants one sentence: the member whose
shape the value has explains what is wrong; if none has it, "expected a string or a list".
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from phasegate.errors import Problem
from phasegate.plan.yamlsource import Path_, SourceMap
from phasegate.suggest import close_match, did_you_mean

# Error kinds that mean "the value has the wrong shape", with what was expected instead.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "nothing (null)",
}
_MISSING_HINTS = {  # for the plan's own top-level keys
    "version": "add `version: 1` at the top of the plan",
    "name": "add `name: …` at the top of the plan, e.g. `name: web-release`",
    "phases": "add `phases:` with at least one phase (`- id: …` and its `steps:`)",
}
_IDENTIFIER = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"


@dataclass
class _Error:
    path: Path_  # where in the data (a missing key's name included)
    kind: str
    message: str
    value: Any
    ctx: dict[str, Any]
    union: tuple[Path_, str] | None  # (where the union is, which member) for member errors


def describe_value(value: Any) -> str:
    """A value as a plan author wrote it: ``'three'``, ``5``, ``true``, ``a list``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    return str(value)


def _parse(error: Any, data: Any) -> _Error:
    """Follow an error's location through the data; the parts that are not in the data are
    pydantic's union-member tags, except a missing key's own name."""
    loc = tuple(error["loc"])
    kind = str(error["type"])
    path: list[str | int] = []
    current = data
    union: tuple[Path_, str] | None = None
    for index, part in enumerate(loc):
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif index == len(loc) - 1 and kind == "missing" and isinstance(part, str):
            path.append(part)
            current = None
        elif union is None:
            union = (tuple(path), str(part))
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return _Error(tuple(path), kind, message, error.get("input"), error.get("ctx") or {}, union)


def _drop_unfitting_members(errors: list[_Error]) -> list[_Error]:
    """Of a union's members, keep those whose shape the value has (their errors say what is
    wrong inside it); if none has, keep all: they merge into "expected X or Y"."""
    members: dict[Path_, dict[str, list[_Error]]] = {}
    for error in errors:
        if error.union is not None:
            where, member = error.union
            members.setdefault(where, {}).setdefault(member, []).append(error)
    dropped: set[int] = set()
    for where, by_member in members.items():
        fitting = {
            member
            for member, errs in by_member.items()
            if not all(e.path == where and e.kind in _EXPECTED for e in errs)
        }
        if fitting:
            for member, errs in by_member.items():
                if member not in fitting:
                    dropped.update(id(e) for e in errs)
    return [e for e in errors if id(e) not in dropped]


def _annotation_at(root: type[BaseModel], path: Path_) -> Any:
    """The type annotation that validates the value at ``path`` (relative to ``root``)."""
    annotation: Any = root
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return annotation


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    return [annotation]


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key a plan writes (the alias where there is one)."""
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def _step(annotation: Any, part: str | int) -> Any:
    for member in _unwrap(annotation):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(part, str) and part in _fields(member):
                return _fields(member)[part].annotation
        elif origin in (list, tuple) and isinstance(part, int):
            return typing.get_args(member)[0]
        elif origin is dict and isinstance(part, str):
            return typing.get_args(member)[1]
    return None


def model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """The model whose fields are the keys of the mapping at ``path``, if any."""
    annotation = _annotation_at(root, path)
    for member in _unwrap(annotation) if annotation is not None else []:
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _field_at(root: type[BaseModel], path: Path_) -> FieldInfo | None:
    if not path or not isinstance(path[-1], str):
        return None
    owner = model_at(root, path[:-1])
    return _fields(owner).get(path[-1]) if owner else None


def _one(error: _Error, root: type[BaseModel]) -> tuple[str, str | None]:
    """Message and hint for one error."""
    kind, ctx, value, path = error.kind, error.ctx, error.value, error.path
    name = str(path[-1]) if path else "value"
    if kind == "extra_forbidden":
        owner = model_at(root, path[:-1])
        return f"unknown key {name!r}", did_you_mean(name, _fields(owner) if owner else [])
    if kind == "missing":
        info = _field_at(root, path)
        hint: str | None = f"add `{name}: …`"
        if len(path) == 1 and name in _MISSING_HINTS:
            hint = _MISSING_HINTS[name]
        elif info is not None and info.description:
            hint = f"add `{name}: …` ({info.description})"
        return f"missing required key {name!r}", hint
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(value)}", _shape_hint(
            kind, value, model_at(root, path)
        )
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected)
        guess = close_match(str(value), choices) if isinstance(value, str) else None
        hint = f"did you mean {guess!r}?" if guess else None
        return f"must be {expected}, got {describe_value(value)}", hint
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == _IDENTIFIER:
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-_.")
            return (
                f"{describe_value(value)} is not a valid id: use letters, digits, '_', '.' "
                "and '-', starting with a letter or digit",
                f"e.g. {slug!r}" if slug else None,
            )
        return f"{describe_value(value)} does not match the pattern {ctx.get('pattern')}", None
    if kind in ("byte_size", "byte_size_unit"):
        return (
            f"{describe_value(value)} is not a size",
            "a number of bytes or a number with a unit: 4096, 64KiB, 16MiB, 1GiB (or kB, MB, GB)",
        )
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {describe_value(value)}", None
    if kind in ("too_short", "string_too_short"):
        if path and path[-1] == "phases":
            return "the plan has no phases", "add at least one phase with steps or gates"
        if kind == "string_too_short":
            return "must not be empty", None
        return f"must have at least {ctx.get('min_length')} item(s)", None
    if kind in ("too_long", "string_too_long"):
        unit = "characters" if kind == "string_too_long" else "items"
        return f"must have at most {ctx.get('max_length')} {unit}", None
    cause_hint = getattr(ctx.get("error"), "hint", None)
    return error.message, cause_hint if isinstance(cause_hint, str) else None


def _shape_hint(kind: str, value: Any, model: type[BaseModel] | None) -> str | None:
    """How to write the value in the shape that was expected."""
    if kind == "string_type" and isinstance(value, int | float | bool):
        return f'quote it to make it text: "{describe_value(value)}"'
    if kind in ("list_type", "tuple_type", "set_type"):
        if isinstance(value, dict):
            return "a list: start each item on its own line with `- `"
        if isinstance(value, str | int | float):
            return f"write it as a list: [{value}]"
    if kind in ("model_type", "dict_type", "model_attributes_type") and model is not None:
        return "keys allowed here: " + ", ".join(_fields(model))
    return None


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def problems_from_validation(
    exc: ValidationError,
    data: Any,
    base: Path_,
    smap: SourceMap,
    root: type[BaseModel],
) -> list[Problem]:
    """Problems for ``exc``, raised validating ``data`` (found at ``base``) with ``root``."""
    errors = _drop_unfitting_members([_parse(e, data) for e in exc.errors(include_url=False)])
    by_path: dict[Path_, list[_Error]] = {}
    for error in errors:
        by_path.setdefault(error.path, []).append(error)
    problems: list[Problem] = []
    for path, group in by_path.items():
        full = (*base, *path)
        if len(group) > 1 and all(e.kind in _EXPECTED for e in group):
            expected: list[str] = []
            for error in group:
                if _EXPECTED[error.kind] not in expected:
                    expected.append(_EXPECTED[error.kind])
            if "a number" in expected and "a whole number" in expected:
                expected.remove("a whole number")
            message = f"expected {_join(expected)}, got {describe_value(group[0].value)}"
            problems.append(smap.problem(full, message))
            continue
        messages: list[str] = []
        hint: str | None = None
        for error in group:
            message, one_hint = _one(error, root)
            if message not in messages:
                messages.append(message)
            hint = hint or one_hint
        key = any(e.kind == "extra_forbidden" for e in group)
        problems.append(smap.problem(full, "; ".join(messages), hint, key=key))
    return problems
