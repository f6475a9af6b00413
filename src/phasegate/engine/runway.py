"""Budget runway decisions (issue 13 §5): given a budget, its projection and what the run
already said, what to say or do now. Pure: no clock, no journal (engine/budgets.py does those).

- **runway**: ``limit - projected total``, the projected total being what was used so far
  plus the estimate of what the rest needs (the budget's ``basis``, p50 or p90). Each
  threshold of ``runway:`` is passed at most once per run: a ``budget.runway`` event, a
  warning, critical for the last threshold. Several passed at once are said in order.
- **pause bound**: a projected total over ``pause_above × limit`` holds the run for an
  approval (the seed's "auto-pause if projected > 25 % over budget, unless approved by PM"),
  once per budget and run: after an approval the run goes on past the same bound.
- **overrun**: what was used is over the limit: said once, the run continues.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from phasegate.durations import format_duration
from phasegate.plan.budget import Budget, ResourceBudget
from phasegate.plan.model import Plan
from phasegate.run.events import BudgetRunway, ItemFinished
from phasegate.run.state import ITEM_DONE, RunState
from phasegate.store.records import StoredEvent

if TYPE_CHECKING:
    from phasegate.estimate import RunDurations

DURATION = "duration"
HOLD = "budget:"  # the item a pause bound holds the run with: ``budget:duration``


def hold_key(budget: str) -> str:
    return HOLD + budget


def budget_names(budget: Budget) -> list[str]:
    """The budgets a run watches: ``duration`` (when given) and each resource."""
    names = [DURATION] if budget.duration is not None else []
    return names + list(budget.resources)


def held(budget: Budget, state: RunState) -> list[str]:
    """The keys of the budgets holding the run for an approval now (``decide`` starts nothing
    new while there are any)."""
    if not budget.watched:
        return []
    out: list[str] = []
    for name in budget_names(budget):
        item = state.items.get(hold_key(name))
        if item is not None and item.status == "awaiting_approval":
            out.append(item.key)
    return out


@dataclass(frozen=True, slots=True)
class Projection:
    """One budget's numbers at one moment: used so far and the projected totals."""

    budget: str  # duration | a resource's name
    limit: float
    used: float
    p50: float  # used + the median of the rest
    p90: float  # used + the 90th percentile of the rest
    unit: str | None = None  # None: seconds

    def total(self, basis: str) -> float:
        return self.p90 if basis == "p90" else self.p50

    def amount(self, value: float) -> str:
        """A number of this budget as people read it: ``4m10s``, ``12,500 tokens``."""
        if self.budget == DURATION:
            return format_duration(max(value, 0.0)) if value >= 0 else "-" + format_duration(-value)
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        return f"{text} {self.unit}" if self.unit else text

    def words(self, basis: str) -> str:
        """``projected 7.8s (p50 7.8s, p90 8.4s) of a 6.0s budget, 1.8s used``."""
        total = self.total(basis)
        percent = 100.0 * total / self.limit if self.limit else 0.0
        used = "worked" if self.budget == DURATION else "used"
        return (
            f"projected {self.amount(total)} ({percent:.0f}% of the {self.amount(self.limit)} "
            f"{self.kind}budget; p50 {self.amount(self.p50)}, p90 {self.amount(self.p90)}), "
            f"{self.amount(self.used)} {used} so far"
        )

    @property
    def label(self) -> str:
        return "duration" if self.budget == DURATION else self.budget

    @property
    def kind(self) -> str:
        """``duration `` / ``gpu `` before "budget"; nothing when the unit says it already
        (``the 1,200 tokens budget``, not ``the 1,200 tokens tokens budget``)."""
        return "" if self.unit == self.label else self.label + " "


@dataclass(frozen=True, slots=True)
class Crossing:
    """A runway threshold passed now."""

    projection: Projection
    threshold: float
    index: int
    severity: str  # warning | critical
    basis: str

    @property
    def runway(self) -> float:
        return self.projection.limit - self.projection.total(self.basis)

    def message(self) -> str:
        p = self.projection
        return (
            f"budget runway ({p.label}): {p.amount(self.runway)} left after the projected work, "
            f"under the {p.amount(self.threshold)} threshold; {p.words(self.basis)}"
        )


