"""Small value types shared by every options model: the plan's and each plugin's (checks,
routers, metric providers, notifiers).

A core module (below plan/ and the plugins), so that a plugin's options can use them without
importing the plan model, which imports the plugins' interfaces.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from phasegate.durations import parse_duration


def _duration(value: Any) -> float:
    return parse_duration(value)


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)?)+\s*$"},
            ],
            "description": "seconds, or a duration such as 500ms, 30s, 5m, 1h30m",
        }
    ),
]

Identifier = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=128),
]


def _command(value: str | list[str]) -> str | list[str]:
    # An empty argv cannot be spawned: refused here, with its location, not at run time.
    if isinstance(value, list) and (not value or not value[0]):
        raise ValueError("an argv list needs at least the program to run, e.g. [./deploy.sh]")
    return value


Command = Annotated[
    str | list[str],
    AfterValidator(_command),
    Field(description="a string run by the plan's shell, or an argv list run directly (no shell)"),
]


class Model(BaseModel):
    """Base for every plan model: unknown keys are errors and models are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, revalidate_instances="never", defer_build=True
    )


class RetryPolicy(Model):
    attempts: int = Field(3, ge=1, le=10_000, description="total attempts, including the first")
    every: Duration = Field(1.0, description="pause between attempts")
