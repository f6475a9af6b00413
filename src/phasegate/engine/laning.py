"""A run's lane slots (issue 14 §5; docs/lanes.md): the plan's ``lane:``, asked for before
anything of the run executes and held until the run ends; a phase's ``lane:``, asked for
before the phase starts and held until it ends (succeeded, failed, stopped by a failure or an
abort). The run waits for a slot with status ``queued`` and the reason ("lane deploy full
(2/2)").

The decision is the store's (``JournalStore.lane_request``: one atomic grant over every
process sharing the store, ``lanes.scheduler``); this module asks, journals what happened and
polls. A queued run keeps listening: an abort leaves the queue (and the run then rolls back
what it did), a signal interrupts it, a trigger tripping while a phase waits ends the wait
(``how: failure``); approvals are recorded as they come, and a decision that lets the rest
of the run go on steps out of a phase's queue, keeping its place (``how: decision``); the
journal says which (``run.dequeued``). A run that stops without
finishing (paused, interrupted) gives its slots back: it is not running, and holding a slot
while a human thinks would starve the lane; resumed, it asks again, for its lane and for each
phase it had started (``readmit_phases``), before anything executes.

A phase waiting for its slot while other phases of the run still work holds only itself: the
run stays ``running`` and asks again at each turn of the runner's loop. Once nothing else is
left to do, the run is ``queued`` for that phase (``queue_phase``).

Under a server, a run queued longer than ``RunContext.park_queued`` seconds **parks**
(``parkable``): its process stops, the run stays ``queued`` with its ticket (its place, and
once granted its slot: store/lanes.py), owned by nobody, and the server resumes it once no
ticket of it is queued any more (server/workers.py ``resume_queued``), so a queued run does
not hold one of ``serve --workers N``. Resumed, it is still ``queued`` (run/state.py) and
``unpark`` ends its wait: ``run.dequeued`` once its ticket is granted, as in its process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from phasegate.errors import StoreError
from phasegate.lanes.model import Ticket
from phasegate.plan.model import Plan
from phasegate.run.events import LaneGranted, RunDequeued, RunQueued

if TYPE_CHECKING:
    from phasegate.engine.port import LanePort
    from phasegate.run.inputs import StoredRequest

# Seconds between polls of a queued run (``ask_every`` says which polls ask for grants).
POLL = 0.25


@dataclass
class PhaseSlots:
    """The runner's memory of its phases' slots: when each held phase last asked for a grant
    (a write transaction, throttled by ``ask_every``), and the phases whose grant is
    journalled."""

    asked: dict[str, float] = field(default_factory=dict)
    announced: set[str] = field(default_factory=set)
    held: list[str] = field(default_factory=list)  # phases held at this turn of the loop
    # Each phase's lane, indexed once: asked at every phase's start and end, a scan of the
    # plan's phases each time made a long chain quadratic (bench/engine_ab.py).
    lanes: dict[str, str | None] | None = None


def _phase_lane(runner: LanePort, phase: str) -> str | None:
    slots = runner.phase_slots
    if slots.lanes is None:
        slots.lanes = {p.id: p.lane for p in runner.ctx.plan.phases}
    return slots.lanes.get(phase)


def uses_lanes(plan: Plan) -> bool:
    return plan.lane is not None or any(p.lane is not None for p in plan.phases)


def priority(runner: LanePort) -> int:
    """The run's priority in its lanes' queues: ``run --priority``, else the plan's."""
    given = runner.ctx.priority
    return runner.ctx.plan.priority if given is None else given


async def admit(runner: LanePort) -> None:
    """Return once the run holds a slot of its plan's lane (or has none), or once it must stop
    waiting: interrupted (``runner.interrupted``) or aborted (the request is left for the
    runner's loop, which rolls back)."""
    lane = runner.ctx.plan.lane
    state = runner.state
    if lane is None or state.mode != "forward" or state.status != "running":
        return
    if state.failure is not None:  # about to roll back (an abort): a rollback never waits
        return
    ticket = runner.store.lane_request(state.run_id, lane, priority=priority(runner))
    if ticket.granted:
        held = state.lane
        if held is None or held.get("granted_at") != ticket.granted_at:
            assert ticket.granted_at is not None
            runner.journal(LaneGranted(lane=lane, granted_at=ticket.granted_at), durable=True)
        return
    await _wait(runner, lane, "", ticket)


