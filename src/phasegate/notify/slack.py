"""Slack through an incoming webhook: a ``text`` fallback plus Block Kit blocks."""

from __future__ import annotations

import json
from typing import ClassVar

from pydantic import Field

from phasegate.notify import _http
from phasegate.notify.base import Message, Notifier, Receipt, redact_url
from phasegate.run.record import JsonDict

_ICON = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


class SlackNotifier(Notifier):
    kind: ClassVar[str] = "slack"
    secret_options: ClassVar[tuple[str, ...]] = ("webhook_url",)

    webhook_url: str = Field(description="the incoming webhook's URL (a secret: use ${VAR})")
    username: str | None = Field(None, description="shown as the sender, if the app allows")
    icon_emoji: str | None = None

    def describe(self) -> str:
        return f"slack {redact_url(self.webhook_url)}"

    def body(self, message: Message) -> JsonDict:
        text = f"{_ICON[message.severity]} *{message.title}*\n{message.summary}"
        context = f"run `{message.run_id}`"
        if message.link:
            context += f" · <{message.link}|open the run>"
        body: JsonDict = {
            "text": f"{message.title}: {message.summary}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
            ],
        }
        if self.username:
            body["username"] = self.username
        if self.icon_emoji:
            body["icon_emoji"] = self.icon_emoji
        return body

    async def send(self, message: Message, timeout: float) -> Receipt:
        data = json.dumps(self.body(message)).encode()
        return await _http.post(self.webhook_url, data, {}, timeout)
