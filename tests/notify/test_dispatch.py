"""Routing, the event table and the dispatcher's promises, with the fake notifier and a
receiver that never answers."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from typing import Any, ClassVar

from phasegate.notify.base import Message, Notifier, Receipt
from phasegate.notify.config import Notify, Route
from phasegate.notify.dispatch import Notifications, Outcome, backoff_delay
from phasegate.notify.events import notices
from phasegate.notify.fake import FakeNotifier
from phasegate.notify.routing import channels_for
from phasegate.plan.notifyspecs import build_notifier
from phasegate.plan.yamlsource import SourceMap
from phasegate.run.events import ItemFinished, RunStarted, Warning, from_stored
from phasegate.run.state import RunState
from tests.notify.helpers import deliver, dispatcher, message


def test_every_matching_route_applies_and_a_channel_hears_once() -> None:
    routes = [
        Route(
            events=["rollback.*", "gate.failed"],
            min_severity="critical",
            channels=["pager", "slack"],
        ),
        Route(events=["*"], min_severity="warning", channels=["slack", "mail"]),
        Route(events=["run.started"], severity=["info"], channels=["mail"]),
    ]
    assert channels_for(routes, "rollback.started", "critical") == ["pager", "slack", "mail"]
    assert channels_for(routes, "rollback.finished", "warning") == ["slack", "mail"]
    assert channels_for(routes, "run.started", "info") == ["mail"]
    assert channels_for(routes, "run.succeeded", "info") == []


def test_event_table_severities() -> None:
    state = RunState(run_id="r")
    state.rollback = {"detection_latency": 0.25, "failures": []}

    def one(etype: str, data: dict[str, Any]) -> tuple[str, str, str]:
        [notice] = notices(from_stored(etype, data), state)
        return notice.event, notice.severity, notice.summary

    assert one("trigger.tripped", {"trigger": "errors", "action": "alert"})[:2] == (
        "trigger.tripped",
        "warning",
    )
    assert one("trigger.tripped", {"trigger": "errors", "action": "rollback"})[1] == "critical"
    assert one("run.paused", {"reason": "approval", "items": []})[:2] == (
        "paused.approval",
        "warning",
    )
    assert one("run.paused", {"reason": "failure"})[1] == "critical"
    event, severity, summary = one(
        "rollback.finished",
        {"status": "rolled_back", "duration": 1.5, "budget": 1.0, "overrun": True},
    )
    assert (event, severity) == ("rollback.finished", "warning")
    assert "1.5s (budget 1.0s, OVERRUN)" in summary and "0.2s" in summary
    assert one("rollback.finished", {"status": "rollback_failed"})[1] == "critical"
    assert one("warning", {"message": "slow", "budget": "duration"})[:2] == (
        "budget.warning",
        "warning",
    )
    assert notices(Warning(message="a check warned"), state) == []
    assert one("run.finished", {"status": "rolled_back"})[:2] == ("run.failed", "warning")
    assert one("run.finished", {"status": "succeeded"})[:2] == ("run.succeeded", "info")
    assert notices(ItemFinished(key="a/s", kind="step", status="succeeded"), state) == []
    event, severity, summary = one(
        "run.waiting",
        {
            "phase": "deploy",
            "rule": "deny[0]",
            "why": "deny[0] (stand-up) denies",
            "next_open": 1796654700,
        },
    )
    assert (event, severity) == ("run.waiting", "info")
    assert summary == (
        "run r waits: phase deploy is outside its change window (deny[0] (stand-up) denies); "
        "opens 2026-12-07T14:45:00Z"
    )


def test_fake_notifier_fails_then_succeeds_with_retries() -> None:
    fake = FakeNotifier(fail_first=2)
    notes, _ = dispatcher({"fake": fake}, retries=2)
    outcome = deliver(notes, "fake", message(notes))
    assert outcome.ok and outcome.attempts == 3 and len(fake.sent) == 1


def test_a_crashing_notifier_is_a_failed_delivery() -> None:
    class Broken(Notifier):
        kind: ClassVar[str] = "broken"

        async def send(self, message: Message, timeout: float) -> Receipt:
            raise RuntimeError("bug in a plugin")

    notes, _ = dispatcher({"b": Broken()}, retries=1)
    outcome = deliver(notes, "b", message(notes))
    assert not outcome.ok and outcome.attempts == 2
    assert outcome.error == "RuntimeError: bug in a plugin"


def test_backoff_doubles_with_bounded_jitter() -> None:
    rng = random.Random(7)
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (20, 60.0)):
        delay = backoff_delay(1.0, attempt, rng)
        assert full / 2 <= delay <= full


def test_observe_before_the_loop_queues_and_drain_reports_shutdown() -> None:
    """A receiver that accepts connections but never answers: drain gives up within its bound
    and every delivery still in flight is reported as failed, "shutdown"."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    outcomes: list[Outcome] = []
    flushed = threading.Event()
    slow = build_notifier({"webhook": {"url": url}}, (), SourceMap("t"), [])
    config = Notify.model_validate(
        {
            "channels": {"audit": FakeNotifier(), "slow": slow},
            "routes": [{"events": ["*"], "channels": ["audit", "slow"]}],
            "timeout": 60,
        }
    )
    notes = Notifications(
        config,
        run_id="r",
        plan="p",
        secrets=(),
        report=outcomes.append,
        flush=flushed.set,
    )
    state = RunState(run_id="r")
    notes.observe([(RunStarted(user="ann"), 1.0)], state)
    assert flushed.is_set() and len(notes.pending) == 2 and outcomes == []

    async def main() -> None:
        notes.start()
        await notes.drain(seconds=0.5)

    try:
        asyncio.run(main())
    finally:
        listener.close()
    by_channel = {o.channel: o for o in outcomes}
    assert by_channel["audit"].ok
    assert not by_channel["slow"].ok and by_channel["slow"].error == "shutdown"
    assert notes.tasks == set()
