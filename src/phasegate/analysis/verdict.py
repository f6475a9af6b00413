"""Tallies and the verdict: pure functions of the measurements, no clock, no I/O.

The rules follow Argo Rollouts' AnalysisRun, with two deliberate differences: a provider that
never answers cannot make a metric pass, and provider errors follow the metric's ``no_data:``
policy instead of always failing. docs/analysis.md has the tables; in short, per metric:

1. a ``no_data`` measurement counts as failed (``no_data: fail``), inconclusive (``pause``) or
   only as no data (``ignore``);
2. an ``error`` measurement is never a failure: it adds to ``consecutive_errors``, which any
   other measurement resets;
3. ``failed > failure_limit`` -> ``failed``; else ``inconclusive > inconclusive_limit`` ->
   ``inconclusive``; else ``consecutive_errors > consecutive_error_limit`` -> ``error``;
4. else, once ``count`` measurements were taken (errors included, as in Argo), or when the
   analysis is stopped: ``successful`` (``warning`` if a measurement warned), provided at least
   one measurement was successful or warned; otherwise a metric that only got errors is
   ``error`` and any other (failures within the limit, ignored no-data answers, nothing at
   all) is ``inconclusive``: a metric must look good once to pass;
5. else ``running``.

Phases from rules 3 and 4 (by count) are settled: later measurements are counted, never
change them. So a failed metric stays failed whatever comes after it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from phasegate.analysis.measure import Measurement, MeasurementJson
from phasegate.plan.analysis import Analysis, MetricSettings, Scoring

MetricPhase = Literal["running", "successful", "warning", "failed", "inconclusive", "error"]
VerdictStatus = Literal["running", "passed", "warning", "failed", "inconclusive"]


class TallySummary(TypedDict):
    """One metric's tally, JSON-ready (:meth:`MetricTally.summary`)."""

    phase: MetricPhase
    reason: str
    message: str
    measurements: int
    count: int | None
    successful: int
    warning: int
    failed: int
    inconclusive: int
    error: int
    no_data: int
    consecutive_errors: int
    first_failed_at: float | None
    weight: float
    key: bool
    last: list[MeasurementJson]


class VerdictJson(TypedDict):
    """A verdict, JSON-ready (:meth:`Verdict.to_dict`)."""

    status: VerdictStatus
    reason: str
    message: str
    detected_at: float | None
    score: float | None
    metric: str | None
    metrics: dict[str, TallySummary]


