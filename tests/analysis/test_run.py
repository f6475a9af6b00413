"""AnalysisRun: the schedule, early exit and stop(), on a virtual clock (no real waiting); then
one run against a real HTTP server answering like Prometheus that goes away mid-analysis."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from pydantic import PrivateAttr

from phasegate.analysis import Analysis, AnalysisRun, Measurement, Verdict
from phasegate.metrics.base import MetricResult, Provider
from phasegate.metrics.fake import FakeProvider
from phasegate.plugin import PluginContext
from tests.analysis import analysis, context, fake_metric, run_virtual


class SlowProvider(Provider):
    """Answers ``value`` after a scripted (virtual) delay, and remembers overlapping calls."""

    kind: ClassVar[str] = "slow"
    delays: list[float]
    value: float = 0.0
    _started: list[float] = PrivateAttr(default_factory=list)
    _in_flight: int = PrivateAttr(0)
    _most_in_flight: int = PrivateAttr(0)

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        loop = asyncio.get_running_loop()
        delay = self.delays[min(len(self._started), len(self.delays) - 1)]
        self._started.append(loop.time())
        self._in_flight += 1
        self._most_in_flight = max(self._most_in_flight, self._in_flight)
        try:
            await asyncio.sleep(delay)
        finally:
            self._in_flight -= 1
        return MetricResult.of(self.value)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, float, str, str]] = []

    def __call__(self, m: Measurement, v: Verdict) -> None:
        json.dumps(m.to_dict())
        json.dumps(v.to_dict())
        self.seen.append((m.metric, m.at, m.status, v.status))

    def times(self, metric: str) -> list[float]:
        return [at for name, at, _, _ in self.seen if name == metric]


def start(a: Analysis, *, stop_at: float | None = None) -> tuple[Verdict, Recorder, AnalysisRun]:
    """Run on the virtual loop; timestamps are the loop's clock, which starts at 1000."""
    recorder = Recorder()

    async def main() -> tuple[Verdict, AnalysisRun]:
        loop = asyncio.get_running_loop()
        run = AnalysisRun(a, context, recorder, clock=loop.time)
        if stop_at is not None:
            loop.call_at(stop_at, run.stop)
        verdict = await run.run()
        assert asyncio.all_tasks() == {asyncio.current_task()}  # nothing left behind
        return verdict, run

    verdict, run = run_virtual(main())
    return verdict, recorder, run


def test_each_metric_keeps_its_own_fixed_schedule() -> None:
    a = analysis(
        fake_metric("errors", [0.0]),
        fake_metric("latency", [0.0], interval=4, count=2, initial_delay=1),
        interval=10,
        count=3,
        initial_delay=5,
    )
    verdict, recorder, run = start(a)
    assert recorder.times("errors") == [1005, 1015, 1025]
    assert recorder.times("latency") == [1001, 1005]
    assert (verdict.status, verdict.reason) == ("passed", "completed")
    assert run.verdict == verdict
    assert run.summary()["metrics"]["errors"]["measurements"] == 3
    assert [status for *_, status in recorder.seen] == ["running"] * 4 + ["passed"]


def test_a_failure_ends_the_analysis_at_once() -> None:
    slow_to_fail = FakeProvider(values=[0.0])
    a = analysis(
        fake_metric("errors", [0.0, 0.0, 0.5]),
        {"name": "latency", "metric": "q", "provider": slow_to_fail, "failure": "value > 1"},
        interval=10,
        count=10,
    )
    verdict, recorder, _ = start(a)
    assert (verdict.status, verdict.reason, verdict.metric) == ("failed", "failure_limit", "errors")
    assert verdict.detected_at == 1020
    assert "value 0.5: failure value > 0.01" in verdict.message
    assert max(at for _, at, _, _ in recorder.seen) == 1020  # nothing measured after it
    assert len(slow_to_fail.queries) == 3


def test_stop_ends_a_background_analysis_with_what_it_has() -> None:
    a = analysis(fake_metric("errors", [0.0, 0.005], warning="value > 0.004"), interval=10)
    verdict, recorder, run = start(a, stop_at=1035)
    assert recorder.times("errors") == [1000, 1010, 1020, 1030]
    assert (verdict.status, verdict.reason) == ("warning", "completed")
    assert run.verdict.status == "warning"


