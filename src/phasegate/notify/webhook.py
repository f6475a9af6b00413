"""A generic JSON webhook, signed so that the receiver can trust it.

Headers (documented in docs/notifications.md):

* ``X-Phasegate-Event``: the notification event, e.g. ``rollback.started``
* ``X-Phasegate-Delivery``: the notification's id, the same in every retry
* ``X-Phasegate-Timestamp``: unix seconds when this attempt was signed
* ``X-Phasegate-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with ``secret``, of
  ``TIMESTAMP + "." + BODY`` (the exact body bytes). Signing the timestamp lets a receiver
  refuse replays: reject a timestamp older than a few minutes, then compare signatures in
  constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import ClassVar

from pydantic import Field

from phasegate.notify import _http
from phasegate.notify.base import Message, Notifier, Receipt, redact_url
from phasegate.run.record import JsonDict

PAYLOAD_VERSION = 1


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Phasegate-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str, *, max_age: float = 300) -> bool:
    """What a receiver does (and the tests check): fresh timestamp, matching signature."""
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return False
    return age <= max_age and hmac.compare_digest(signature(secret, timestamp, body), given)


class WebhookNotifier(Notifier):
    kind: ClassVar[str] = "webhook"
    secret_options: ClassVar[tuple[str, ...]] = ("url", "secret")

    url: str = Field(description="where to POST the JSON document")
    secret: str | None = Field(
        None, description="HMAC-SHA256 key for X-Phasegate-Signature (use ${VAR})"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")

    def describe(self) -> str:
        return f"webhook {redact_url(self.url)}"

    def body(self, message: Message) -> JsonDict:
        return {"version": PAYLOAD_VERSION, **message.as_dict()}

    async def send(self, message: Message, timeout: float) -> Receipt:
        data = json.dumps(self.body(message), sort_keys=True).encode()
        stamp = str(int(time.time()))
        headers = {
            **self.headers,
            "X-Phasegate-Event": message.event,
            "X-Phasegate-Delivery": message.id,
            "X-Phasegate-Timestamp": stamp,
        }
        if self.secret:
            headers["X-Phasegate-Signature"] = signature(self.secret, stamp, data)
        return await _http.post(self.url, data, headers, timeout)
