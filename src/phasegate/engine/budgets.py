"""The runner's budget watch (issue 13 §5): projects the run's budgets while it works and
journals what ``engine/runway.py`` decides.

- the duration budget: work time so far (human waits excluded: pauses, approvals, windows)
  plus the estimated remaining time of the phases and steps left (``estimate.remaining``,
  the plan's history admitted by its calibration rule, else its ``estimate:`` hints);
- each resource budget: the steps' outputs so far plus the estimate of what the steps left
  will report (``estimate.resources``).

A runway threshold passed is a ``budget.runway`` event (routed by ``notify:``) and a line on
the terminal at once; an overrun a ``warning`` and a line; a projection over the pause bound
holds the run: the item ``budget:NAME`` awaits an approval (nothing new starts; what runs
finishes; then the run pauses with the projection in its message). An approval marks the item
passed and the run continues past that bound; a ``reject`` fails it and the run rolls back.

Projecting costs a Monte Carlo (and folding what the journal gained since the last one), so it
runs at most every ``PERIOD`` seconds, in a worker thread (the loop never waits for it),
draws fewer samples when it costs more than ``TARGET_COST``, and takes at most
1/``COST_SHARE`` of a core (a 5,000-step plan projects less often than a 5-step one) unless
that would leave more than ``MAX_PERIOD`` seconds between projections (and then at most a
quarter).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from phasegate.engine import runway
from phasegate.engine.phase_p90 import ended_phases
from phasegate.engine.runway import (
    DURATION,
    Crossing,
    HoldForApproval,
    Overrun,
    Projection,
    finished_outputs,
)
from phasegate.run.events import BudgetRunway, Event, ItemFinished, Warning
from phasegate.run.state import ITEM_DONE
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.engine.port import WatchPort
    from phasegate.estimate import Models, RunDurations
    from phasegate.estimate.remaining import Timeline
    from phasegate.estimate.resources import ResourceModel

# The estimator (phasegate.estimate: ~30 ms of imports) is imported by the first run that
# has a budget to watch, in the methods below, never by a plain run's start-up.

PERIOD = 0.2  # seconds between projections, at least
COST_SHARE = 20  # ...and at least this many times what the last projection cost
MAX_PERIOD = 2.0  # ...but never less often than this
SAMPLES = 2_000  # Monte Carlo draws per projection at most (the CLI's estimates use 10,000)
MIN_SAMPLES = 200  # ...and at least
TARGET_COST = 0.02  # seconds a projection should take: more, and it draws fewer samples
HISTORY = 1_000  # the newest finished runs of the plan the projection learns from
ADMISSION = "at admission:"  # the admission warning's first words (said once per run)


class BudgetWatch:
    def __init__(self, runner: WatchPort) -> None:
        self.runner = runner
        self.budget = runner.ctx.plan.budget
        self.watched = self.budget.watched
        self._next = 0.0
        self._durations: Models | None = None
        self._resources: dict[str, ResourceModel] | None = None
        self._final = False
        self._seen = -1  # finished items in the state when the resources were last judged
        self._samples = SAMPLES
        self._pending: asyncio.Future[tuple[Projection, float]] | None = None
        self._admitted = False
        self._history: list[RunDurations] | None = None  # what the models were fitted on
        self._stamp: frozenset[str] | None = None  # the run's ended phases at the last look
        self._timeline: Timeline | None = None  # the journal folded as far as read

    def check(self, *, final: bool = False) -> None:
        """Called at every turn of the engine's loop; ``final``: once more as the run is about
        to succeed (or pause), whatever the throttle says (a last step's output may overrun a
        resource budget), and without holding (nothing is left to hold now)."""
        state = self.runner.state
        if state.mode != "forward" or state.status != "running" or state.failure is not None:
            return
        if self.budget.duration is None and not self.budget.resources:
            return
        if not self._admitted:
            self._admitted = True
            self._admission()
        self._settle_approvals()
        self._final = final
        if self.relearn(ended_phases(state)):
            self._seen = -1  # resources judged again with the new models
        if self.budget.resources:
            # Resources change only when a step finishes, and projecting them reads the state
            # (not the journal): judged at once, not on the duration's throttle.
            if self._resources is None:
                self._fit()  # then again when the history changes (relearn)
            # Keyed on the finished items, not all of them: a step that finishes adds no
            # item, and its output must be judged before ``decide`` starts the next step (a
            # pause bound it passes holds that step back).
            done = sum(1 for item in state.items.values() if item.status in ITEM_DONE)
            if done != self._seen or final:
                self._seen = done
                for name, spec in self.budget.resources.items():
                    self._judge(self._resource(name, spec.output or name, spec.unit))
        if self.budget.duration is None:
            return
        pending = self._pending
        if pending is not None and pending.done():
            self._pending = None
            if not pending.cancelled() and pending.exception() is None:
                self._landed(*pending.result())
        now = time.monotonic()
        if (now < self._next or self._pending is not None) and not final:
            return
        if not self.watched and not self._overrun_possible():
            return
        if self.watched and self._durations is None:
            self._fit()  # not a projection's cost; again when the history changes
        if self._final:
            self.runner.flush()  # the last step's outcome may still wait for its commit
        timeline = self._journal()
        if final:  # the run stops now: this one answer is worth waiting for
            self._landed(*self._timed(timeline))
            return
        # A projection is a Monte Carlo over every unit left: milliseconds for a few phases,
        # seconds for thousands of steps. Computed beside the loop (pure over the timeline
        # copied here), judged on the loop's thread, so the engine never stalls on it.
        self._pending = asyncio.get_running_loop().run_in_executor(None, self._timed, timeline)
        self._next = now + PERIOD

    def _journal(self) -> Timeline:
        """The run's journal so far, folded (``estimate.remaining.Timeline``): read and folded
        once, then only what was appended since (the store's cursor read), as the server's
        live views do (server/livefold.py). A run watched for hours has thousands of events:
        reading and folding them all again made every projection cost more as the run went
        on. A copy: the projection reads it on another thread while this one folds on."""
        from phasegate.estimate.remaining import Timeline

        if self._timeline is None:
            self._timeline = Timeline()
        timeline = self._timeline
        fresh = self.runner.store.events_after(self.runner.state.run_id, timeline.seq)
        if fresh:
            timeline.fold(fresh)
        return timeline.copy()

    def _timed(self, timeline: Timeline) -> tuple[Projection, float]:
        """The projection and its cost: the CPU time of the thread that computed it (what
        "a share of a core" means), not wall time, which on a loaded machine measures the other
        tenants and spaced projections out by seconds: the runway was judged late."""
        began = time.thread_time()
        projection = self._duration(timeline)
        return projection, time.thread_time() - began

    def _landed(self, projection: Projection, cost: float) -> None:
        # Dearer than wanted: fewer draws next time, and less often (at most 1/COST_SHARE of
        # a core, but at least every MAX_PERIOD seconds while that stays under a quarter).
        if cost > TARGET_COST:
            self._samples = max(MIN_SAMPLES, self._samples // 2)
        elif cost < TARGET_COST / 4:
            self._samples = min(SAMPLES, self._samples * 2)
        wait = min(COST_SHARE * cost, max(MAX_PERIOD, 4 * cost))
        self._next = time.monotonic() + max(PERIOD, wait)
        state = self.runner.state
        if state.mode == "forward" and state.status == "running" and state.failure is None:
            self._judge(projection)

    # -- admission ---------------------------------------------------------------------------
    def _admission(self) -> None:
        """At run start (no phase started yet, said once per run): the whole run's projection
        from the estimates against the duration budget, before anything is done. A p90 already
        over the budget is a warning (journalled, printed); the runway thresholds and the pause
        bound are judged as later in the run, so a projection over ``pause_above`` holds the
        run for an approval before its first phase. A plan whose estimates rest on nothing (no
        admitted history, no hints) is not judged here."""
        state = self.runner.state
        limit = self.budget.duration
        if limit is None or any(p.start_seq is not None for p in state.phases.values()):
            return
        if any(w["message"].startswith(ADMISSION) for w in state.warnings):
            return  # a resume before the first phase: said already
        if self._durations is None:
            self._fit()
        assert self._durations is not None
        if not any(self._durations.informed(p) for p in self._durations.phases):
            return  # no history, no hint: the vague prior is no reason to warn or hold
        from phasegate.estimate.montecarlo import quantile

        draws = self._durations.run_draws(samples=SAMPLES)
        projection = Projection(DURATION, limit, 0.0, quantile(draws, 0.5), quantile(draws, 0.9))
        if projection.p90 > limit:
            message = (
                f"{ADMISSION} the run's projected p90 is over its duration budget: "
                f"{projection.words('p90')}"
            )
            self.runner.journal(Warning(item=None, message=message), durable=True)
            self.runner.ctx.console.note(f"⚠ {message}", "yellow")
        if self.watched:
            self._judge(projection)

    # -- projection --------------------------------------------------------------------------
    def _overrun_possible(self) -> bool:
        """A plan with only ``duration``: work time is at most wall time, so nothing needs
        projecting before wall time passes the budget."""
        started, limit = self.runner.state.started_at, self.budget.duration
        said = (
            DURATION in self.runner.state.budgets
            and "overrun" in self.runner.state.budgets[DURATION]
        )
        return bool(limit and started and not said and time.time() - started > limit)

    def _read(self) -> list[RunDurations]:
        from phasegate.estimate import read_history

        runner = self.runner
        return read_history(
            runner.store, runner.ctx.plan.name, limit=HISTORY, exclude=runner.state.run_id
        )

    def relearn(self, stamp: frozenset[str]) -> bool:
        """Fit again when a phase of the run ended (``stamp`` moved) and the plan's history
        changed since the last fit (another run finished): a long run projects with fresh
        estimates, as the window fit does (engine/phase_p90.py). True when it fitted again."""
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        if self._history is None:  # nothing fitted yet: the first projection fits
            return False
        history = self._read()
        if history == self._history:
            return False
        self._fit(history)
        return True

    def _fit(self, history: list[RunDurations] | None = None) -> None:
        from phasegate.estimate import fit
        from phasegate.estimate.resources import fit_resource

        plan = self.runner.ctx.plan
        if history is None:
            history = self._read()
        self._history = history
        # Replaced whole: a projection running beside the loop keeps the models it started with.
        self._durations = fit(plan, history).models
        self._resources = {
            name: fit_resource(plan, history, spec.output or name, spec.estimate)
            for name, spec in self.budget.resources.items()
        }

    def _duration(self, timeline: Timeline) -> Projection:
        from phasegate.estimate import Models
        from phasegate.estimate.remaining import remaining_of

        assert self.budget.duration is not None
        if not self.watched:  # only the overrun: work time, no projection
            left = remaining_of(Models(self.runner.ctx.plan), timeline, time.time(), samples=1)
            return Projection(DURATION, self.budget.duration, left.elapsed, 0.0, 0.0)
        if self._durations is None:
            self._fit()
        assert self._durations is not None
        left = remaining_of(self._durations, timeline, time.time(), samples=self._samples)
        return Projection(
            DURATION,
            self.budget.duration,
            left.elapsed,
            left.elapsed + left.estimate.p50,
            left.elapsed + left.p90,
        )

    def _resource(self, name: str, output: str, unit: str | None) -> Projection:
        from phasegate.estimate.resources import project

        assert self._resources is not None
        finished = finished_outputs(self.runner.state)
        use = project(self._resources[name], finished, samples=SAMPLES)
        limit = self.budget.resources[name].limit
        return Projection(name, limit, use.used, use.p50, use.p90, unit or output)

    # -- decisions -----------------------------------------------------------------------------
    def _judge(self, projection: Projection) -> None:
        runner = self.runner
        state = runner.state
        known = state.budgets.get(projection.budget, {})
        key = runway.hold_key(projection.budget)
        verdicts = runway.judge(
            self.budget,
            projection,
            crossed=known.get("crossed", ()),
            held=key in state.items or self._final,
            overrun_said="overrun" in known,
        )
        for verdict in verdicts:
            match verdict:
                case Crossing():
                    self._crossed(verdict)
                case Overrun():
                    message = verdict.message()
                    runner.journal(Warning(item=None, message=message, budget=projection.budget))
                    # Said once, when it happens: the run goes on (the pause bound, when the
                    # plan has one, is what stops it).
                    runner.ctx.console.note(f"⚠ {message}; the run continues", "yellow")
                case HoldForApproval():
                    self._hold(verdict, key)

    def _crossed(self, crossing: Crossing) -> None:
        p = crossing.projection
        event = BudgetRunway(
            budget=p.budget,
            threshold=crossing.threshold,
            index=crossing.index,
            severity=crossing.severity,
            limit=p.limit,
            used=round(p.used, 3),
            projected=round(p.total(crossing.basis), 3),
            projected_p50=round(p.p50, 3),
            projected_p90=round(p.p90, 3),
            runway=round(crossing.runway, 3),
            basis=crossing.basis,
            unit=p.unit,
        )
        self.runner.journal(event, durable=crossing.severity == "critical")
        color = "red" if crossing.severity == "critical" else "yellow"
        self.runner.ctx.console.note(f"⚠ {crossing.severity}: {crossing.message()}", color)

    def _hold(self, hold: HoldForApproval, key: str) -> None:
        runner = self.runner
        p = hold.projection
        message = hold.message()
        runner.journal(
            ItemFinished(
                key=key,
                kind="gate",
                phase=None,
                name=f"{p.label} budget: projected within {hold.bound * 100:g}%",
                status="awaiting_approval",
                message=message,
                observed={"projected": round(p.total(hold.basis), 3), "limit": p.limit},
                expectation=f"projected {hold.basis} <= {hold.bound * 100:g}% of the budget",
                started_at=time.time(),
            ),
            durable=True,
        )
        running = len(runner.tasks)
        drain = f"; {plural(running, 'item')} running finish first" if running else ""
        runner.ctx.console.note(
            f"⏸ {message} (`phasegate approve {runner.state.run_id}`){drain}", "cyan"
        )

    def _settle_approvals(self) -> None:
        """A held budget someone approved: passed, and the run goes on past that bound."""
        runner = self.runner
        events: list[Event] = []
        for name in runway.budget_names(self.budget):
            key = runway.hold_key(name)
            item = runner.state.items.get(key)
            if item is None or item.status != "pending":
                continue
            who = ", ".join(runner.state.approvals.get(key) or ["an approver"])
            events.append(
                ItemFinished(
                    key=key,
                    kind="gate",
                    phase=None,
                    name=item.name,
                    status="succeeded",
                    message=f"approved by {who}: the run continues past the pause bound",
                )
            )
            runner.ctx.console.note(f"▶ {name} budget: approved by {who}; the run continues")
        if events:
            runner.journal_many(events, durable=True)
