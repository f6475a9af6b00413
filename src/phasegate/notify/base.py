"""The notifier interface: one small class per kind, registered through entry points.

A notifier kind is a pydantic model of its options (unknown keys rejected at plan load, with
the file:line) with one coroutine, :meth:`Notifier.send`, that delivers one
:class:`Message` once. Retrying, time limits and reporting the outcome are the dispatcher's
business (``notify.dispatch``), so a kind only says whether one attempt worked: it returns a
:class:`Receipt`, or raises :class:`NotifierError` saying whether trying again could help.

Kinds register through the ``phasegate.notifiers`` entry-point group, built-ins included.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from phasegate.errors import PhasegateError
from phasegate.options import Model
from phasegate.registry import load, names
from phasegate.run.record import JsonDict, JsonValue

NOTIFIERS_GROUP = "phasegate.notifiers"
Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")

# Notification event names -> (default severity, what it means); docs/notifications.md shows
# this table. Here, beside Severity, so that loading a plan's routes (plan/notifyspecs.py)
# checks event names without importing the journal mapping (notify/events.py).
EVENTS: dict[str, tuple[Severity, str]] = {
    "run.started": ("info", "a run started"),
    "run.succeeded": ("info", "a run finished successfully"),
    "run.failed": ("critical", "a run ended unsuccessfully (warning when rolled back cleanly)"),
    "gate.failed": ("critical", "a gate check failed"),
    "step.failed": ("critical", "a step failed (warning with continue_on_error)"),
    "analysis.failed": ("critical", "a background metric analysis failed"),
    "paused.approval": (
        "warning",
        "the run paused for a human: approval (warning), or a failure, a crash-hidden "
        "outcome or the router (critical)",
    ),
    "run.waiting": ("info", "a closed change window holds the run (it continues by itself)"),
    "rollback.started": ("critical", "rollback started"),
    "rollback.finished": ("warning", "rollback finished (critical when it failed)"),
    "budget.warning": ("warning", "the run or its rollback went over its budget"),
    "budget.runway": (
        "warning",
        "a budget's projected runway fell below a threshold of `budget.runway` (warning; "
        "critical for the last threshold)",
    ),
    "trigger.tripped": ("critical", "a trigger tripped (warning for `action: alert`)"),
    "run.monitoring": ("info", "the rollout succeeded; post-rollout monitoring began"),
    "monitor.failed": (
        "critical",
        "post-rollout monitoring failed and acts: rollback or pause (critical), alert (warning)",
    ),
}


# The built-in kinds, for an installation whose package metadata predates the entry-point
# group (an editable install made before it was declared). Entry points win when present.
def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


class NotifierError(PhasegateError):
    """One delivery attempt failed. ``retryable``: a later attempt may work (a 5xx, a refused
    connection, a timeout); a 4xx means the request itself is wrong and is not repeated."""

    def __init__(
        self, message: str, *, retryable: bool = True, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code


@dataclass(frozen=True)
class Message:
    """One notification, the same for every channel; each kind renders it its own way."""

    run_id: str
    plan: str
    event: str  # a notification event name, e.g. rollback.started (see notify.events)
    severity: Severity
    summary: str  # one line for humans: what happened, to which item
    at: float  # when the journal recorded it (unix seconds)
    details: Mapping[str, JsonValue] = field(default_factory=dict)  # JSON-ready facts
    link: str | None = None
    test: bool = False  # sent by `phasegate notify test`
    # One id per notification, the same in every retry: receivers use it to drop duplicates.
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def title(self) -> str:
        prefix = "[test] " if self.test else ""
        return f"{prefix}phasegate {self.plan}: {self.event} ({self.severity})"

    def as_dict(self) -> JsonDict:
        return {
            "run_id": self.run_id,
            "plan": self.plan,
            "event": self.event,
            "severity": self.severity,
            "summary": self.summary,
            "at": self.at,
            "details": dict(self.details),
            "link": self.link,
            "test": self.test,
            "id": self.id,
        }


@dataclass(frozen=True)
class Receipt:
    """What one successful attempt got back: an HTTP status, or a word from the server."""

    status_code: int | None = None
    detail: str = ""


class Notifier(Model):
    """Options every notifier accepts, whatever its kind."""

    kind: ClassVar[str] = ""
    # Option names whose values are secrets (tokens, passwords, URLs carrying a token): they
    # are masked in everything phasegate records, wherever they show up.
    secret_options: ClassVar[tuple[str, ...]] = ()

    def describe(self) -> str:
        """Where messages go, in a few words, with no secret in them."""
        return self.kind

    def secrets(self) -> list[str]:
        out: list[str] = []
        for name in self.secret_options:
            value = getattr(self, name, None)
            if isinstance(value, str) and value:
                out.append(value)
        return out

    def expanded(self, expand: Callable[[str], str]) -> Notifier:
        """A copy with ``${VAR}`` expanded in every text option (done per run, so that the
        plan and the journal keep the references, never the values)."""

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                return expand(value)
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            return value

        data = walk(self.model_dump(by_alias=True, exclude_unset=True))
        return type(self).model_validate(data)

    async def send(self, message: Message, timeout: float) -> Receipt:
        """Deliver ``message`` once, within ``timeout`` seconds."""
        raise NotImplementedError


def notifier_names() -> list[str]:
    """Registered kinds, by name only: a kind's module loads when a plan uses it."""
    return sorted(names(NOTIFIERS_GROUP))


def notifier_kind(name: str) -> type[Notifier]:
    model: type[Notifier] = load(NOTIFIERS_GROUP, name)
    return model


_USERINFO = re.compile(r"^[^@/]*@")


def redact_url(url: str) -> str:
    """A URL as it may be recorded: scheme, host and port only. Webhook URLs carry their
    token in the path (Slack) or the query, so everything after the host is a secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if not parts.scheme or not parts.netloc:
        return "***"
    host = _USERINFO.sub("***@", parts.netloc)
    rest = "/***" if parts.path.strip("/") or parts.query else ""
    return urlunsplit((parts.scheme, host, rest, "", ""))
