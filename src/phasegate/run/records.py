"""The typed sub-records of a run's state (issue 12 §1): what ``apply`` keeps about a failure,
a pause, a rollback, the traffic, a promotion, warnings and decisions.

They are ``TypedDict``s: plain dicts at run time, so the state's JSON (``summary()``, the
materialized rows, the API) is exactly what it was and old journals fold the same, while
mypy checks every key a reader or the fold uses (a misspelled ``state.pause["reson"]`` is a
type error, where ``dict[str, Any]`` let it through).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Number = int | float


class FailureRecord(TypedDict):
    """Why the forward path stopped: the first failure (later ones are the items' own)."""

    # step | gate | analysis | trigger | rejected | aborted
    reason: str
    item: str | None  # None: the whole run (an abort)
    message: str
    action: str | None  # the on_failure that applies: rollback | pause | abort (None: plan's)
    detected_at: NotRequired[Number]


class PauseRecord(TypedDict):
    # approval | failure | unknown | traffic | canary | … (engine/runner.py says why)
    reason: str
    items: list[str]  # what the run waits for
    at: Number
    message: str


class RollbackFailure(TypedDict):
    item: str
    message: str | None


class RollbackRecord(TypedDict):
    reason: str
    by: str | None
    order: list[dict[str, Any]]  # run.events.RollbackEntry.to_json(), newest first
    started_at: Number
    attempt_started_at: Number
    budget: Number | None
    failures: list[RollbackFailure]
    detection_latency: NotRequired[Number]
    finished_at: NotRequired[Number]
    status: NotRequired[str]
    duration: NotRequired[Number | None]
    overrun: NotRequired[bool]


class TrafficChange(TypedDict):
    at: Number
    weights: dict[str, int]
    by: str | None
    reason: str | None


class TrafficRecord(TypedDict, total=False):
    """The weights the router last confirmed, and every change."""

    weights: dict[str, int]
    history: list[TrafficChange]


class PromotedRecord(TypedDict):
    by: str | None
    at: Number


class WarningRecord(TypedDict):
    item: str | None
    message: str


class DecisionRecord(TypedDict):
    """One approval or rejection, in order: the audit trail of go/no-go decisions."""

    key: str
    decision: Literal["approved", "rejected"]
    by: str
    comment: str
    at: Number
    choice: NotRequired[str]