async def unpark(runner: LanePort) -> bool:
    """A run resumed from parked is still ``queued`` (run/state.py): its wait ends here, with
    ``run.dequeued`` once its ticket is granted (the server resumes it then), or it waits
    again in this process and may park again. True when the run goes on (it was not parked,
    or it holds its slot now); False when the wait ended otherwise (parked again,
    interrupted, aborted: the runner's loop acts on the abort)."""
    state = runner.state
    queue = state.queue
    if state.status != "queued" or queue is None:
        return True
    lane, phase = str(queue["lane"]), str(queue.get("phase") or "")
    place = runner.store.lane_place(state.run_id, phase=phase)
    ticket = None if place is None else place[0]
    if ticket is None or not ticket.granted:
        # Gone (dropped while nobody owned the run): queue again; else a grant pass.
        ticket = runner.store.lane_request(
            state.run_id, lane, phase=phase, priority=priority(runner)
        )
    await _wait(runner, lane, phase, ticket, journalled=True)
    return runner.state.status == "running" and not runner.parked and _holds(runner, phase)


def _holds(runner: LanePort, phase: str) -> bool:
    if phase:
        return phase in runner.phase_slots.announced
    held = runner.state.lane
    return held is not None and held.get("granted_at") is not None


async def readmit_phases(runner: LanePort) -> None:
    """A resumed run's started phases hold their slots again before anything executes (a
    paused or interrupted run gave them back; a killed one's were reclaimed): each asks, and
    the run waits (``queued``) for any lane that is full."""
    state = runner.state
    if state.mode != "forward" or state.status != "running" or state.failure is not None:
        return
    for phase in list(state.running):
        lane = _phase_lane(runner, phase)
        if lane is None:
            continue
        if not await queue_phase(runner, phase) or runner.state.status != "running":
            return


def phase_slot(runner: LanePort, phase: str) -> bool:
    """Whether ``phase`` may start now: it has no lane, or it holds a slot of its lane (the
    grant journalled once). Otherwise it is held (``PhaseSlots.held``) and asks again at the
    next turn: a read of its place, a grant transaction when its place says so."""
    lane = _phase_lane(runner, phase)
    if lane is None:
        return True
    ticket = _ask(runner, lane, phase)
    if not ticket.granted:
        runner.phase_slots.held.append(phase)
        return False
    _announce(runner, lane, phase, ticket)
    return True


async def queue_phase(runner: LanePort, phase: str) -> bool:
    """Nothing else of the run is left to do but ``phase``, whose lane is full: the run is
    ``queued`` until a slot is granted (True) or it must stop waiting (False: interrupted,
    aborted, a trigger tripped)."""
    lane = _phase_lane(runner, phase)
    if lane is None:
        return True
    ticket = _ask(runner, lane, phase, force=True)
    if ticket.granted:
        _announce(runner, lane, phase, ticket)
        return True
    await _wait(runner, lane, phase, ticket)
    return phase in runner.phase_slots.announced


def phase_done(runner: LanePort, phase: str) -> None:
    """The phase ended (succeeded, failed, stopped): its slot frees now, durably, so the next
    grant of its lane may go to another run."""
    if _phase_lane(runner, phase) is None:
        return
    runner.phase_slots.announced.discard(phase)
    runner.phase_slots.asked.pop(phase, None)
    runner.store.lane_release(runner.state.run_id, phase=phase)


def _ask(runner: LanePort, lane: str, phase: str, *, force: bool = False) -> Ticket:
    store = runner.store
    run_id = runner.state.run_id
    now = time.monotonic()
    asked = runner.phase_slots.asked.get(phase)
    if asked is not None and not force:
        place = store.lane_place(run_id, phase=phase)
        if place is not None and (place[0].granted or now - asked < ask_every(place[1])):
            return place[0]
    runner.phase_slots.asked[phase] = now
    return store.lane_request(run_id, lane, phase=phase, priority=priority(runner))