KEPT = 10  # last measurements kept per metric, for reports
# What a no-data measurement counts as, by the metric's ``no_data:`` policy.
NO_DATA_COUNTS_AS = {"fail": "failed", "pause": "inconclusive", "ignore": "no_data"}
CREDIT = {"successful": 1.0, "warning": 0.5, "failed": 0.0}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class MetricTally:
    """One metric's measurements folded in order; :meth:`add` returns a new tally."""

    settings: MetricSettings
    measurements: int = 0  # every measurement, errors included: what `count` counts
    successful: int = 0
    warning: int = 0
    failed: int = 0  # failed measurements, plus no-data ones under no_data: fail
    inconclusive: int = 0  # inconclusive ones, plus no-data ones under no_data: pause
    error: int = 0
    no_data: int = 0  # every no-data measurement, whatever the policy did with it
    consecutive_errors: int = 0
    first_failed_at: float | None = None
    first_failure: Measurement | None = None
    first_inconclusive: Measurement | None = None
    last: tuple[Measurement, ...] = ()
    first_warning_at: float | None = None
    settled: tuple[MetricPhase, str, float] | None = None  # (phase, reason, at): final
    no_data_counted: int = 0  # no-data measurements inside failed or inconclusive

    @property
    def name(self) -> str:
        return self.settings.name

    def add(self, measurement: Measurement) -> MetricTally:
        if measurement.metric != self.name:
            raise ValueError(
                f"a measurement of {measurement.metric!r} in the tally of {self.name!r}"
            )
        status = measurement.status
        counted: str = status
        if status == "no_data":
            counted = NO_DATA_COUNTS_AS[self.settings.no_data]
        changes: dict[str, Any] = {
            "measurements": self.measurements + 1,
            "last": (*self.last, measurement)[-KEPT:],
            "consecutive_errors": self.consecutive_errors + 1 if status == "error" else 0,
        }
        if status == "no_data":
            changes["no_data"] = self.no_data + 1
            if counted != "no_data":
                changes["no_data_counted"] = self.no_data_counted + 1
        if counted != "no_data":
            changes[counted] = getattr(self, counted) + 1
        if counted == "failed" and self.first_failure is None:
            changes["first_failed_at"] = measurement.at
            changes["first_failure"] = measurement
        if counted == "warning" and self.first_warning_at is None:
            changes["first_warning_at"] = measurement.at
        if counted == "inconclusive" and self.first_inconclusive is None:
            changes["first_inconclusive"] = measurement
        tally = dataclasses.replace(self, **changes)
        if self.settled is None:
            decided = tally._limits() or tally._by_count()
            if decided is not None:
                tally = dataclasses.replace(tally, settled=(*decided, measurement.at))
        return tally

    def phase(self, *, stopped: bool = False) -> MetricPhase:
        return self.decide(stopped=stopped)[0]

    def decide(self, *, stopped: bool = False) -> tuple[MetricPhase, str]:
        """(phase, reason); ``stopped``: the analysis ended, judge a running metric as is."""
        if self.settled is not None:
            return self.settled[0], self.settled[1]
        if stopped:
            return self._completed()
        return "running", "running"

    def _limits(self) -> tuple[MetricPhase, str] | None:
        s = self.settings
        if self.failed > s.failure_limit:
            only_no_data = self.no_data_counted >= self.failed and self.no_data > 0
            return "failed", "no_data" if only_no_data else "failure_limit"
        if self.inconclusive > s.inconclusive_limit:
            only_no_data = self.no_data_counted >= self.inconclusive and self.no_data > 0
            return "inconclusive", "no_data" if only_no_data else "inconclusive_limit"
        if self.consecutive_errors > s.consecutive_error_limit:
            return "error", "provider_errors"
        return None

    def _by_count(self) -> tuple[MetricPhase, str] | None:
        count = self.settings.count
        return self._completed() if count is not None and self.measurements >= count else None

    def _completed(self) -> tuple[MetricPhase, str]:
        # Passing takes at least one good measurement: limits tolerate failures among
        # successes, they do not turn a metric that never looked good into a pass.
        if self.successful or self.warning:
            return ("warning" if self.warning else "successful"), "completed"
        if self.failed or self.inconclusive:
            return "inconclusive", "no_success"
        if self.no_data:
            return "inconclusive", "no_data"
        if self.error:
            return "error", "provider_errors"
        return "inconclusive", "no_measurements"

    def detected_at(self, *, stopped: bool = False) -> float | None:
        """When the problem showed: the first failed measurement, else when it was decided."""
        phase = self.phase(stopped=stopped)
        if phase == "failed":
            return self.first_failed_at
        if self.settled is not None:
            return self.settled[2]
        return self.last[-1].at if self.last else None

    def message(self, *, stopped: bool = False) -> str:
        """What happened to this metric, in one line: which value, which condition."""
        phase, reason = self.decide(stopped=stopped)
        s = self.settings
        name = self.name
        last = self.last[-1].message if self.last else ""
        if phase == "failed":
            first = self.first_failure.message if self.first_failure else ""
            return (
                f"{name} failed: {_plural(self.failed, 'failed measurement')} "
                f"(failure_limit {s.failure_limit}); first: {first}"
            )
        if phase == "inconclusive" and self.inconclusive > s.inconclusive_limit:
            first = self.first_inconclusive.message if self.first_inconclusive else ""
            return (
                f"{name} inconclusive: {_plural(self.inconclusive, 'inconclusive measurement')} "
                f"(inconclusive_limit {s.inconclusive_limit}); first: {first}"
            )
        if phase == "inconclusive" and reason == "no_data":
            return (
                f"{name} inconclusive: {_plural(self.no_data, 'measurement')}, none with data "
                f"(no_data: {s.no_data}); a metric without data does not pass"
            )
        if phase == "inconclusive" and reason == "no_success":
            return (
                f"{name} inconclusive: {_plural(self.measurements, 'measurement')}, none "
                f"successful (within the limits, but a metric must look good once to pass)"
            )
        if phase == "inconclusive":
            return f"{name} inconclusive: no measurement was taken before the analysis ended"
        if phase == "error":
            if self.consecutive_errors > s.consecutive_error_limit:
                said = (
                    f"{_plural(self.consecutive_errors, 'provider error')} in a row "
                    f"(consecutive_error_limit {s.consecutive_error_limit})"
                )
            else:
                said = f"the provider never answered ({_plural(self.error, 'error')})"
            return f"{name}: {said}; last: {last}"
        counts = f"{_plural(self.measurements, 'measurement')}: {self.successful} successful"
        if self.warning:
            counts += f", {self.warning} warning"
        if phase == "running":
            return f"{name} running, {counts}" + (f"; last: {last}" if last else "")
        return f"{name} {phase}, {counts}" + (f"; last: {last}" if last else "")

    def summary(self, *, stopped: bool = False) -> TallySummary:
        """JSON-ready, for the journal and reports."""
        phase, reason = self.decide(stopped=stopped)
        s = self.settings
        return {
            "phase": phase,
            "reason": reason,
            "message": self.message(stopped=stopped),
            "measurements": self.measurements,
            "count": s.count,
            "successful": self.successful,
            "warning": self.warning,
            "failed": self.failed,
            "inconclusive": self.inconclusive,
            "error": self.error,
            "no_data": self.no_data,
            "consecutive_errors": self.consecutive_errors,
            "first_failed_at": self.first_failed_at,
            "weight": s.weight,
            "key": s.key,
            "last": [m.to_dict() for m in self.last],
        }