@dataclass(frozen=True, slots=True)
class HoldForApproval:
    """The projected total is over the pause bound: the run holds until someone approves."""

    projection: Projection
    bound: float  # the ratio (1.25)
    basis: str

    def message(self) -> str:
        p = self.projection
        return (
            f"{p.label} budget: {p.words(self.basis)}; over the pause bound of "
            f"{self.bound * 100:g}% ({p.amount(self.bound * p.limit)}): approve to continue "
            "past it, or reject to roll back"
        )


@dataclass(frozen=True, slots=True)
class Overrun:
    projection: Projection

    def message(self) -> str:
        p = self.projection
        if p.budget == DURATION:
            return f"run exceeded its duration budget of {p.amount(p.limit)}"
        of = "" if p.unit == p.label else f" of {p.label}"
        return f"run used {p.amount(p.used)}{of}, over its budget of {p.amount(p.limit)}"


Verdict = Crossing | HoldForApproval | Overrun


def guard_of(budget: Budget, name: str) -> tuple[list[float], float | None, str]:
    """(runway thresholds, pause bound, basis) of the duration budget or a resource's."""
    spec: Budget | ResourceBudget = budget if name == DURATION else budget.resources[name]
    return list(spec.runway), spec.pause_above, spec.basis


def judge(
    budget: Budget,
    projection: Projection,
    *,
    crossed: Collection[float],
    held: bool,
    overrun_said: bool,
) -> list[Verdict]:
    """What passing time (or use) means now for one budget. ``crossed``: thresholds the run
    already passed; ``held``: the pause bound already held the run (approved or not);
    ``overrun_said``: the overrun was already said."""
    thresholds, bound, basis = guard_of(budget, projection.budget)
    out: list[Verdict] = []
    total = projection.total(basis)
    runway = projection.limit - total
    last = len(thresholds) - 1
    for index, threshold in enumerate(thresholds):  # largest first: warning before critical
        if runway < threshold and threshold not in crossed:
            severity = "critical" if index == last and last > 0 else "warning"
            out.append(Crossing(projection, threshold, index, severity, basis))
    if projection.used > projection.limit and not overrun_said:
        out.append(Overrun(projection))
    if bound is not None and not held and total > bound * projection.limit:
        out.append(HoldForApproval(projection, bound, basis))
    return out


@dataclass(frozen=True, slots=True)
class Runway:
    """The duration budget's runway as views show it (API ``…/estimate``, the dashboard's run
    page): the limit, work so far, the projected totals, what is left after them, the
    thresholds and which were passed, and the pause bound's hold (``awaiting_approval``,
    ``succeeded`` once approved, ``failed`` when rejected; None: never held)."""

    limit: float
    used: float
    p50: float
    p90: float
    basis: str
    thresholds: tuple[float, ...]
    passed: tuple[float, ...]
    pause_above: float | None
    hold: str | None

    @property
    def remaining(self) -> float:
        """The runway: the limit less the projected total (the budget's basis)."""
        return self.limit - (self.p90 if self.basis == "p90" else self.p50)

    def as_dict(self) -> dict[str, object]:
        return {
            "budget": self.limit,
            "used": round(self.used, 3),
            "projected_p50": round(self.p50, 3),
            "projected_p90": round(self.p90, 3),
            "basis": self.basis,
            "remaining": round(self.remaining, 3),
            "thresholds": list(self.thresholds),
            "passed": list(self.passed),
            "pause_above": self.pause_above,
            "hold": self.hold,
            "over": self.used > self.limit,
        }


def runway_of(
    budget: Budget,
    used: float,
    rest_p50: float,
    rest_p90: float,
    passed: Collection[float],
    hold: str | None,
) -> Runway | None:
    """The duration budget's runway given work so far and the remaining time's p50/p90 (None:
    the plan has no duration budget)."""
    if budget.duration is None:
        return None
    return Runway(
        limit=budget.duration,
        used=used,
        p50=used + rest_p50,
        p90=used + rest_p90,
        basis=budget.basis,
        thresholds=tuple(budget.runway),
        passed=tuple(passed),
        pause_above=budget.pause_above,
        hold=hold,
    )


def journalled(
    events: Iterable[StoredEvent], budget: str = DURATION
) -> tuple[list[float], str | None]:
    """(the runway thresholds of ``budget`` the run passed, the pause bound's hold status), as
    the journal says them."""
    return RunwayMarks().fold(events).of(budget)