def _announce(runner: LanePort, lane: str, phase: str, ticket: Ticket) -> None:
    if phase in runner.phase_slots.announced:
        return
    assert ticket.granted_at is not None
    runner.phase_slots.announced.add(phase)
    runner.journal(LaneGranted(lane=lane, phase=phase, granted_at=ticket.granted_at), durable=True)


def _reason(runner: LanePort, lane: str) -> tuple[int | None, str]:
    """The lane's cap and why the run waits: ``lane deploy full (2/2)``."""
    cap = next((found.cap for found in runner.store.lanes() if found.name == lane), None)
    running = sum(1 for t in runner.store.lane_tickets() if t.lane == lane and t.granted)
    if cap is None:  # no cap of its own: the pool of all lanes is what is full
        return cap, f"lane {lane}: all lanes together are full"
    return cap, f"lane {lane} full ({running}/{cap})"


async def _wait(
    runner: LanePort, lane: str, phase: str, ticket: Ticket, *, journalled: bool = False
) -> None:
    """Queued (status ``queued``) until ``ticket`` is granted, journalled as ``run.dequeued``;
    or until the wait must end (interrupted, aborted, a trigger tripped, parked).
    ``journalled``: the run is ``queued`` already (resumed from parked: ``unpark``)."""
    state = runner.state
    store = runner.store
    what = f"phase {phase}" if phase else "the run"
    if not journalled:
        cap, reason = _reason(runner, lane)
        position = _position(runner, ticket)
        runner.journal(
            RunQueued(lane=lane, cap=cap, position=position, phase=phase or None, reason=reason),
            durable=True,
        )
        runner.ctx.console.note(
            f"⏳ queued: {reason}, position {position}: {what} starts when a slot frees", "cyan"
        )
    asked = since = time.monotonic()
    while True:
        if runner.interrupted is not None:
            _leave(runner, lane, phase, ticket, "interrupted")
            return
        requests = store.take_requests(state.run_id)
        if any(kind == "abort" for _, kind, _ in requests):
            # Read, not consumed: the runner's loop takes the request and rolls back.
            _leave(runner, lane, phase, ticket, "abort")
            return
        if state.failure is not None:  # a trigger tripped while a phase waited
            _leave(runner, lane, phase, ticket, "failure")
            return
        if requests and _decided(runner, phase, requests):
            _step_out(runner, lane, phase, ticket)
            return
        runner.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runner.wake.wait(), POLL)
        place = store.lane_place(state.run_id, phase=phase)
        now = time.monotonic()
        if place is None or (not place[0].granted and now - asked >= ask_every(place[1])):
            # No ticket (dropped as stale while this process was stopped): queue again.
            ticket = store.lane_request(state.run_id, lane, phase=phase, priority=priority(runner))
            asked = now
        else:
            ticket = place[0]
        if ticket.granted_at is not None:
            waited = max(ticket.granted_at - ticket.enqueued_at, 0.0)
            runner.journal(
                RunDequeued(
                    lane=lane,
                    how="granted",
                    granted_at=ticket.granted_at,
                    waited=round(waited, 3),
                    phase=phase or None,
                ),
                durable=True,
            )
            if phase:
                runner.phase_slots.announced.add(phase)
            runner.ctx.console.note(
                f"▶ lane {lane}: slot granted to {what} after {waited:.1f}s", "cyan"
            )
            return
        if _park_now(runner, phase, now - since):
            return


def _park_now(runner: LanePort, phase: str, waited: float) -> bool:
    """Park the queued run (``parkable``): its ticket stays, its process ends."""
    after = runner.ctx.park_queued
    if after is None or waited < after or not parkable(runner, phase):
        return False
    runner.parked = True
    runner.flush()
    runner.ctx.console.note(
        "⏸ queued: this worker stops until the slot is granted; the run keeps its place and "
        "the server resumes it then",
        "cyan",
    )
    return True


