"""What an operator asks of a running run, as typed inputs: approve, reject, abort, promote,
resume.

Every operator path builds one of these records, whoever executes the run. A run a live
process owns is asked through the store: ``to_request`` gives the stored shape, ``(kind, JSON
object)``, that ``add_request`` keeps (the CLI, the API, the dashboard), and the owner reads it
back with ``from_request`` (``take_requests``; ``from_request(*to_request(x)) == x``). A run
nobody executes is continued by the operator's own process, which gives the same record to
the same ``respond``. The engine's pure ``respond`` (engine/respond.py) turns an input and the
run's state into what the runner does, as ``decide`` does for the plan: no path acts on a
request's dict, so each input journals the same decision on every path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from phasegate.run.record import JsonDict, JsonValue


@dataclass(frozen=True, slots=True)
class Approve:
    """A go for one waiting (or not yet reached) item: a manual check, a ``pause: approve``
    step, an inconclusive analysis, a budget hold, a change window (``window:PHASE``)."""

    key: str
    by: str
    required: int = 1  # approvals the item needs in all (its ``approvals:``)
    comment: str | None = None
    var: str | None = None  # a decision (``approve --choose``): the variable and its option
    choice: str | None = None
    request: int | None = None  # the store's id of the request it came in (not its data)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A no-go for one item (``phasegate reject``): it fails and the run rolls back."""

    key: str
    by: str
    comment: str | None = None
    kind: str = "gate"
    phase: str | None = None
    name: str | None = None
    action: str | None = None  # a program's go/no-go ``on_no_go``; None: roll back


@dataclass(frozen=True, slots=True)
class Reject:
    decisions: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class Abort:
    """Stop the run's work now and roll back. ``grace``: seconds between SIGTERM and SIGKILL
    for the commands running (None: the default); ``force``: SIGKILL at once."""

    by: str | None = None
    reason: str | None = None
    force: bool = False
    grace: float | None = None
    request: int | None = None  # the store's request id, journalled as the answer to it


@dataclass(frozen=True, slots=True)
class Promote:
    """End the current canary hold; ``full``: skip every canary step left."""

    by: str = "operator"
    full: bool = False


@dataclass(frozen=True, slots=True)
class Resume:
    """Continue a paused or interrupted run."""

    by: str | None = None


OperatorInput: TypeAlias = Approve | Reject | Abort | Promote | Resume


class StoredRequest(NamedTuple):
    """A request as the store returns it (``take_requests``): not yet typed, so that a
    malformed one is reported and consumed by the owner rather than refused by the store."""

    id: int
    kind: str
    data: JsonDict


def to_request(given: OperatorInput) -> tuple[str, JsonDict]:
    """The stored shape of an input (``add_request``): its kind and its fields, the defaults
    left out (the shape old releases wrote and read)."""
    match given:
        case Approve():
            data: JsonDict = {"key": given.key, "by": given.by, "required": given.required}
            _put(data, comment=given.comment, var=given.var, choice=given.choice)
            return "approve", data
        case Reject():
            return "reject", {"decisions": [_rejection_json(d) for d in given.decisions]}
        case Abort():
            data = {"force": given.force}
            _put(data, by=given.by, reason=given.reason, grace=given.grace)
            return "abort", data  # ``request`` is the store's id, not the request's data
        case Promote():
            return "promote", {"by": given.by, "full": given.full}
        case Resume():
            data = {}
            _put(data, by=given.by)
            return "resume", data


def _rejection_json(decision: Rejection) -> JsonDict:
    data: JsonDict = {"key": decision.key, "by": decision.by, "kind": decision.kind}
    _put(
        data,
        comment=decision.comment,
        phase=decision.phase,
        name=decision.name,
        action=decision.action,
    )
    return data


def _put(data: JsonDict, **fields: JsonValue) -> None:
    data.update({name: value for name, value in fields.items() if value is not None})


class MalformedRequest(ValueError):
    """A stored request that is not one of the inputs (an unknown kind, a field missing or of
    the wrong type): the runner says so and consumes it."""


def from_request(
    kind: str, data: Mapping[str, object], request_id: int | None = None
) -> OperatorInput:
    """A stored request as its typed input; raises ``MalformedRequest``."""
    try:
        match kind:
            case "approve":
                return Approve(
                    key=_text(data, "key"),
                    by=_text(data, "by"),
                    required=_count(data.get("required", 1)),
                    comment=_maybe_text(data, "comment"),
                    var=_maybe_text(data, "var"),
                    choice=_maybe_text(data, "choice"),
                    request=request_id,
                )
            case "reject":
                decisions = data.get("decisions", [])
                if not isinstance(decisions, list):
                    raise MalformedRequest("reject: 'decisions' is not a list")
                return Reject(decisions=tuple(_rejection(d) for d in decisions))
            case "abort":
                grace = data.get("grace")
                if grace is not None and (
                    isinstance(grace, bool) or not isinstance(grace, int | float)
                ):
                    raise MalformedRequest(f"abort: 'grace' is not a number: {grace!r}")
                return Abort(
                    by=_maybe_text(data, "by"),
                    reason=_maybe_text(data, "reason"),
                    force=bool(data.get("force")),
                    grace=float(grace) if grace is not None else None,
                    request=request_id,
                )
            case "promote":
                return Promote(by=str(data.get("by") or "operator"), full=bool(data.get("full")))
            case "resume":
                return Resume(by=_maybe_text(data, "by"))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, MalformedRequest):
            raise
        raise MalformedRequest(f"{kind}: {exc}") from exc
    raise MalformedRequest(f"unknown request kind {kind!r}")


def _rejection(decision: object) -> Rejection:
    if not isinstance(decision, Mapping):
        raise MalformedRequest(f"reject: a decision is not an object: {decision!r}")
    return Rejection(
        key=_text(decision, "key"),
        by=_text(decision, "by"),
        comment=_maybe_text(decision, "comment"),
        kind=str(decision.get("kind") or "gate"),
        phase=_maybe_text(decision, "phase"),
        name=_maybe_text(decision, "name"),
        action=_maybe_text(decision, "action"),
    )


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedRequest(f"'required' is not a number: {value!r}")
    return int(value)


def _text(data: Mapping[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise MalformedRequest(f"{name!r} is missing or not a string")
    return value


def _maybe_text(data: Mapping[str, object], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else str(value)
