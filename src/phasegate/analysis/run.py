"""Running an analysis: each metric measured on its own fixed schedule until the verdict is in.

The decisions are :func:`phasegate.analysis.verdict.verdict`'s; this module only keeps time.
Each metric measures at ``start + initial_delay + i × interval``: a grid, so measurements do
not drift. A slow answer never overlaps the next measurement of the same metric: when it
arrives after the next slot, one measurement is taken at once and the schedule returns to the
grid (slots that passed meanwhile are skipped, not made up in a burst). Metrics do not wait
for each other.

The run ends when every metric has its ``count`` measurements, as soon as the verdict is
final (``failed`` or ``inconclusive``: a canary should roll back on the first sign, not when
the schedule ends), or when :meth:`AnalysisRun.stop` is called (a background analysis whose
phase ended). Measurements in flight are then cancelled.

``on_measurement`` is called after every measurement with the verdict it led to (the engine
journals both). An exception it raises propagates out of :meth:`AnalysisRun.run` after the
other metrics are cancelled: an analysis whose measurements cannot be recorded must stop
loudly rather than decide on things nobody can audit.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from phasegate.analysis.measure import Measurement, measure
from phasegate.analysis.verdict import MetricTally, Verdict, VerdictJson, empty_tallies, verdict
from phasegate.plan.analysis import Analysis, AnalysisMetric
from phasegate.plugin import PluginContext

OnMeasurement = Callable[[Measurement, Verdict], None]


class AnalysisRun:
    """One execution of an :class:`Analysis`; :meth:`run` once, :meth:`stop` from outside.

    ``context`` is called before each measurement, so variables and secrets are current.
    ``clock`` stamps measurements (wall time); ``monotonic`` and ``sleep`` keep the schedule
    (default: the event loop's clock and ``asyncio.sleep``), injectable for tests.
    """

    def __init__(
        self,
        analysis: Analysis,
        context: Callable[[], PluginContext],
        on_measurement: OnMeasurement | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.analysis = analysis
        self._context = context
        self._on_measurement = on_measurement
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._tallies = empty_tallies(analysis)
        self._verdict = verdict(analysis, self._tallies)
        self._stopped = False
        self._started = False
        self._wake: asyncio.Event | None = None

    @property
    def verdict(self) -> Verdict:
        """The verdict so far (``stopped`` once :meth:`stop` was called)."""
        if self._stopped:
            return verdict(self.analysis, self._tallies, stopped=True)
        return self._verdict

    @property
    def tallies(self) -> Mapping[str, MetricTally]:
        return dict(self._tallies)

    def summary(self) -> VerdictJson:
        """The verdict and every metric's tally, JSON-ready."""
        return self.verdict.to_dict()

    def stop(self) -> None:
        """End the analysis: pending measurements are cancelled, :meth:`run` returns the
        verdict on what was measured. Call it from the event loop's thread."""
        self._stopped = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> Verdict:
        if self._started:
            raise RuntimeError("an AnalysisRun runs once; make a new one")
        self._started = True
        wake = self._wake = asyncio.Event()
        start = self._now()
        tasks = [
            asyncio.create_task(self._measure(metric, start), name=f"analysis {metric.name}")
            for metric in self.analysis.metrics
        ]
        for task in tasks:
            task.add_done_callback(lambda _: wake.set())
        try:
            while not (self._stopped or self._verdict.final or all(t.done() for t in tasks)):
                if any(_crashed(t) for t in tasks):
                    break
                await wake.wait()
                wake.clear()
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return self.verdict

    def _now(self) -> float:
        if self._monotonic is not None:
            return self._monotonic()
        return asyncio.get_running_loop().time()

    async def _measure(self, metric: AnalysisMetric, start: float) -> None:
        settings = self.analysis.effective(metric)
        base = start + settings.initial_delay
        slot = 0
        # Ends when the tally settles (by count or by a limit); with no count, when cancelled.
        while True:
            delay = base + slot * settings.interval - self._now()
            if delay > 0:
                await self._sleep(delay)
            measurement = await measure(metric, self._context(), clock=self._clock)
            self._record(measurement)
            if self._tallies[metric.name].settled is not None:
                return
            passed = math.floor((self._now() - base) / settings.interval)
            slot = max(slot + 1, passed)

    def _record(self, measurement: Measurement) -> None:
        name = measurement.metric
        self._tallies[name] = self._tallies[name].add(measurement)
        self._verdict = verdict(self.analysis, self._tallies)
        assert self._wake is not None
        self._wake.set()
        if self._on_measurement is not None:
            self._on_measurement(measurement, self._verdict)


def _crashed(task: asyncio.Task[None]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is not None
