"""The runner: executes what ``decide`` asks for, journals what happened, asks again.

One asyncio loop per process. Every journal write happens on the loop's thread, so the run has
exactly one writer. Steps journal their start durably before their command is spawned.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from phasegate.analysis.run import AnalysisRun
from phasegate.engine import (
    canary,
    halt,
    laning,
    postmonitor,
    program,
    traffic,
    waiting,
    work,
)
from phasegate.engine.budgets import BudgetWatch
from phasegate.engine.commands import (
    CheckMonitor,
    Command,
    CutShort,
    EndWait,
    Finish,
    FinishPhase,
    FinishRollback,
    Pause,
    RecordEvent,
    Refuse,
    ReleaseHolds,
    Response,
    RunItem,
    Say,
    SkipStep,
    StartMonitoring,
    StartPhase,
    StartRollback,
    StopCommands,
    Wait,
)
from phasegate.engine.context import RunContext
from phasegate.engine.decide import decide
from phasegate.engine.holds import Holds
from phasegate.engine.monitors import Monitors
from phasegate.engine.phase_p90 import PhaseP90s, ended_phases
from phasegate.engine.policing import PhasePolicies
from phasegate.engine.progress import progress_line
from phasegate.engine.respond import respond
from phasegate.engine.runway import HOLD
from phasegate.engine.targets import Targets
from phasegate.engine.tasks import cancel_all
from phasegate.engine.triggers import TriggerWatch
from phasegate.errors import OwnershipLost, StoreError
from phasegate.executors.stopping import StopRequest
from phasegate.masking import Masker
from phasegate.notify.dispatch import Notifications
from phasegate.run.events import (
    Event,
    ItemFinished,
    ItemSpawned,
    MonitorFinished,
    MonitorSpawned,
    PhaseFinished,
    PhaseStarted,
    RollbackEntry,
    RollbackFinished,
    RollbackStarted,
    RunFinished,
    RunPaused,
    TriggerState,
    Warning,
    from_stored,
)
from phasegate.run.inputs import MalformedRequest, StoredRequest, from_request
from phasegate.run.state import EXECUTING, RunState
from phasegate.store.contract import JournalStore
from phasegate.store.journal import Journal
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.engine.fleet_hosts import Fleet

REQUEST_POLL = 0.2
# How long recorded events may wait for the transaction that commits them. A durable event
# (a step about to start) commits everything at once; an urgent one (a pause, a trip, a
# command's failure) waits at most URGENT_FLUSH, the others (observations, phase transitions,
# a supervised command's success, which resume reads from the supervisor's record if a crash
# lost it) at most DEFERRED_FLUSH: the next step's start usually carries them.
URGENT_FLUSH = 0.005
DEFERRED_FLUSH = 0.25
_DEFERRABLE_ITEMS = ("gate", "verify")


def _deferrable(event: Event) -> bool:
    """Observations and phase transitions: lost in a crash, resume re-derives them. And where
    a command runs (``item.spawned``): it rides with the step's outcome or the next start, and
    a resume finds a supervisor whose pid was lost by its command line (engine/orphans.py)."""
    if type(event) in (PhaseStarted, PhaseFinished, TriggerState, ItemSpawned):
        return True  # (exactly TriggerState: a trip is urgent)
    if isinstance(event, MonitorSpawned | MonitorFinished):
        return True  # observation; a lost one is settled by ``Monitors.end_stale``
    return isinstance(event, ItemFinished) and event.kind in _DEFERRABLE_ITEMS


def _masked(event: Event, masker: Masker) -> Event:
    """The event as the journal keeps it: no secret value in any string of it."""
    data = event.to_json()
    masked = masker.data(data)
    return event if masked == data else from_stored(event.type, masked)


def _notifications(runner: Runner) -> Notifications | None:
    """The run's notification dispatcher, when the plan has a ``notify:`` block."""
    config = runner.ctx.plan.notify
    if config is None or not config.channels:
        return None

    ctx = runner.ctx
    return Notifications(
        config,
        run_id=ctx.run_id,
        plan=ctx.plan.name,
        secrets=ctx.variables.secret_values(),
        report=lambda outcome: runner.journal(outcome.as_event()),
        expand=ctx.variables.expand,
        flush=runner.writer.flush,
    )


