"""How long a live run still needs: the estimate conditioned on what its journal says.

Finished phases take no more time. A running phase has already taken ``elapsed`` seconds of
work (human waits removed), so its draws are conditioned on exceeding that (rejection: a
draw shorter than what was already spent is drawn again, up to ``TRIES`` times); a phase
whose model rarely runs that long is *overdue* and counts 0 more seconds when no draw
exceeds it. A running phase without a model of its own is the sum of its steps: finished
steps 0, the running one conditioned likewise, the rest drawn whole. Pending phases are
drawn whole and start when what they need finishes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from phasegate.estimate.estimator import Estimate, EstimateDict, Models, from_draws
from phasegate.estimate.history import (
    ITEM_FINISHED,
    ITEM_STARTED,
    PHASE_FINISHED,
    PHASE_STARTED,
    RUN_FINISHED,
    RUN_STARTED,
    WaitFold,
    overlap,
)
from phasegate.estimate.model import Predictive
from phasegate.estimate.montecarlo import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    Batch,
    Draw,
    PhaseDraw,
    quantile,
    simulate,
    summed,
)
from phasegate.store.records import StoredEvent

TRIES = 200
HOPELESS = 0.999  # a unit that has run longer than this quantile of its model counts 0 more
_NOT_DONE = {"awaiting_approval", "retrying"}


class RemainingDict(TypedDict):
    remaining: EstimateDict
    elapsed: float
    waited: float
    phases: dict[str, str]
    overdue: list[str]


@dataclass(frozen=True)
class Remaining:
    estimate: Estimate
    elapsed: float  # work time so far, waits removed
    waited: float
    phases: dict[str, str] = field(default_factory=dict)  # done | running | pending
    overdue: list[str] = field(default_factory=list)
    p90: float = 0.0  # the 90th percentile of the remaining time (budget runway's cautious basis)

    def as_dict(self) -> RemainingDict:
        return {
            "remaining": self.estimate.as_dict(),
            "elapsed": round(self.elapsed, 3),
            "waited": round(self.waited, 3),
            "phases": self.phases,
            "overdue": self.overdue,
        }


def _beyond(model: Predictive, spent: float) -> PhaseDraw:
    if model.quantile(HOPELESS) < spent:
        # Rejection would almost never find a longer draw: each of the samples would spend
        # all TRIES on it (a live projection of an overdue step costs seconds) to count 0.
        return _nothing
    draw = model.draw

    def rest(rng: random.Random) -> float:
        for _ in range(TRIES):
            total = draw(rng)
            if total > spent:
                return total - spent
        return 0.0

    return rest


def _nothing(rng: random.Random) -> float:
    return 0.0


@dataclass
class Timeline:
    """What ``remaining`` reads of a run's journal, as a fold: when the run, each phase and
    each step started, what finished, the human waits. Folded in order, any number of events
    at a time: a live view keeps one per run with its cursor and folds only the events
    appended since (server/livefold.py), the same as folding the whole journal at once."""

    seq: int = 0  # the last event folded (0: none)
    run_since: float | None = None
    finished_at: float | None = None  # the earliest ``run.finished``
    phase_since: dict[str, float] = field(default_factory=dict)
    phases_done: set[str] = field(default_factory=set)
    step_since: dict[str, float] = field(default_factory=dict)
    steps_done: set[str] = field(default_factory=set)
    waits: WaitFold = field(default_factory=WaitFold)

    def fold(self, events: Sequence[StoredEvent]) -> Timeline:
        self.waits.fold(events)
        phase_since, phases_done = self.phase_since, self.phases_done
        step_since, steps_done = self.step_since, self.steps_done
        for event in events:
            kind, data = event.type, event.data
            if kind == RUN_STARTED and self.run_since is None:
                self.run_since = event.ts
            elif kind == RUN_FINISHED:
                if self.finished_at is None or event.ts < self.finished_at:
                    self.finished_at = event.ts
            elif kind == PHASE_STARTED:
                phase_since.setdefault(data["phase"], event.ts)
            elif kind == PHASE_FINISHED:
                phases_done.add(data["phase"])
            elif kind == ITEM_STARTED and data.get("kind") == "step":
                step_since.setdefault(data["key"], event.ts)
            elif (
                kind == ITEM_FINISHED
                and data.get("kind") == "step"
                and data.get("status") not in _NOT_DONE
            ):
                steps_done.add(data["key"])
        if events:
            self.seq = events[-1].seq
        return self

    def copy(self) -> Timeline:
        """An independent copy: a projection on another thread reads it while the owner folds
        on (engine/budgets.py). Copies the containers, not the values (all immutable)."""
        return Timeline(
            seq=self.seq,
            run_since=self.run_since,
            finished_at=self.finished_at,
            phase_since=dict(self.phase_since),
            phases_done=set(self.phases_done),
            step_since=dict(self.step_since),
            steps_done=set(self.steps_done),
            waits=self.waits.copy(),
        )


def remaining(
    models: Models,
    events: Sequence[StoredEvent],
    now: float,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> Remaining:
    return remaining_of(models, Timeline().fold(events), now, samples=samples, seed=seed)


def remaining_of(
    models: Models,
    timeline: Timeline,
    now: float,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> Remaining:
    """``remaining`` from a journal already folded (``Timeline``); reads it, never changes it."""
    waits = timeline.waits.intervals(until=now)
    finished = timeline.finished_at is not None
    if timeline.finished_at is not None:
        now = min(now, timeline.finished_at)  # a finished run's elapsed time ends with it
    phase_since, phases_done = timeline.phase_since, timeline.phases_done
    step_since, steps_done = timeline.step_since, timeline.steps_done
    run_since = timeline.run_since

    def work(since: float) -> float:
        return max(0.0, now - since - overlap(since, now, waits))

    states: dict[str, str] = {}
    draws: dict[str, Draw] = {}
    overdue: list[str] = []
    for phase_id, unit in models.phases.items():
        if finished or phase_id in phases_done:
            states[phase_id] = "done"
            continue
        if phase_id not in phase_since:
            states[phase_id] = "pending"
            draws[phase_id] = models.phase_draw(phase_id)
            continue
        states[phase_id] = "running"
        spent = work(phase_since[phase_id])
        if unit.own:
            if unit.predictive().quantile(0.95) < spent:
                overdue.append(phase_id)
            draws[phase_id] = _beyond(unit.predictive(), spent)
            continue
        parts: list[Draw] = []
        for step in models.steps[phase_id]:
            if step.key in steps_done:
                continue
            if step.key in step_since:
                step_spent = work(step_since[step.key])
                if step.predictive().quantile(0.95) < step_spent:
                    overdue.append(step.key)
                parts.append(_beyond(step.predictive(), step_spent))
            else:
                parts.append(Batch(step.predictive().draws))
        draws[phase_id] = summed(parts)
    values = simulate(list(models.phases), models.needs, draws, samples=samples, seed=seed)
    elapsed = work(run_since) if run_since is not None else 0.0
    return Remaining(
        estimate=from_draws("remaining", "run", values, 0, "phases"),
        elapsed=elapsed,
        waited=sum(end - start for start, end in waits),
        phases=states,
        overdue=overdue,
        p90=quantile(values, 0.9),
    )
