"""Does imported plan data hold what markdown/nodes.py says? A runtime reading of the
``TypedDict``s: every key a node holds is one its type declares (required keys present), and
every value is of the declared kind, down through lists, mappings and nested nodes.

mypy checks the importer's code against the types; this checks the types against what the
importer really emits (a key written through a path mypy cannot see would show here).
"""

from __future__ import annotations

import types
from typing import Annotated, Union, get_args, get_origin, get_type_hints, is_typeddict

from phasegate.run.record import JsonValue


def problems(value: object, hint: object, path: str = "plan") -> list[str]:
    """What in ``value`` does not conform to ``hint`` ([] when it all does)."""
    if hint is JsonValue:  # pydantic's alias: plain JSON, however deep
        return [] if _json(value) else [f"{path}: {value!r} is not JSON"]
    if hint is object:
        return []
    if is_typeddict(hint):
        return _node(value, hint, path)
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return problems(value, args[0], path)
    if origin in (Union, types.UnionType):
        found = [problems(value, a, path) for a in args]
        if any(not f for f in found):
            return []
        return [f"{path}: {value!r} is none of {hint}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [p for n, v in enumerate(value) for p in problems(v, args[0], f"{path}[{n}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not a mapping"]
        out = [f"{path}: key {k!r} is not a string" for k in value if not isinstance(k, str)]
        return out + [p for k, v in value.items() for p in problems(v, args[1], f"{path}.{k}")]
    if hint is None or hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not None"]
    if hint is float:  # a YAML/JSON number: an int is a float here
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if isinstance(hint, type):
        ok = isinstance(value, hint) and (hint is bool or not isinstance(value, bool))
        return [] if ok else [f"{path}: {value!r} is not {hint.__name__}"]
    raise TypeError(f"{path}: cannot read the hint {hint!r}")


def _node(value: object, node: type, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {value!r} is not a {node.__name__}"]
    hints = get_type_hints(node)
    out = [f"{path}.{k}: not a key of {node.__name__}" for k in value if k not in hints]
    required: frozenset[str] = getattr(node, "__required_keys__", frozenset())
    out += [f"{path}.{k}: required by {node.__name__}" for k in sorted(required - set(value))]
    for key, item in value.items():
        if key in hints:
            out += problems(item, hints[key], f"{path}.{key}")
    return out


def _json(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json(v) for k, v in value.items())
    return False
