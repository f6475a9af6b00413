"""The base of every record the journal stores, and the JSON types records are made of."""

from __future__ import annotations

from typing import TypeAlias

from pydantic import BaseModel, ConfigDict, JsonValue

__all__ = ["JsonDict", "JsonObject", "JsonValue", "Number", "Record", "Weights"]

# JSON numbers: an int stays an int (``1`` must not come back as ``1.0``).
Number: TypeAlias = int | float
Weights: TypeAlias = dict[str, int]
# Free-form JSON a user wrote (plan vars, step outputs, a check's observed value): the one
# place where a dict's keys are not ours to know. ``JsonValue`` is pydantic's recursive alias
# (str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]).
JsonDict: TypeAlias = dict[str, JsonValue]
# A record's stored JSON object as pydantic dumps it (keys are the record's own fields).
JsonObject: TypeAlias = dict[str, JsonValue]


class Record(BaseModel):
    """A frozen part of the vocabulary that stores as one JSON object."""

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        validate_by_name=True,
        serialize_by_alias=True,
        defer_build=True,
    )

    def to_json(self) -> JsonObject:
        """The JSON object stored: the fields given, and nothing else."""
        return self.model_dump(mode="json", exclude_unset=True)
