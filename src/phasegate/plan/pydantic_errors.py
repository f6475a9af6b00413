"""Translate pydantic validation errors into located, hinted Problems."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from phasegate.errors import Problem
from phasegate.plan.yamlsource import Path_, SourceMap
from phasegate.suggest import did_you_mean


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Path_, Any]:
    """Follow an error's loc through the data, dropping pydantic's union-member tags."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part not in current:
            # A missing field or an extra key: keep the name, it is what the user must fix.
            path.append(part)
            current = None
    return tuple(path), current


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        found: list[type[BaseModel]] = []
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
        return found
    return []


def model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    current: type[BaseModel] | None = root
    for part in path:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        models = _models_in(field.annotation)
        current = models[0] if models else None
    return current


def problems_from_validation(
    exc: ValidationError,
    data: Any,
    base: Path_,
    smap: SourceMap,
    root: type[BaseModel],
) -> list[Problem]:
    merged: dict[Path_, list[str]] = {}
    hints: dict[Path_, str | None] = {}
    extra: set[Path_] = set()
    for error in exc.errors(include_url=False):
        path, _ = _data_path(tuple(error["loc"]), data)
        kind = error["type"]
        message = str(error["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        hint: str | None = None
        if kind == "extra_forbidden":
            key = str(path[-1]) if path else "?"
            owner = model_at(root, path[:-1])
            allowed = list(owner.model_fields) if owner else []
            message = f"unknown key {key!r}"
            hint = did_you_mean(key, allowed)
            extra.add(path)
        elif kind == "missing":
            message = f"required field {path[-1]!r} is missing" if path else "field missing"
            hint = "add it"
        elif kind == "too_short" and path and path[-1] == "phases":
            message = "the plan has no phases"
            hint = "add at least one phase with steps or gates"
        messages = merged.setdefault(path, [])
        if message not in messages:
            messages.append(message)
        hints.setdefault(path, hint)
    problems: list[Problem] = []
    for path, messages in merged.items():
        full = (*base, *path)
        if len(messages) > 1 and all(m.startswith("Input should be") for m in messages):
            text = "Input should be " + " or ".join(m[len("Input should be ") :] for m in messages)
        else:
            text = "; ".join(messages)
        problems.append(smap.problem(full, text, hints.get(path), key=path in extra))
    return problems
