"""Ending a running command on phasegate's word (an abort, a signal to phasegate), politely
first.

Kubernetes' pod termination is the model: SIGTERM to the whole process group, then SIGKILL
when the grace period (``terminationGracePeriodSeconds``) runs out, and the group is swept
with SIGKILL afterwards so no child outlives it. A stop may also *wait* before its SIGTERM:
that is Temporal's graceful worker shutdown, where running activities get time to finish on
their own. A later, stricter request (a second Ctrl-C, ``abort --force``) only ever brings the
deadlines closer.

``supervise`` also enforces a command's own ``timeout`` the same way, so one loop decides
which signal goes when.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import time
from dataclasses import dataclass, field

# A command past its timeout gets this long between SIGTERM and SIGKILL.
KILL_GRACE = 2.0


@dataclass
class StopRequest:
    """Asks the command of one item to end. Created by the runner for each item that runs a
    command; ``request`` may come before, during or between the item's attempts."""

    reason: str | None = None  # "abort", "SIGTERM", "SIGINT": why phasegate ends it
    term_at: float = math.inf  # time.monotonic() at which SIGTERM goes to the group
    kill_at: float = math.inf  # ... and SIGKILL
    # Signals sent because of this request, with when (time.monotonic()), for the journal.
    sent: list[tuple[str, float]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Futures of ``supervise`` calls waiting for the next ``request`` (``next_change``).
    _waiters: set[asyncio.Future[None]] = field(default_factory=set)

    # The command was never spawned: the stop came before it (run_action).
    prevented: bool = False

    @property
    def requested(self) -> bool:
        return self.reason is not None

    @property
    def ended_it(self) -> bool:
        """phasegate ended the command (a signal sent, or never started): a failure now is
        phasegate's doing. Within a grace period nothing was sent yet, and a command that
        fails by itself has its real outcome."""
        return bool(self.sent) or self.prevented

    def request(self, reason: str, *, wait: float, grace: float) -> None:
        """SIGTERM after ``wait`` seconds, SIGKILL ``grace`` seconds after that."""
        now = time.monotonic()
        if self.reason is None:
            self.reason = reason
        self.term_at = min(self.term_at, now + wait)
        self.kill_at = min(self.kill_at, now + wait + grace)
        self._changed.set()
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def next_change(self) -> asyncio.Future[None]:
        """A future done at the next ``request``: what ``supervise`` waits on beside the
        command's exit. A plain future rather than a task running ``changed()``: a step's
        command is waited for without creating, starting and cancelling a task (two turns of
        the event loop per command; docs/performance.md). Drop it with ``forget``."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        return waiter

    def forget(self, waiter: asyncio.Future[None]) -> None:
        self._waiters.discard(waiter)

    async def changed(self) -> None:
        await self._changed.wait()
        self._changed.clear()

    async def pause(self, delay: float) -> bool:
        """Sleep ``delay`` seconds (a retry's back-off), ending early when a stop is asked
        for; True when it was."""
        deadline = time.monotonic() + delay
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            change = asyncio.ensure_future(self.changed())
            try:
                await asyncio.wait({change}, timeout=left)
            finally:
                change.cancel()
        return True

    def describe(self) -> str:
        """What phasegate did, for the step's message: "SIGTERM, then SIGKILL 10.0s later"."""
        names = [name for name, _ in self.sent]
        if self.prevented:
            return "before its command started"
        if not names:
            return "no signal needed: no command was running"
        if names == ["SIGTERM", "SIGKILL"]:
            return f"SIGTERM, then SIGKILL {self.sent[1][1] - self.sent[0][1]:.1f}s later"
        return ", then ".join(names)


async def supervise(
    pgid: int,
    exited: asyncio.Future[None],
    *,
    timeout: float | None,
    stop: StopRequest | None,
) -> bool:
    """Wait until the command exits, ending its process group at its timeout or when
    ``stop`` asks. Returns True when the timeout ended it."""
    timeout_at = time.monotonic() + timeout if timeout is not None else math.inf
    termed = timed_out = False
    sent: list[tuple[str, float]] = []
    while not exited.done():
        now = time.monotonic()
        term_at, kill_at = timeout_at, timeout_at + KILL_GRACE
        stopping = stop is not None and stop.requested
        if stop is not None and stopping:
            term_at, kill_at = min(term_at, stop.term_at), min(kill_at, stop.kill_at)
        if now >= kill_at:
            sent.append(("SIGKILL", now))
            _signal(pgid, signal.SIGKILL)
            break
        if now >= term_at and not termed:
            termed = True
            timed_out = now >= timeout_at and not (stop is not None and stop.term_at <= now)
            sent.append(("SIGTERM", now))
            _signal(pgid, signal.SIGTERM)
        waiters: set[asyncio.Future[None]] = {exited}
        change = stop.next_change() if stop is not None else None
        if change is not None:
            waiters.add(change)
        deadline = kill_at if termed else term_at
        try:
            await asyncio.wait(
                waiters,
                timeout=None if math.isinf(deadline) else max(deadline - now, 0.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            if change is not None and stop is not None:
                stop.forget(change)
    if sent:
        # Children that ignored SIGTERM, or outlived the leader, go too.
        if sent[-1][0] != "SIGKILL":
            _signal(pgid, signal.SIGKILL)
        await asyncio.wait({exited}, timeout=KILL_GRACE)
        if stop is not None and stop.requested and not timed_out:
            stop.sent = sent
    return timed_out


def _signal(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
