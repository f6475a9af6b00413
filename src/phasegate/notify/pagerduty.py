"""PagerDuty Events API v2: one incident per run, opened and closed by its events.

Every message of a run carries the same ``dedup_key`` (``phasegate-RUN_ID``), so PagerDuty
keeps one incident per run: failures (gate failed, rollback started, paused, a tripped
trigger) *trigger* it, or add to it; a clean end (rollback finished with ``rolled_back``, run
succeeded) *resolves* it. Other informational events do not page and are skipped.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import Field

from phasegate.notify import _http
from phasegate.notify.base import Message, Notifier, Receipt
from phasegate.run.record import JsonDict

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_LIMIT = 1024  # PagerDuty refuses longer summaries


def resolves(message: Message) -> bool:
    if message.event == "run.succeeded":
        return True
    return message.event == "rollback.finished" and message.details.get("status") == "rolled_back"


class PagerDutyNotifier(Notifier):
    kind: ClassVar[str] = "pagerduty"
    secret_options: ClassVar[tuple[str, ...]] = ("routing_key",)

    routing_key: str = Field(description="the service integration's key (use ${VAR})")
    url: str = Field(EVENTS_URL, description="the Events API v2 endpoint")
    source: str | None = Field(None, description="payload.source; default: this host's name")

    def describe(self) -> str:
        return "pagerduty" + ("" if self.url == EVENTS_URL else f" {self.url}")

    def dedup_key(self, message: Message) -> str:
        return f"phasegate-{message.run_id}"

    def action(self, message: Message) -> str | None:
        """trigger, resolve, or None (nothing to tell a pager)."""
        if resolves(message):
            return "resolve"
        if message.severity == "info" and not message.test:
            return None
        return "trigger"

    def body(self, message: Message, action: str) -> JsonDict:
        body: JsonDict = {
            "routing_key": self.routing_key,
            "event_action": action,
            "dedup_key": self.dedup_key(message),
        }
        if action != "trigger":
            return body
        summary = f"{message.title}: {message.summary}"
        body["payload"] = {
            "summary": summary[:SUMMARY_LIMIT],
            "source": self.source or socket.gethostname(),
            "severity": message.severity,
            "timestamp": datetime.fromtimestamp(message.at, UTC).isoformat(),
            "component": message.plan,
            "group": "phasegate",
            "class": message.event,
            "custom_details": {"run_id": message.run_id, **message.details},
        }
        if message.link:
            body["links"] = [{"href": message.link, "text": f"run {message.run_id}"}]
        return body

    async def send(self, message: Message, timeout: float) -> Receipt:
        action = self.action(message)
        if action is None:
            return Receipt(detail="skipped: informational events do not page")
        data = json.dumps(self.body(message, action)).encode()
        receipt = await _http.post(self.url, data, {}, timeout)
        if message.test and action == "trigger":
            # A test opens nothing that someone must close by hand.
            data = json.dumps(self.body(message, "resolve")).encode()
            await _http.post(self.url, data, {}, timeout)
        return receipt
