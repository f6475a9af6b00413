"""Helpers shared by the analysis tests: measurements and tallies by hand, analyses over the
fake provider, a real PluginContext, and an event loop whose clock jumps instead of waiting."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from phasegate.analysis import Analysis, Measurement, MetricSettings, MetricTally
from phasegate.analysis.measure import MeasurementStatus
from phasegate.executors.local import LocalExecutor
from phasegate.masking import Masker
from phasegate.metrics.fake import FakeProvider
from phasegate.plugin import PluginContext
from phasegate.substitution import substitute

T = TypeVar("T")


def settings(name: str = "m", **overrides: Any) -> MetricSettings:
    values: dict[str, Any] = {
        "interval": 1.0,
        "count": 3,
        "initial_delay": 0.0,
        "failure_limit": 0,
        "consecutive_error_limit": 4,
        "inconclusive_limit": 0,
        "no_data": "fail",
    }
    values.update(overrides)
    return MetricSettings(name=name, **values)


def measured(
    status: MeasurementStatus, at: float = 0.0, metric: str = "m", value: float | None = None
) -> Measurement:
    if value is None and status in ("successful", "warning", "failed", "inconclusive"):
        value = {"successful": 0.0, "warning": 0.5, "failed": 1.0, "inconclusive": 0.7}[status]
    return Measurement(metric, at, status, value, f"{status} at {at:g}")


def fold(
    s: MetricSettings, statuses: Iterable[MeasurementStatus], start: float = 0.0
) -> MetricTally:
    tally = MetricTally(s)
    for i, status in enumerate(statuses):
        tally = tally.add(measured(status, start + i, s.name))
    return tally


def fake_metric(name: str, values: list[Any], **fields: Any) -> dict[str, Any]:
    fields.setdefault("failure", "value > 0.01")
    return {
        "name": name,
        "metric": f"query_{name}",
        "provider": FakeProvider(values=values),
        **fields,
    }


def analysis(*metrics: dict[str, Any], **fields: Any) -> Analysis:
    return Analysis.model_validate({"metrics": list(metrics), **fields})


def context(variables: dict[str, str] | None = None, secrets: Iterable[str] = ()) -> PluginContext:
    values = dict(variables or {})
    return PluginContext(
        executor=LocalExecutor(),
        masker=Masker(secrets),
        plan_dir=".",
        env={},
        expand=lambda text: substitute(text, values),
        shell=["/bin/sh", "-c"],
        timeout=5.0,
    )


class _InstantSelector(selectors.DefaultSelector):
    """Polls instead of blocking, and moves the loop's clock to when it would have woken."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready:
            return ready
        if timeout is None:
            raise RuntimeError("deadlock: nothing is scheduled and nothing can wake the loop")
        self._loop.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Timers fire in order with no real waiting: a 10-minute analysis runs in milliseconds,
    and ``loop.time()`` says exactly when each thing happened."""

    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(selector=_InstantSelector(self))

    def time(self) -> float:
        return self.now


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)