class Runner:
    def __init__(self, ctx: RunContext, store: JournalStore, state: RunState) -> None:
        self.ctx = ctx
        self.store = store
        self.state = state
        self.writer = Journal(store, state)
        self.targets = Targets(ctx.plan)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        # One per task that runs a plan's command: how phasegate ends it (abort, a signal).
        self.stops: dict[str, StopRequest] = {}
        self.wake = asyncio.Event()
        self.phase_slots = laning.PhaseSlots()  # phases' lane slots (engine/laning.py)
        self.parked = False  # queued, and this process stopped waiting (engine/laning.py)
        self.triggers: TriggerWatch | None = None
        self.holds = Holds()
        self.analyses: dict[str, AnalysisRun] = {}  # running, by item key
        self.stopping: dict[str, str] = {}  # analyses asked to stop, and why
        self.background = canary.Background(self)
        self.monitors = Monitors(self)
        self.interrupted: int | None = None  # the signal that stops the run
        self._last_poll = 0.0
        self.budgets = BudgetWatch(self)
        # Each phase's p90 for the change-window fit (engine/windowing.py), learned again when
        # the plan's history changed, looked at each time a phase of this run ends.
        self.p90s = PhaseP90s.of_store(store, ctx.plan, state.run_id, ended_phases(state))
        self.p90 = self.p90s.values
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flush_deadline = 0.0
        self.notifications = _notifications(self)
        self.policies = PhasePolicies(ctx.policies) if ctx.policies else None
        self.fleet: Fleet | None = None  # the run's SSH connections (engine/fleet_hosts.py)
        self._group: asyncio.Future[None] | None = None  # journal_durably's next commit
        self._woken: asyncio.Future[Any] | None = None  # the loop's waiter for ``wake``

    # -- journal ---------------------------------------------------------------------------
    def journal(self, event: Event, *, durable: bool = False, recorded: bool = False) -> None:
        self.journal_many([event], durable=durable, recorded=recorded)

    def flush(self) -> None:
        """Commit what is recorded (engine/port.py ``WatchPort``; the writer stays the
        runner's own)."""
        self.writer.flush()

    async def journal_durably(self, event: Event) -> None:
        """``journal(event, durable=True)`` for many tasks at once (a fleet's hosts starting
        their steps together): every event recorded in one pass of the event loop is committed
        by one transaction, one fsync, before any of those tasks goes on. Until then the rows
        are marked to be synced, so whichever flush writes them first fsyncs them."""
        self.journal_many([event], durable=False, sync=True)
        group = self._group
        if group is None:
            group = self._group = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._commit_group, group)
        await asyncio.shield(group)

    def _commit_group(self, group: asyncio.Future[None]) -> None:
        self._group = None
        try:
            self.writer.flush(durable=True)
        except Exception as exc:  # the tasks waiting re-raise it (a journal that cannot write)
            group.set_exception(exc)
            return
        group.set_result(None)

    def journal_many(
        self, events: list[Event], *, durable: bool, sync: bool = False, recorded: bool = False
    ) -> None:
        """``recorded``: the events are a supervised command's outcome (RunPort.journal)."""
        for event in events:
            # Stored journals may carry fields a newer phasegate added; the engine may not.
            if event.model_extra:
                raise AssertionError(
                    f"{event.type} has undeclared fields {sorted(event.model_extra)}"
                )
        now = time.time()
        masker = self.ctx.masker
        masked = [(_masked(event, masker) if masker.active else event, now) for event in events]
        urgent = not recorded and not all(_deferrable(event) for event in events)
        self.writer.record(masked, durable=durable, urgent=urgent, sync=sync)
        if self.notifications is not None:
            self.notifications.observe(masked, self.state)

    # -- main loop -------------------------------------------------------------------------
    async def drive(self) -> str:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, halt.on_signal, self, sig)
        if self.notifications is not None:
            self.notifications.start()
        self.ctx.console.live(lambda: progress_line(self))  # a terminal only
        try:
            await self.monitors.end_stale()
            # A lane slot first (docs/lanes.md): nothing of the run executes while it is queued.
            # A run resumed from parked ends its wait first (still queued: engine/laning.py).
            if await laning.unpark(self):
                await laning.admit(self)
                await laning.readmit_phases(self)  # a resumed run's started phases' slots
            if self.parked:  # queued: the server resumes it once its slot is granted
                self.writer.flush()
                return self.state.status
            if self.state.status == "queued":  # interrupted while queued
                await self._loop()
                return self.state.status
            if not await traffic.restore(self):
                self._pause_for_traffic()
                return self.state.status
            if self.state.mode == "forward" and self.state.status == "running":
                self.triggers = TriggerWatch(self)
                self.triggers.start()
                if self.state.failure is None:
                    for phase_id in list(self.state.running):
                        self.background.start(phase_id)
                        self.monitors.start(phase_id)
            await self._loop()
            await self.monitors.halt("engine exit")
            self.writer.flush()
            if self.notifications is not None:
                # A run's last notifications (rollback finished) go out, within a bound.
                await self.notifications.drain()
                self.writer.flush()
        except OwnershipLost as exc:
            halt.vanish(self, exc)
        finally:
            if self.state.status not in EXECUTING:
                laning.give_back(self)
            self.ctx.console.close()
            if self._flush_timer is not None:
                self._flush_timer.cancel()
            if self._woken is not None:
                self._woken.cancel()
            if self.triggers is not None:
                await self.triggers.stop()
            await self.background.halt()
            await self.monitors.halt("engine exit")
            await cancel_all(self.tasks.values())
            if self.fleet is not None:
                await self.fleet.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        return self.state.status

    def _pause_for_traffic(self) -> None:
        message = (
            "the router could not restore the journal's last weights; fix the router, then "
            "`phasegate resume` (or `phasegate rollback`)"
        )
        self.journal(RunPaused(reason="traffic", items=(), message=message))
        self.writer.flush()
        self.ctx.console.note(f"⏸ paused: {message}", "cyan")

    async def _loop(self) -> None:
        while True:
            self.ctx.console.tick()
            if self.interrupted is not None:
                self.monitors.stop_all(signal.Signals(self.interrupted).name)
                await halt.drain(self)
                return
            self._poll_requests()
            self.budgets.check()
            if self.state.failure is not None:
                self._cancel_gates()
                self._cut_short("the run is failing")
            if self.ctx.plan.windows is not None:  # the only reader of the p90s (decide's fit)
                self.p90 = self.p90s.at(ended_phases(self.state))
            commands = decide(
                self.ctx.plan, self.state, self.tasks.keys(), self.ctx.clock(), self.p90
            )
            if any(isinstance(c, Pause) for c in commands) and self._poll_requests(force=True):
                # An approval or rejection delivered since the last poll decides what the
                # run waits for: act on it instead of pausing and leaving it pending.
                continue
            immediate = False
            self.phase_slots.held.clear()
            for command in commands:
                if isinstance(command, Pause) or (
                    isinstance(command, Finish) and command.status == "succeeded"
                ):
                    self.budgets.check(final=True)
                if isinstance(command, Finish | FinishRollback | Pause):
                    # The engine is about to exit: its monitors end first, so the journal
                    # shows them ended before the run's end.
                    ending = "run paused" if isinstance(command, Pause) else "run end"
                    await self.monitors.halt(ending)
                immediate |= self._dispatch(command)
            if self.state.status not in EXECUTING:
                return
            if immediate:
                continue
            if self.phase_slots.held and not self.tasks:
                # Nothing else to do but phases whose lane is full: the run is queued.
                await laning.queue_phase(self, self.phase_slots.held[0])
                if self.parked:
                    return  # its place is kept; the server resumes it once the slot is granted
                # A decision that ended the wait (engine/laning.py) is acted on now, before
                # the held phase could queue the run again.
                self._poll_requests(force=True)
                continue
            if not commands and postmonitor.park(self):
                return  # monitoring, the next check far off: the server resumes it then
            self._flush_before_waiting()
            woken = self._woken
            if woken is None or woken.done():
                # One waiter for ``wake`` until it fires, not a new task per turn of the loop.
                self.wake.clear()
                woken = self._woken = asyncio.ensure_future(self.wake.wait())
            waiters: list[asyncio.Future[Any]] = [*self.tasks.values(), woken]
            await asyncio.wait(waiters, timeout=REQUEST_POLL, return_when=asyncio.FIRST_COMPLETED)
            self.reap()

    def idle(self) -> bool:
        """Nothing of the run in flight or watching here (engine/port.py ``LanePort``)."""
        watching = self.triggers is not None and any(not t.done() for t in self.triggers.tasks)
        busy = self.tasks or self.analyses or self.background.tasks or self.monitors.watching
        return not watching and not busy

    def reap(self) -> None:
        for key, task in list(self.tasks.items()):
            if task.done():
                del self.tasks[key]
                self.stops.pop(key, None)
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]

    def _flush_before_waiting(self) -> None:
        if not self.writer.pending:
            return
        delay = URGENT_FLUSH if self.writer.urgent else DEFERRED_FLUSH
        if self._flush_timer is not None and self._flush_deadline <= time.monotonic() + delay:
            return
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        self._flush_deadline = time.monotonic() + delay
        self._flush_timer = asyncio.get_running_loop().call_later(delay, self._deferred_flush)

    def _deferred_flush(self) -> None:
        self._flush_timer = None
        try:
            self.writer.flush()
        except StoreError:
            # A timer callback has nobody to raise to (asyncio would print a traceback): the
            # journal keeps the failure and raises it at the run's next write, which stops
            # the run with it (exit 130, resumable; store/journal.py).
            return

    def _dispatch(self, command: Command) -> bool:
        """Handle one command; True when it changed state synchronously."""
        console = self.ctx.console
        match command:
            case StartPhase(phase=phase):
                if not laning.phase_slot(self, phase):
                    return False  # its lane is full: asked again at the next turn
                if self.policies is not None and not self.policies.admit(self, phase):
                    return True  # held: ``decide`` pauses for its PHASE/policy item
                self.journal(PhaseStarted(phase=phase))
                console.phase(phase, "running")
                self.background.start(phase)
                self.monitors.start(phase)
                return True
            case SkipStep(key=key, phase=phase):
                work.skip_promoted(self, key, phase)
                return True
            case FinishPhase(phase=phase, status=status):
                self.journal(PhaseFinished(phase=phase, status=status))
                laning.phase_done(self, phase)
                console.phase(phase, status)
                self.monitors.stop_phase(phase, f"phase {status}")
                return True
            case RunItem(work=kind, key=key):
                # Each takes the smallest port the runner implements (engine/port.py).
                runs: dict[str, Callable[[Runner, str], Coroutine[Any, Any, None]]] = {
                    "run_step": program.run_step,
                    "run_gate": work.run_gate,
                    "run_undo": program.run_undo,
                    "run_verify": work.run_verify,
                    "finish_analysis": lambda _, k: self.background.conclude(k),
                    "promote_full": traffic.promote_full,
                    "run_fleet": _run_fleet,
                }
                coro = runs[kind](self, key)
                if halt.runs_command(self, kind, key):
                    self.stops[key] = StopRequest()
                self.tasks[key] = asyncio.ensure_future(coro)
                return False
            case StartRollback():
                return self._start_rollback(command)
            case FinishRollback(status=status):
                self._finish_rollback(status)
                return True
            case Pause(reason=reason, items=items):
                message = self._pause_message(reason, list(items))
                self.journal_many(
                    [*self.halt_triggers(), RunPaused(reason=reason, items=items, message=message)],
                    durable=False,
                )
                console.note(f"⏸ paused ({reason}): {message}", "cyan")
                return True
            case Finish(status=status):
                self.journal_many(
                    [*self.halt_triggers(), *self.background.settle(), RunFinished(status=status)],
                    durable=True,
                )
                return True
            case Wait():
                waiting.begin(self, command)
                return True
            case EndWait():
                waiting.end(self, command)
                return True
            case StartMonitoring():
                postmonitor.begin(self)
                return True
            case CheckMonitor():
                postmonitor.dispatch(self, command)
                return False
        raise AssertionError(f"unknown command {command!r}")  # pragma: no cover

    def _cut_short(self, why: str) -> None:
        """Fast rollback: nothing waits for a bake, a pause or an analysis to end."""
        self.holds.release(why)
        canary.stop_analyses(self, why)

    def halt_triggers(self) -> list[TriggerState]:
        return self.triggers.halt() if self.triggers is not None else []

    def _pause_message(self, reason: str, items: list[str]) -> str:
        if reason == "approval":
            budgets = [k for k in items if k.startswith(HOLD)]
            if budgets:  # the projection and the bound, as the hold said them
                said = [str(self.state.items[k].data.get("message") or k) for k in budgets]
                return "; ".join(said)
            return f"waiting for approval of {', '.join(items)}"
        if reason == "unknown":
            return (
                f"outcome unknown after a crash: {', '.join(items)}; choose "
                "`resume --retry-step K`, `--skip-step K`, `--mark-done K` or `rollback`"
            )
        if reason == "failure" and self.state.failure:
            return f"{self.state.failure.get('message')} (on_failure: pause)"
        return reason

    def _cancel_gates(self) -> None:
        # Gates (and a monitoring evaluation) only observe; once the run has failed, their
        # verdict no longer matters.
        for key, task in self.tasks.items():
            if "/gate:" in key or key == postmonitor.TASK_KEY:
                task.cancel()

    def _poll_requests(self, *, force: bool = False) -> bool:
        """Act on operator requests (at most every REQUEST_POLL unless ``force``); True when
        there were any. Each is read as a typed input and ``respond`` (pure, engine/
        respond.py) says what to do about it; a request is consumed once acted on."""
        now = time.monotonic()
        if not force and now - self._last_poll < REQUEST_POLL:
            return False
        self._last_poll = now
        requests = self.store.take_requests(self.state.run_id)
        self.act_on(requests)
        return bool(requests)

    def act_on(self, requests: list[StoredRequest]) -> None:
        """Act on ``requests`` (as ``take_requests`` returns them), in order, each consumed
        once what it did is in the journal, durably: an approval's entry is not deferred, so
        a crash between the two delivers the request again (the state counts an approver
        once) instead of losing it; and a run waiting in a lane queue, which flushes nothing
        until it stops waiting, shows the approval when it is given (engine/laning.py)."""
        for request_id, kind, data in requests:
            try:
                given = from_request(kind, data, request_id)
            except MalformedRequest as exc:
                self.ctx.console.note(f"request #{request_id} ignored: {exc}", "yellow")
            else:
                self.carry_out(respond(self.state, given, self.tasks.keys(), self.stops.keys()))
                if self.writer.pending:
                    self.writer.flush(durable=True)
            self.store.consume_request(request_id)

    def carry_out(self, responses: list[Response]) -> None:
        """Do what ``respond`` asked, in its order (a durable journal write before the
        commands it ends)."""
        console = self.ctx.console
        for response in responses:
            match response:
                case RecordEvent(event=event, durable=durable):
                    self.journal(event, durable=durable)
                case StopCommands(reason=reason, grace=grace):
                    halt.stop_commands(self, reason, wait=0.0, grace=grace)
                case CutShort(why=why):
                    self._cut_short(why)
                case ReleaseHolds(by=by):
                    ended = self.holds.release(f"promoted by {by}")
                    console.note(
                        f"⏩ {by} ended the current hold ({plural(len(ended), 'hold')} ended)",
                        "cyan",
                    )
                case Refuse(why=why):
                    console.note(why, "yellow")
                case Say(text=text, color=color):
                    console.note(text, color)

    # -- rollback ----------------------------------------------------------------------------
    def _start_rollback(self, command: StartRollback) -> bool:
        if self.state.status == "monitoring" and not postmonitor.lock_back(self):
            return True  # paused: a newer run holds the lock the rollback needs
        self.monitors.stop_all("rollback")  # observation of the forward path ends with it
        order = command.order
        failure = self.state.failure
        reason = (failure["message"] or failure["reason"]) if failure is not None else ""
        reason = reason or "requested"
        self.journal_many(
            [
                *self.halt_triggers(),
                RollbackStarted(
                    order=tuple(RollbackEntry.model_validate(entry) for entry in order),
                    reason=reason,
                    budget=self._rollback_budget(),
                ),
            ],
            durable=True,
        )
        self.ctx.console.note(
            f"↩ rolling back ({plural(len(order), 'action')}): {reason}", "yellow"
        )
        return True

    def _rollback_budget(self) -> float | None:
        """The failing phase's rollback budget (seed 001's per-stage guarantees), else the
        plan's."""
        failure = self.state.failure
        item = self.state.items.get(str(failure["item"])) if failure is not None else None
        if item is not None and item.phase is not None:
            phase_budget = self.ctx.plan.phase(item.phase).rollback_budget
            if phase_budget is not None:
                return phase_budget
        return self.ctx.plan.budget.rollback

    def _finish_rollback(self, status: str) -> None:
        assert self.state.rollback is not None
        duration = time.time() - float(self.state.rollback["started_at"])
        raw_budget = self.state.rollback.get("budget")
        budget = float(raw_budget) if raw_budget is not None else None
        overrun = budget is not None and duration > budget
        events: list[Event] = [
            RollbackFinished(
                status=status, duration=round(duration, 6), budget=budget, overrun=overrun
            )
        ]
        if overrun:
            events.append(
                Warning(
                    item=None,
                    message=f"rollback took {duration:.1f}s, over its budget of {budget:g}s",
                    budget="rollback",
                )
            )
        events.extend(self.background.settle())
        events.append(RunFinished(status=status))
        self.journal_many(events, durable=True)
        within = f" (budget {budget:g}s{', OVERRUN' if overrun else ''})" if budget else ""
        color = "green" if status == "rolled_back" else "red"
        self.ctx.console.note(f"↩ rollback {status} in {duration:.2f}s{within}", color)

    # -- tasks -----------------------------------------------------------------------------


async def _run_fleet(runner: Runner, key: str) -> None:
    """A fleet phase's work (engine/fleet.py), imported by the first run that has one: the
    fleet's modules (SSH, inventories, batching) cost a plain run's start-up ~30 ms."""
    from phasegate.engine import fleet

    await fleet.run_fleet(runner, key)