def parkable(runner: LanePort, phase: str) -> bool:
    """Whether a queued run may stop executing while it waits, as nothing of it needs a live
    process: waiting for its plan's lane (nothing has started) or for a started phase's slot
    on resume (nothing starts before the grant), or for a phase's slot with nothing else of
    the run in flight, watching (triggers, analyses) or waiting for a decision (an approval
    while queued for a phase steps out of the queue at once, which a parked run could not)."""
    if not phase or phase in runner.state.running:
        return True  # admit or readmit_phases: before anything of this process started
    if not runner.idle() or runner.state.running:
        return False
    return not _awaiting(runner)


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


def give_back(runner: LanePort) -> None:
    """The run stops without finishing (paused, interrupted): its slot is freed now, not when
    a grant finds it stale. Best effort: a journal that cannot be written is reported
    elsewhere, and the stale ticket is reclaimed anyway."""
    if not uses_lanes(runner.ctx.plan) or runner.state.terminal:
        return
    runner.phase_slots = PhaseSlots()
    with contextlib.suppress(StoreError):
        runner.store.lane_release(runner.state.run_id)


def _position(runner: LanePort, ticket: Ticket) -> int:
    """The ticket's place in its lane's queue (1: next), for the journal and the console."""
    place = runner.store.lane_place(ticket.run_id, phase=ticket.phase)
    return 1 if place is None else max(place[1], 1)


def _decided(runner: LanePort, phase: str, requests: list[StoredRequest]) -> bool:
    """Operator requests delivered while the run is queued (an abort is handled before).
    Approvals (and a plain promote or resume, which have nothing to end while the run waits)
    are acted on now, each once (``Runner.act_on`` consumes it): an approval is recorded when
    given, never left unread while the run waits. A reject or a full promote changes what the
    run does, which only a running run may (run/state.py): the run steps out of the queue for
    it, keeping its place (True). So does an approval that lets an item go on. Only a phase's
    wait steps out (the rest of the run may go on while a phase is held); a run waiting for its
    plan's lane, or for a started phase's slot on resume, must hold the slot before anything
    executes: what it cannot act on waits for the grant."""
    now = [r for r in requests if not _changes_course(r)]
    before = _awaiting(runner)
    if now:
        runner.act_on(now)
    if not phase or phase in runner.state.running:
        return False
    return bool(before - _awaiting(runner)) or len(now) < len(requests)


def _changes_course(request: StoredRequest) -> bool:
    _, kind, data = request
    return kind == "reject" or (kind == "promote" and bool(data.get("full")))


def _awaiting(runner: LanePort) -> set[str]:
    return {k for k, item in runner.state.items.items() if item.status == "awaiting_approval"}


def _step_out(runner: LanePort, lane: str, phase: str, ticket: Ticket) -> None:
    """The run leaves the queue for a decision (``how: decision``), status ``running``, its
    ticket kept: the phase is held again at the next turn of the runner's loop, with its
    place, and the run queues again once nothing else is left to do."""
    waited = round(max(time.time() - ticket.enqueued_at, 0.0), 3)
    runner.journal(RunDequeued(lane=lane, how="decision", waited=waited, phase=phase), durable=True)
    runner.ctx.console.note(
        f"▶ lane {lane}: phase {phase} keeps its place in the queue; the run acts on a decision",
        "cyan",
    )


def _leave(runner: LanePort, lane: str, phase: str, ticket: Ticket, how: str) -> None:
    runner.store.lane_release(runner.state.run_id, phase=phase)
    runner.phase_slots.asked.pop(phase, None)
    waited = round(max(time.time() - ticket.enqueued_at, 0.0), 3)
    if how != "interrupted":
        runner.journal(
            RunDequeued(lane=lane, how=how, waited=waited, phase=phase or None), durable=True
        )
    # Interrupted: ``run.interrupted`` (halt.drain) ends the queued status itself.
