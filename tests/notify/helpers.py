"""Build a dispatcher for in-process tests, the way the runner does."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from phasegate.notify.base import Message
from phasegate.notify.config import Notify
from phasegate.notify.dispatch import Notifications, Outcome
from phasegate.notify.events import Notice


def dispatcher(
    channels: dict[str, Any], *, secrets: tuple[str, ...] = (), **options: Any
) -> tuple[Notifications, list[Outcome]]:
    from phasegate.plan.notifyspecs import build_notifier
    from phasegate.plan.yamlsource import SourceMap

    built = {}
    for name, raw in channels.items():
        problems: list[Any] = []
        notifier = (
            raw
            if not isinstance(raw, dict)
            else build_notifier(raw, ("c", name), SourceMap("t.yaml"), problems)
        )
        assert notifier is not None, problems
        built[name] = notifier
    settings = {"backoff": 0.001, "timeout": 5, **options}
    config = Notify.model_validate({"channels": built, **settings})
    outcomes: list[Outcome] = []
    notes = Notifications(config, run_id="r-1", plan="web", secrets=secrets, report=outcomes.append)
    return notes, outcomes


def message(notes: Notifications, event: str = "rollback.started", **details: Any) -> Message:
    notice = Notice(event, "critical", f"{event} happened", details)
    return notes.message(notice, time.time())


def deliver(notes: Notifications, channel: str, msg: Message) -> Outcome:
    return asyncio.run(notes.deliver(channel, msg))