@dataclass
class RunwayMarks:
    """``journalled`` for every budget at once, as a fold: events are folded in order, any
    number at a time (a live view keeps one and folds only what was appended since)."""

    passed: dict[str, list[float]] = field(default_factory=dict)  # budget -> thresholds
    holds: dict[str, str] = field(default_factory=dict)  # hold item key -> its last status

    def fold(self, events: Iterable[StoredEvent]) -> RunwayMarks:
        runway_type, finished_type = BudgetRunway.type, ItemFinished.type
        for event in events:
            if event.type == runway_type:
                budget = event.data.get("budget")
                if isinstance(budget, str):
                    self.passed.setdefault(budget, []).append(float(event.data["threshold"]))
            elif event.type == finished_type:
                key = event.data.get("key")
                if isinstance(key, str) and key.startswith(HOLD):
                    self.holds[key] = str(event.data.get("status"))
        return self

    def of(self, budget: str = DURATION) -> tuple[list[float], str | None]:
        return list(self.passed.get(budget, ())), self.holds.get(hold_key(budget))


@dataclass(frozen=True, slots=True)
class ResourceRunway:
    """A resource budget's runway as views show it: the same figures as ``Runway`` in the
    resource's unit, with the steps left that no admitted run reported the output for
    (projected as 0)."""

    name: str
    unit: str
    runway: Runway
    unprojected: tuple[str, ...]
    low: float | None = None  # the projected total's 90 % interval (None: nothing projected)
    high: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            **self.runway.as_dict(),
            "unprojected": list(self.unprojected),
        }

    @property
    def interval(self) -> tuple[float, float]:
        """The projected total's 90 % interval; ``(used, used)`` when nothing is left to
        project."""
        used = self.runway.used
        return (
            used if self.low is None else self.low,
            used if self.high is None else self.high,
        )


def finished_outputs(state: RunState) -> dict[str, Any]:
    """The run's finished steps, key -> their outputs (None: did not succeed): what a resource
    projection counts as used (estimate/resources.py)."""
    return {
        item.key: item.data.get("outputs") if item.status == "succeeded" else None
        for item in state.items.values()
        if item.kind == "step" and item.status in ITEM_DONE
    }


def resource_runways(
    plan: Plan,
    history: Sequence[RunDurations],
    state: RunState,
    events: Sequence[StoredEvent] | RunwayMarks,
    *,
    samples: int | None = None,
) -> list[ResourceRunway]:
    """Each resource budget's runway for a run: what its finished steps used, what the steps
    left will use (learned from ``history`` the plan's calibration rule admits), the
    thresholds the journal (``events``, or its ``RunwayMarks`` already folded) says were
    passed and the pause bound's hold. ``samples``: the estimator's default when None."""
    from phasegate.estimate.resources import SAMPLES, fit_resource, project

    samples = SAMPLES if samples is None else samples
    finished = finished_outputs(state)
    marks = events if isinstance(events, RunwayMarks) else RunwayMarks().fold(events)
    found = []
    for name, spec in plan.budget.resources.items():
        output = spec.output or name
        use = project(fit_resource(plan, history, output, spec.estimate), finished, samples=samples)
        passed, hold = marks.of(name)
        found.append(
            ResourceRunway(
                name=name,
                unit=spec.unit or output,
                runway=Runway(
                    limit=spec.limit,
                    used=use.used,
                    p50=use.p50,
                    p90=use.p90,
                    basis=spec.basis,
                    thresholds=tuple(spec.runway),
                    passed=tuple(passed),
                    pause_above=spec.pause_above,
                    hold=hold,
                ),
                unprojected=tuple(use.unprojected),
                low=use.low,
                high=use.high,
            )
        )
    return found


STATES = ("ok", "warning", "critical", "paused")


def runway_state(runway: Runway) -> str:
    """How a budget stands, as the dashboard's runway panel colours it: ``paused`` while its
    pause bound holds the run for an approval; ``critical`` once used is over the limit or
    the threshold the engine says critically (the last of two or more) was passed;
    ``warning`` once any other threshold was passed; else ``ok``. Read from what the run
    journalled (``passed``, ``hold``) and the use itself, so the panel says what the
    notifications said, not a second opinion drawn from a fresh Monte Carlo."""
    if runway.hold == "awaiting_approval":
        return "paused"
    if runway.used > runway.limit:
        return "critical"
    passed = set(runway.passed)
    if not passed:
        return "ok"
    thresholds = runway.thresholds
    if len(thresholds) > 1 and thresholds[-1] in passed:
        return "critical"
    return "warning"
