"""What an effect module sees of a run: small ports, not the whole ``Runner``.

The runner (engine/runner.py) drives the loop and implements every port; the effect modules
(work, canary, traffic, triggers, halt, operator, orphans, policing, rollback_choice,
progress, monitors, waiting, budgets, postmonitor, fleet, fleet_gates, fleet_hosts,
fleet_projection, laning, program) take the smallest port that covers what they do, so none
of them imports the runner (an import-linter contract in pyproject.toml keeps it so) and each
can be driven in a test by a small fake. Every member is read-only here except
``interrupted``, which the signal handler sets, ``phase_slots``, which a run giving its lane
slots back replaces, and ``fleet``, which a fleet's first host command opens
(engine/fleet_hosts.py ``fleet_of``)::

    RunView       ctx, state                      progress line, read-only views
    └ RunPort     + store, targets, wake,         journal writes, operator requests,
      │             journal, journal_many         monitors, change-window waits, a
      │                                           fleet's projection
      ├ WatchPort   + tasks, flush, halt_triggers budgets, post-rollout monitoring
      └ CommandPort + stops                       spawning a plan's commands (work, traffic)
        ├ CanaryPort  + holds, analyses, stopping canary holds and analyses (work calls them)
        ├ FleetPort   + fleet, journal_durably    a fleet phase's hosts (fleet, fleet_gates,
        │                                         fleet_hosts); UndoPort: both, for work's
        │                                         undo of a step on its host
        ├ HaltPort    + interrupted, reap         aborts, signals, ownership loss
        │               (and WatchPort's members)
        └ AnswerPort  + tasks, carry_out          an operator's input to a run nobody
                                                  else executes (operator.answer)
    └ LanePort    + phase_slots, interrupted      a run's and its phases' lane slots (laning)

A program phase's child (program.py) runs and undoes its step as ``work`` does: it takes
``UndoPort``.

Journal writes go through ``journal``/``journal_many`` only: the runner masks secrets,
records the events (applied to ``state`` at once) and commits them (store/journal.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from phasegate.analysis.run import AnalysisRun
    from phasegate.engine.commands import Response
    from phasegate.engine.context import RunContext
    from phasegate.engine.fleet_hosts import Fleet
    from phasegate.engine.holds import Holds
    from phasegate.engine.laning import PhaseSlots
    from phasegate.engine.targets import Targets
    from phasegate.executors.stopping import StopRequest
    from phasegate.run.events import Event, TriggerState
    from phasegate.run.inputs import StoredRequest
    from phasegate.run.state import RunState
    from phasegate.store.contract import JournalStore


class RunView(Protocol):
    """The run's context (plan, variables, console, clock) and its state, to read."""

    @property
    def ctx(self) -> RunContext: ...

    @property
    def state(self) -> RunState: ...


class RunPort(RunView, Protocol):
    """A run's journal and what an effect module reads beside it."""

    @property
    def store(self) -> JournalStore: ...

    @property
    def targets(self) -> Targets: ...

    @property
    def wake(self) -> asyncio.Event:
        """Set it to make the runner ask ``decide`` again now (an outcome arrived)."""
        ...

    def journal(self, event: Event, *, durable: bool = False, recorded: bool = False) -> None:
        """Record one event: applied to ``state`` at once; ``durable``: committed (fsync)
        before this returns; ``recorded``: the outcome of a supervised command, which resume
        reads from the supervisor's record if a crash lost it: it may wait for the next
        commit (a quarter second at most) instead of being urgent."""
        ...

    def journal_many(self, events: list[Event], *, durable: bool, sync: bool = False) -> None:
        """Record several events in one go (committed in one transaction when durable)."""
        ...


class WatchPort(RunPort, Protocol):
    """Watching a run beside its work (budget projections, post-rollout monitoring): the
    tasks in flight, a commit of what is recorded, the triggers to stop watching."""

    @property
    def tasks(self) -> dict[str, asyncio.Task[None]]:
        """The run's tasks in flight, by item key (a watch may add its own)."""
        ...

    def flush(self) -> None:
        """Commit what is recorded and not yet committed (not fsynced): a reader of the
        store then sees it."""
        ...

    def halt_triggers(self) -> list[TriggerState]:
        """Stop watching the triggers; their last states, to journal."""
        ...


class CommandPort(RunPort, Protocol):
    """Spawning a plan's commands: how phasegate asks each running one to end."""

    @property
    def stops(self) -> dict[str, StopRequest]: ...


class CanaryPort(CommandPort, Protocol):
    """Canary holds and analyses in progress (pause, bake, analysis steps)."""

    @property
    def holds(self) -> Holds: ...

    @property
    def analyses(self) -> dict[str, AnalysisRun]:
        """Analyses running now, by item key."""
        ...

    @property
    def stopping(self) -> dict[str, str]:
        """Analyses asked to stop, and why."""
        ...


class FleetPort(CommandPort, Protocol):
    """A fleet phase's hosts: the run's SSH connections and the start of many hosts' steps."""

    fleet: Fleet | None  # the run's connections, opened by the first host command

    async def journal_durably(self, event: Event) -> None:
        """``journal(event, durable=True)`` for many tasks at once (hosts starting their steps
        together): the events of one pass of the event loop share one commit."""
        ...


class UndoPort(CanaryPort, FleetPort, Protocol):
    """Undoing a step where it ran: locally, behind the canary's traffic, or on its host."""


class HaltPort(CommandPort, WatchPort, Protocol):
    """Ending a run's work: aborts, signals, a lost ownership."""

    interrupted: int | None  # the signal that stops the run (set by the signal handler)

    def reap(self) -> None:
        """Forget the tasks that ended (re-raising an engine error one of them raised)."""
        ...


class AnswerPort(CommandPort, Protocol):
    """Answering an operator's input (engine/operator.py ``answer``): what is in flight, and
    the runner's own ``carry_out`` of what ``respond`` (engine/respond.py) said."""

    @property
    def tasks(self) -> dict[str, asyncio.Task[None]]: ...

    def carry_out(self, responses: list[Response]) -> None:
        """Do what ``respond`` asked, in its order."""
        ...


class LanePort(RunPort, Protocol):
    """A run's places in its lanes (engine/laning.py): the slots its phases hold or wait for,
    and the signal that stops it waiting for one."""

    phase_slots: PhaseSlots  # replaced when the run gives its slots back (``give_back``)
    parked: bool  # the run stopped waiting here: its process ends, the server resumes it

    def idle(self) -> bool:
        """Nothing of the run is in flight or watching in this process: no task, no trigger,
        no analysis (what lets a queued run park: engine/laning.py ``parkable``)."""
        ...

    def flush(self) -> None:
        """Commit what is recorded."""
        ...

    def act_on(self, requests: list[StoredRequest]) -> None:
        """Act on operator requests (as ``take_requests`` returns them), each consumed once
        what it did is in the journal (engine/runner.py)."""
        ...

    @property
    def interrupted(self) -> int | None: ...