def test_stop_cancels_a_measurement_in_flight() -> None:
    provider = SlowProvider(delays=[100], timeout=200)
    a = analysis({"name": "slow", "metric": "q", "provider": provider, "failure": "value > 1"})
    verdict, recorder, _ = start(a, stop_at=1050)
    assert recorder.seen == []
    assert (verdict.status, verdict.reason) == ("inconclusive", "no_measurements")
    assert provider._in_flight == 0  # the query was cancelled, not left running


def test_a_slow_answer_never_overlaps_and_the_grid_resumes() -> None:
    provider = SlowProvider(delays=[25, 0], timeout=100)
    a = analysis(
        {"name": "slow", "metric": "q", "provider": provider, "failure": "value > 1"},
        interval=10,
        count=4,
    )
    verdict, recorder, _ = start(a)
    # the first answer arrives at 25: slots 10 and 20 passed, one measurement at once
    # (as slot 20), then back on the grid at 30.
    assert provider._started == [1000, 1025, 1030, 1040]
    assert recorder.times("slow") == [1025, 1025, 1030, 1040]
    assert provider._most_in_flight == 1
    assert verdict.status == "passed"


@pytest.mark.parametrize(
    ("no_data", "status"),
    [("pause", "inconclusive"), ("ignore", "inconclusive"), ("fail", "failed")],
)
def test_consecutive_provider_errors(no_data: str, status: str) -> None:
    a = analysis(fake_metric("errors", [0.0, "error"], no_data=no_data), interval=10)
    verdict, recorder, _ = start(a)
    assert (verdict.status, verdict.reason) == (status, "provider_errors")
    # one answer, then errors: the fifth in a row (limit 4) decides, at 1050
    assert recorder.times("errors") == [1000, 1010, 1020, 1030, 1040, 1050]
    assert verdict.detected_at == 1050
    summary = verdict.metrics["errors"]
    assert (summary["failed"], summary["error"], summary["successful"]) == (0, 5, 1)


def test_an_on_measurement_failure_stops_the_analysis_loudly() -> None:
    a = analysis(fake_metric("errors", [0.0]), fake_metric("latency", [0.0]), interval=10)

    def broken(m: Measurement, v: Verdict) -> None:
        if m.at >= 1010:
            raise OSError("journal is read-only")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        run = AnalysisRun(a, context, broken, clock=loop.time)
        with pytest.raises(OSError, match="read-only"):
            await run.run()
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run_virtual(main())


def test_a_run_runs_once_and_has_a_verdict_before_it_starts() -> None:
    run = AnalysisRun(analysis(fake_metric("errors", [0.0]), count=1), context)
    assert run.verdict.status == "running"
    assert run.summary()["metrics"]["errors"]["measurements"] == 0
    assert run_virtual(run.run()).status == "passed"
    with pytest.raises(RuntimeError, match="runs once"):
        run_virtual(run.run())


class PrometheusLike(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "0.001"]}]},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_prometheus_going_away_is_counted_as_errors_not_failures() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), PrometheusLike)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    answered: list[Measurement] = []
    gone = False

    def go_away_after_three(m: Measurement, v: Verdict) -> None:
        nonlocal gone
        if m.status == "successful":
            answered.append(m)
        if len(answered) == 3 and not gone:
            httpd.shutdown()  # the listening socket closes: connections are refused from now
            httpd.server_close()
            gone = True

    a = Analysis.model_validate(
        {
            "interval": "50ms",
            "consecutive_error_limit": 3,
            "metrics": [
                {
                    "name": "error-rate",
                    "metric": "sum(rate(http_errors_total[1m]))",
                    "provider": {"prometheus": {"url": url, "timeout": 5}},
                    "failure": "value > 0.01",
                    "no_data": "pause",
                }
            ],
        }
    )
    try:
        run = AnalysisRun(a, context, go_away_after_three)
        verdict = asyncio.run(asyncio.wait_for(run.run(), 60))
    finally:
        if not gone:
            httpd.shutdown()
            httpd.server_close()
        thread.join()
    assert [m.value for m in answered] == [0.001] * 3
    summary = verdict.metrics["error-rate"]
    assert (summary["successful"], summary["failed"], summary["error"]) == (3, 0, 4)
    assert (verdict.status, verdict.reason) == ("inconclusive", "provider_errors")
    assert "4 provider errors in a row (consecutive_error_limit 3)" in verdict.message
    assert url.split("//")[1] in summary["last"][-1]["message"]
