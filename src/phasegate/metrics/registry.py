"""Provider kinds by name, loaded through the ``phasegate.metrics`` entry points, and the
validation of a check's ``provider:`` value into an instance of its kind.

A plan writes a provider as a mapping with one key naming the kind::

    provider: {prometheus: {url: http://127.0.0.1:9090}}

The kind's model validates the options; its errors keep their place in the document
(``provider.prometheus.url``), so a plan author is pointed at the line to fix.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from phasegate.metrics.base import Provider
from phasegate.registry import load, names
from phasegate.suggest import did_you_mean

METRICS_GROUP = "phasegate.metrics"


def provider_names() -> list[str]:
    """Registered kinds, by name only: a kind's module loads when a plan uses it."""
    return names(METRICS_GROUP)


def provider_kind(name: str) -> type[Provider]:
    model: type[Provider] = load(METRICS_GROUP, name)
    return model


def provider_kinds() -> dict[str, type[Provider]]:
    """Every registered kind (imports them all: for the schema and docs)."""
    return {name: provider_kind(name) for name in provider_names()}


class HintedValueError(ValueError):
    """A ValueError whose ``hint`` the plan loader shows below the message."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def validate_provider(value: Any) -> Provider:
    """A provider instance from what a plan wrote (or an instance given by Python code).

    Only the inline form exists today. A plain string is reserved for naming a provider
    declared once at plan level; it is refused with a hint until that exists.
    """
    if isinstance(value, Provider):
        return value
    kinds = provider_names()
    example = "{prometheus: {url: http://127.0.0.1:9090}}"
    if isinstance(value, str):
        raise HintedValueError(
            f"a provider by name ({value!r}) is not supported yet",
            f"write the provider inline, e.g. provider: {example}",
        )
    if not isinstance(value, dict) or not value:
        raise HintedValueError(
            "a provider must be a mapping with one key naming its kind",
            f"e.g. provider: {example}; kinds: {', '.join(kinds)}",
        )
    named = [key for key in value if key in kinds]
    if len(named) > 1:
        raise located_error(
            (named[1],),
            value[named[1]],
            f"a provider has exactly one kind, this one names {len(named)}: {', '.join(named)}",
            "use one provider per check",
        )
    others = [key for key in value if key not in kinds]
    if others:
        key = str(others[0])
        if named:
            message = f"unknown key {key!r} beside the provider kind {named[0]!r}"
            hint = f"options go inside the kind: provider: {{{named[0]}: {{{key}: …}}}}"
        else:
            message = f"unknown provider kind {key!r}"
            hint = did_you_mean(key, kinds) or "no provider kinds are installed"
        raise located_error((others[0],), value[others[0]], message, hint)
    kind = named[0]
    options = value[kind] if value[kind] is not None else {}
    model = provider_kind(kind)
    if not isinstance(options, dict):
        raise located_error(
            (kind,),
            options,
            f"the options of a {kind} provider must be a mapping",
            "keys allowed here: " + ", ".join(_keys(model)),
        )
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        raise _nested(exc, kind, model) from None


def _keys(model: type[Provider]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def located_error(
    loc: tuple[Any, ...], value: Any, message: str, hint: str | None
) -> ValidationError:
    """A validation error at ``loc``, relative to where the validator runs (pydantic puts
    the location of the field being validated in front)."""
    detail: InitErrorDetails = {
        "type": "value_error",
        "loc": loc,
        "input": value,
        "ctx": {"error": HintedValueError(message, hint)},
    }
    return ValidationError.from_exception_data("provider", [detail])


def _nested(exc: ValidationError, kind: str, model: type[Provider]) -> ValidationError:
    """The kind's own errors, located under its key, with did-you-mean hints for unknown keys."""
    details: list[InitErrorDetails] = []
    for error in exc.errors(include_url=False):
        loc = (kind, *error["loc"])
        if error["type"] == "extra_forbidden":
            key = str(error["loc"][-1])
            hint = did_you_mean(key, _keys(model))
            error_ctx = {"error": HintedValueError(f"unknown key {key!r}", hint)}
            details.append(
                {"type": "value_error", "loc": loc, "input": error["input"], "ctx": error_ctx}
            )
            continue
        try:
            # Keep pydantic's own error types: the plan loader words each for plan authors.
            one: InitErrorDetails = {"type": error["type"], "loc": loc, "input": error["input"]}
            if error.get("ctx"):
                one["ctx"] = error["ctx"]
            ValidationError.from_exception_data("provider", [one])
        except (KeyError, TypeError, ValueError):
            one = {
                "type": PydanticCustomError(error["type"], error["msg"]),
                "loc": loc,
                "input": error["input"],
            }
        details.append(one)
    return ValidationError.from_exception_data("provider", details)
