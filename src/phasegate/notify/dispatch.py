"""Delivery: background tasks with retries, backoff and time limits, never failing the run.

The runner hands every journal event it records to :meth:`Notifications.observe`; events worth
telling (``notify.events``) are routed (``notify.routing``) and each (event, channel) pair
becomes one asyncio task. A task tries up to ``1 + retries`` times, each attempt within
``timeout``, waiting ``backoff * 2**n`` (with jitter, capped) in between, then reports one
:class:`Outcome` to the callback, which the runner journals as ``notification.sent`` or
``notification.failed``. Nothing here raises into the engine: a notifier that crashes is a
failed delivery like any other.

Events recorded before the loop runs (``run.started`` is journaled before ``drive``) wait in
a queue until :meth:`start`. At the end, :meth:`drain` gives in-flight deliveries a bounded
time, so that a run's last words (rollback finished) still go out, then gives up on the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from phasegate.masking import Masker
from phasegate.notify.base import Message, Notifier, NotifierError, Receipt
from phasegate.notify.config import Notify
from phasegate.notify.events import Notice, notices
from phasegate.notify.routing import channels_for
from phasegate.run.events import Event, NotificationFailed, NotificationSent
from phasegate.run.record import JsonDict

MAX_BACKOFF = 60.0
DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class Outcome:
    """How one delivery ended; ``as_event()`` is what the journal keeps."""

    channel: str
    kind: str
    event: str
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None
    detail: str = ""

    def as_event(self) -> NotificationSent:
        cls = NotificationSent if self.ok else NotificationFailed
        data: JsonDict = {
            "channel": self.channel,
            "kind": self.kind,
            "event": self.event,
            "attempts": self.attempts,
        }
        # Only what is known: the stored object has no status_code or error keys otherwise.
        if self.status_code is not None:
            data["status_code"] = self.status_code
        if self.error is not None:
            data["error"] = self.error
        return cls.model_validate(data)


def backoff_delay(base: float, attempt: int, rng: random.Random) -> float:
    """Before retry ``attempt`` (1, 2, ...): ``base * 2**(attempt-1)``, capped, times a jitter
    in [0.5, 1] so that many runs failing together do not retry in lockstep."""
    delay: float = min(MAX_BACKOFF, base * 2.0 ** (attempt - 1))
    return delay * (0.5 + rng.random() / 2)


class Notifications:
    def __init__(
        self,
        config: Notify,
        *,
        run_id: str,
        plan: str,
        secrets: Iterable[str],
        report: Callable[[Outcome], None],
        expand: Callable[[str], str] = lambda text: text,
        flush: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.run_id = run_id
        self.plan = plan
        self.report = report
        self.flush = flush
        self.channels: dict[str, Notifier] = {}
        broken: dict[str, str] = {}
        own: list[str] = []
        for name, notifier in config.channels.items():
            try:
                self.channels[name] = notifier.expanded(expand)
                own += self.channels[name].secrets()
            except ValueError as exc:  # an expanded value no longer fits the option
                broken[name] = f"options invalid after ${{VAR}} expansion: {exc}"
            except Exception as exc:
                # A notifier plugin's bug while preparing its channel: that channel's
                # deliveries fail (journalled), the run goes on (tests/notify/test_broken_sink).
                broken[name] = f"channel could not be prepared: {type(exc).__name__}: {exc}"
        self.broken = broken
        # The run's secrets, plus every channel's own (a webhook URL with its token).
        self.masker = Masker([*secrets, *own])
        self.rng = random.Random()
        self.pending: list[tuple[str, Message]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- from the runner ----------------------------------------------------------------------
    def observe(self, events: Iterable[tuple[Event, float]], state: Any) -> None:
        """Route what just happened; never raises (a bug here must not stop a rollout)."""
        queued = False
        for event, ts in events:
            if isinstance(event, NotificationSent):  # and NotificationFailed
                continue
            try:
                found = notices(event, state)
            except Exception:  # a malformed event: tell nobody rather than stop the run
                continue
            for notice in found:
                queued |= self._route(notice, ts)
        if queued:
            # Notifications follow the commit: nobody hears of what a crash could undo.
            self.flush()
            self._launch()

    def _route(self, notice: Notice, ts: float) -> bool:
        names = channels_for(self.config.routes, notice.event, notice.severity)
        if not names:
            return False
        message = self.message(notice, ts)
        self.pending.extend((name, message) for name in names)
        return True

    def message(self, notice: Notice, ts: float, *, test: bool = False) -> Message:
        base = self.config.link_base
        return Message(
            run_id=self.run_id,
            plan=self.plan,
            event=notice.event,
            severity=notice.severity,
            summary=self.masker.text(notice.summary),
            at=ts,
            details=self.masker.data(notice.details),
            link=f"{base.rstrip('/')}/runs/{self.run_id}" if base else None,
            test=test,
        )

    def start(self) -> None:
        """Called on the loop: send what was queued before it ran."""
        self._launch()

    def _launch(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not yet: start() sends them
        self.loop = loop
        pending, self.pending = self.pending, []
        for name, message in pending:
            task = loop.create_task(self._deliver_and_report(name, message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """Wait up to ``seconds`` for deliveries in flight; report the rest as failed."""
        self._launch()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=seconds)
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self.tasks, return_exceptions=True)

    # -- one delivery ---------------------------------------------------------------------------
    async def _deliver_and_report(self, name: str, message: Message) -> None:
        kind = self.config.channels[name].kind if name in self.config.channels else "?"
        try:
            outcome = await self.deliver(name, message)
        except asyncio.CancelledError:
            outcome = Outcome(name, kind, message.event, False, 0, error="shutdown")
            self._report(outcome)
            raise
        self._report(outcome)

    def _report(self, outcome: Outcome) -> None:
        try:
            self.report(outcome)
        except Exception:  # the journal refusing a notification must not reach the engine
            return

    async def deliver(self, name: str, message: Message) -> Outcome:
        """Send ``message`` to channel ``name`` with retries; an Outcome, never an exception
        (cancellation aside)."""
        notifier = self.channels.get(name)
        kind = self.config.channels[name].kind if name in self.config.channels else "?"
        if notifier is None:
            error = self.broken.get(name, f"no channel {name!r}")
            return Outcome(name, kind, message.event, False, 0, error=self.masker.text(error))
        attempts = 0
        error = ""
        status: int | None = None
        while attempts <= self.config.retries:
            if attempts:
                await asyncio.sleep(backoff_delay(self.config.backoff, attempts, self.rng))
            attempts += 1
            try:
                receipt: Receipt = await asyncio.wait_for(
                    notifier.send(message, self.config.timeout), self.config.timeout
                )
            except NotifierError as exc:
                error, status = exc.message, exc.status_code
                if not exc.retryable:
                    break
                continue
            except TimeoutError:
                error, status = f"no answer within {self.config.timeout:g}s", None
                continue
            except Exception as exc:  # a notifier's bug is one failed attempt, not a crash
                error, status = f"{type(exc).__name__}: {exc}", None
                continue
            return Outcome(
                name,
                kind,
                message.event,
                True,
                attempts,
                status_code=receipt.status_code,
                detail=self.masker.text(receipt.detail),
            )
        return Outcome(
            name,
            kind,
            message.event,
            False,
            attempts,
            status_code=status,
            error=self.masker.text(error),
        )


def probe_notice() -> Notice:
    """What `phasegate notify test` sends to every channel."""
    return Notice(
        "test",
        "info",
        "a test message from `phasegate notify test`: this channel works",
        {"sent_at": time.time()},
    )