def empty_tallies(analysis: Analysis) -> dict[str, MetricTally]:
    return {name: MetricTally(settings) for name, settings in analysis.settings().items()}


def tally(analysis: Analysis, measurements: Iterable[Measurement]) -> dict[str, MetricTally]:
    """Fold measurements, in order, into one tally per metric (e.g. replayed from a journal)."""
    tallies = empty_tallies(analysis)
    for measurement in measurements:
        if measurement.metric not in tallies:
            raise ValueError(f"a measurement of {measurement.metric!r}, not in the analysis")
        tallies[measurement.metric] = tallies[measurement.metric].add(measurement)
    return tallies


@dataclass(frozen=True)
class Verdict:
    """The analysis's outcome so far. ``failed`` and ``inconclusive`` are final: stop measuring."""

    status: VerdictStatus
    reason: str  # running, completed, failure_limit, inconclusive_limit, provider_errors, ...
    message: str
    detected_at: float | None = None
    score: float | None = None
    metric: str | None = None  # the metric that decided it, when one did
    metrics: Mapping[str, TallySummary] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.status in ("failed", "inconclusive")

    @property
    def done(self) -> bool:
        return self.status != "running"

    def to_dict(self) -> VerdictJson:
        return {
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "detected_at": self.detected_at,
            "score": self.score,
            "metric": self.metric,
            "metrics": dict(self.metrics),
        }


