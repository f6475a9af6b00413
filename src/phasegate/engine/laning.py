"""A run's lane slot (issue 14 §5; docs/lanes.md): asked for before anything of the run
executes, waited for (status ``queued``) while the lane is full, held until the run ends.

The decision is the store's (``JournalStore.lane_request``: one atomic grant over every
process sharing the store, ``lanes.scheduler``); this module asks, journals what happened and
polls. A queued run keeps listening: an abort leaves the queue (and the run then rolls back
nothing), a signal interrupts it; the journal says which (``run.dequeued``). A run that stops
without finishing (paused, interrupted) gives its slot back: it is not running, and holding a
slot while a human thinks would starve the lane; resumed, it asks again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from phasegate.errors import StoreError
from phasegate.lanes.model import Ticket
from phasegate.run.events import LaneGranted, RunDequeued, RunQueued

if TYPE_CHECKING:
    from phasegate.engine.runner import Runner

# Seconds between polls of a queued run (``ask_every`` says which polls ask for grants).
POLL = 0.25


async def admit(runner: Runner) -> None:
    """Return once the run holds a slot of its plan's lane (or has none), or once it must stop
    waiting: interrupted (``runner.interrupted``) or aborted (the request is left for the
    runner's loop, which rolls back)."""
    lane = runner.ctx.plan.lane
    state = runner.state
    if lane is None or state.mode != "forward" or state.status != "running":
        return
    if state.failure is not None:  # about to roll back (an abort): a rollback never waits
        return
    store = runner.store
    ticket = store.lane_request(state.run_id, lane)
    if ticket.granted:
        held = state.lane
        if held is None or held.get("granted_at") != ticket.granted_at:
            assert ticket.granted_at is not None
            runner.journal(LaneGranted(lane=lane, granted_at=ticket.granted_at), durable=True)
        return
    cap, position = _where(runner, ticket)
    runner.journal(RunQueued(lane=lane, cap=cap, position=position), durable=True)
    shown = "no cap" if cap is None else f"cap {cap}"
    runner.ctx.console.note(
        f"⏳ queued for lane {lane} ({shown}, position {position}): the run starts when a "
        "slot frees",
        "cyan",
    )
    asked = time.monotonic()
    while True:
        if runner.interrupted is not None:
            _leave(runner, lane, ticket, "interrupted")
            return
        if _abort_requested(runner):
            _leave(runner, lane, ticket, "abort")
            return
        runner.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runner.wake.wait(), POLL)
        place = store.lane_place(state.run_id)
        now = time.monotonic()
        if place is None or (not place[0].granted and now - asked >= ask_every(place[1])):
            # No ticket (dropped as stale while this process was stopped): queue again.
            ticket, asked = store.lane_request(state.run_id, lane), now
        else:
            ticket = place[0]
        if ticket.granted_at is not None:
            waited = max(ticket.granted_at - ticket.enqueued_at, 0.0)
            runner.journal(
                RunDequeued(
                    lane=lane, how="granted", granted_at=ticket.granted_at, waited=round(waited, 3)
                ),
                durable=True,
            )
            runner.ctx.console.note(f"▶ lane {lane}: slot granted after {waited:.1f}s", "cyan")
            return


def ask_every(position: int) -> float:
    """How often a queued run asks for grants (a write transaction), by its place in its
    lane's queue: the head at every poll (a freed slot is granted within ``POLL``, for every
    lane, since a grant decides for all); the next two every 2 s, in case the head's owner
    died (its stale ticket is dropped when it would be granted); the rest every minute, a
    safety net. A thousand queued runs then cost a thousand indexed reads per poll and a few
    writes, not a thousand writes."""
    if position <= 1:
        return 0.0
    return 2.0 if position <= 3 else 60.0


def give_back(runner: Runner) -> None:
    """The run stops without finishing (paused, interrupted): its slot is freed now, not when
    a grant finds it stale. Best effort: a journal that cannot be written is reported
    elsewhere, and the stale ticket is reclaimed anyway."""
    if runner.ctx.plan.lane is None or runner.state.terminal:
        return
    with contextlib.suppress(StoreError):
        runner.store.lane_release(runner.state.run_id)


def _where(runner: Runner, ticket: Ticket) -> tuple[int | None, int]:
    """The lane's cap and the run's place in its queue (1: next), for the journal and the
    console."""
    store = runner.store
    cap = next((lane.cap for lane in store.lanes() if lane.name == ticket.lane), None)
    ahead = [
        t
        for t in store.lane_tickets()
        if t.lane == ticket.lane
        and not t.granted
        and (t.enqueued_at, t.run_id) < (ticket.enqueued_at, ticket.run_id)
    ]
    return cap, len(ahead) + 1


def _abort_requested(runner: Runner) -> bool:
    # Read, not consumed: the runner's loop takes the request and rolls back.
    return any(kind == "abort" for _, kind, _ in runner.store.take_requests(runner.state.run_id))


def _leave(runner: Runner, lane: str, ticket: Ticket, how: str) -> None:
    runner.store.lane_release(runner.state.run_id)
    waited = round(max(time.time() - ticket.enqueued_at, 0.0), 3)
    if how == "abort":
        runner.journal(RunDequeued(lane=lane, how=how, waited=waited), durable=True)
    # Interrupted: ``run.interrupted`` (halt.drain) ends the queued status itself.
