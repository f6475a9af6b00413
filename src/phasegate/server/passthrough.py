"""JSON objects an API response carries as they were built (a run document's phases, an
event's data): typed ``JsonDict`` for the type checker, but neither validated nor serialized
value by value by pydantic.

Why not plain ``JsonDict`` in a response model: pydantic validates and serializes its
recursive ``JsonValue`` about ten times slower than ``Any`` (a run document of thousands of
items, 10,000 events a page), and warns on a tuple. The OpenAPI schema stays what
an untyped dict gave: an object, any properties.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, SkipValidation, WithJsonSchema

from phasegate.run.record import JsonDict

__all__ = ["ApiJson"]


def _as_built(value: Any) -> Any:
    return value


ApiJson = Annotated[
    JsonDict,
    SkipValidation,
    PlainSerializer(_as_built, return_type=Any),
    WithJsonSchema({"type": "object", "additionalProperties": True}),
]