def verdict(
    analysis: Analysis, tallies: Mapping[str, MetricTally], *, stopped: bool = False
) -> Verdict:
    """The analysis's verdict from its metrics' tallies (a missing tally = no measurement).

    ``stopped``: the analysis ended before its metrics did (a background analysis whose phase
    finished); running metrics are judged on what they have.
    """
    rows = [tallies.get(name) or MetricTally(s) for name, s in analysis.settings().items()]
    phases = {t.name: t.decide(stopped=stopped) for t in rows}
    summaries = {t.name: t.summary(stopped=stopped) for t in rows}
    scoring = analysis.scoring

    def decided_by(status: VerdictStatus, t: MetricTally, reason: str, **kw: Any) -> Verdict:
        return Verdict(
            status,
            reason,
            t.message(stopped=stopped),
            detected_at=t.detected_at(stopped=stopped),
            metric=t.name,
            metrics=summaries,
            **kw,
        )

    def first(found: list[MetricTally]) -> MetricTally:
        # The metric that settled first decides, so the message names the earliest problem.
        return min(found, key=lambda t: t.settled[2] if t.settled else float("inf"))

    failing = [
        t
        for t in rows
        if (phases[t.name][0] == "failed" and (scoring is None or t.settings.key))
        or (phases[t.name][0] == "error" and t.settings.no_data == "fail")
    ]
    if failing:
        t = first(failing)
        reason = phases[t.name][1]
        if scoring is not None and phases[t.name][0] == "failed":
            reason = "key_metric"
        return decided_by("failed", t, reason)
    score = None if scoring is None else _score(rows, phases)
    if scoring is not None and score is not None and score < scoring.warning:
        return _out_of_reach(scoring, score, rows, phases, summaries)
    undecided = [t for t in rows if phases[t.name][0] in ("inconclusive", "error")]
    if undecided:
        t = first(undecided)
        return decided_by("inconclusive", t, phases[t.name][1])
    if any(phase == "running" for phase, _ in phases.values()):
        return Verdict("running", "running", _running(rows, phases), metrics=summaries)
    if scoring is not None and score is not None:
        status: VerdictStatus = "passed" if score >= scoring.pass_ else "warning"
        said = f"score {score:g} ({_phases(rows, phases)}; {_limits(scoring)})"
        return Verdict(status, "score", said, score=score, metrics=summaries)
    warned = [t for t in rows if phases[t.name][0] == "warning"]
    if warned:
        said = "; ".join(t.message(stopped=stopped) for t in warned)
        return Verdict("warning", "completed", f"passed with warnings: {said}", metrics=summaries)
    return Verdict("passed", "completed", _passed(rows), metrics=summaries)


def _score(rows: list[MetricTally], phases: Mapping[str, tuple[MetricPhase, str]]) -> float:
    """The weighted score, in percent; a metric not (or not well) decided is given the best
    it could still reach, so a score below the bar is final whatever happens next."""

    def credit(t: MetricTally) -> float:
        phase = phases[t.name][0]
        if phase in CREDIT:
            return CREDIT[phase]
        return CREDIT["warning"] if t.warning else CREDIT["successful"]

    total = sum(t.settings.weight for t in rows)
    return round(100 * sum(t.settings.weight * credit(t) for t in rows) / total, 6)


def _out_of_reach(
    scoring: Scoring,
    score: float,
    rows: list[MetricTally],
    phases: Mapping[str, tuple[MetricPhase, str]],
    summaries: Mapping[str, TallySummary],
) -> Verdict:
    failed = [t for t in rows if phases[t.name][0] == "failed"]
    # The first sign of what sank the score: a failure or a warning, whichever came first.
    stamps = [t.first_failed_at for t in failed if t.first_failed_at is not None]
    stamps += [t.first_warning_at for t in rows if t.first_warning_at is not None]
    settled = all(phases[t.name][0] in CREDIT for t in rows)
    shown = f"{score:g}" if settled else f"at most {score:g}"
    return Verdict(
        "failed",
        "score",
        f"score {shown} is below {scoring.warning:g} ({_phases(rows, phases)}; {_limits(scoring)})",
        detected_at=min(stamps) if stamps else None,
        score=score,
        metric=min(failed, key=lambda t: t.first_failed_at or 0).name if failed else None,
        metrics=summaries,
    )


def _phases(rows: list[MetricTally], phases: Mapping[str, tuple[MetricPhase, str]]) -> str:
    return ", ".join(f"{t.name} {phases[t.name][0]}" for t in rows)


def _limits(scoring: Scoring) -> str:
    return f"pass {scoring.pass_:g}, warning {scoring.warning:g}"


def _running(rows: list[MetricTally], phases: Mapping[str, tuple[MetricPhase, str]]) -> str:
    waiting = [t.name for t in rows if phases[t.name][0] == "running"]
    taken = sum(t.measurements for t in rows)
    return f"running: {_plural(taken, 'measurement')} so far; waiting for {', '.join(waiting)}"


def _passed(rows: list[MetricTally]) -> str:
    return "passed: " + "; ".join(
        f"{t.name} {t.successful}/{t.measurements} successful" for t in rows
    )
