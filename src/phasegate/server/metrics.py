"""``/metrics``: Prometheus metrics read from the journal on every scrape.

The journal is the truth and the server may restart, so nothing here counts events as they
happen: a custom collector folds the stored events of every run into a small per-run digest
and yields metric families from the digests. Digests are cached by the last event sequence
number seen, so a scrape reads only the events appended since the previous one (a finished
run is read once per process). There is no global mutable metric: each app (and each test)
owns its registry.

Families (all labels are plan names, run ids or small enums):

``phasegate_store_up``                                   gauge: 1 if the journal was readable
``phasegate_runs{state}``                                gauge: runs by state, every state listed
``phasegate_runs_finished_total{plan,status}``           counter: finished runs
``phasegate_last_run_timestamp_seconds{plan,status}``    gauge: when the newest such run finished
``phasegate_step_duration_seconds{plan}``                histogram: finished steps
``phasegate_gate_duration_seconds{plan}``                histogram: evaluated gates
``phasegate_checks_total{plan,status}``                  counter: gate and analysis outcomes
                                                         (passed, failed, error, warned, skipped)
``phasegate_gate_failures_total{plan,kind}``             counter: failed gates by check kind
                                                         (command, http, metric…; analysis)
``phasegate_critical_checks{plan}``                      gauge: blocking checks failing in the
                                                         plan's latest run
``phasegate_rollbacks_total{plan,status}``               counter: finished rollbacks
``phasegate_rollback_duration_seconds{plan}``            histogram: rollback durations
``phasegate_rollback_budget_seconds{plan}``              gauge: the latest rollback's budget
``phasegate_rollback_budget_overruns_total{plan}``       counter: rollbacks over their budget
``phasegate_detection_to_rollback_seconds{plan}``        histogram: failure detected → canary
                                                         weight confirmed 0
``phasegate_canary_weight{run,plan}``                    gauge: canary share (every backend but
                                                         the first) of runs not finished
``phasegate_notification_failures_total{channel}``       counter: ``notification.failed`` events
``phasegate_time_to_fix_seconds{plan}``                  histogram: a failed run's end → the
                                                         next succeeded run of the same plan

And the lanes' families, ``phasegate_lane_*{lane}`` (server/metrics_lanes.py).

Finished runs are counted as ``phasegate_runs_finished_total`` rather than
``phasegate_runs_total``: the latter is the sample name a counter called ``phasegate_runs``
would have, and ``phasegate_runs`` is already the by-state gauge.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from phasegate.errors import EventUnreadable, PhasegateError
from phasegate.lanes import portfolio
from phasegate.run.events import from_stored
from phasegate.run.state import TERMINAL
from phasegate.server.digest import (
    Histogram,
    RunDigest,
    RunRow,
)
from phasegate.server.metrics_lanes import lane_families
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore

log = logging.getLogger(__name__)

STATES = (
    "pending",
    "running",
    "waiting",
    "monitoring",
    "queued",
    "paused",
    "rolling_back",
    "interrupted",
    *TERMINAL,
)
FAILED_RUNS = ("failed", "rolled_back", "rollback_failed")
CHECK_OUTCOMES = ("passed", "failed", "error", "warned", "skipped")
FIX_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800)


class JournalCollector(Collector):
    """Yields the families above from the journal in ``state_dir``; safe to scrape in threads.

    ``events_read`` counts the journal events folded so far: tests use it to see the cache
    work (a second scrape of an unchanged journal reads none).
    """

    def __init__(self, state_dir: Path, url: str | None = None) -> None:
        self.state_dir = state_dir
        self.url = url
        self.events_read = 0
        self._digests: dict[str, RunDigest] = {}
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            try:
                store = open_journal(self.state_dir, url=self.url)
            except PhasegateError as exc:
                log.warning("metrics: %s", exc.render())
                yield _store_up(0)
                return
            try:
                runs, plan_texts = self._refresh(store)
                lanes = portfolio(store.lanes(), store.lane_tickets(), time.time())
            except PhasegateError as exc:
                log.warning("metrics: cannot read the journal in %s: %s", store.state_dir, exc)
                yield _store_up(0)
                return
            finally:
                store.close()
            yield _store_up(1)
            yield from self._families(runs, plan_texts)
            yield from lane_families(lanes)

    def _refresh(self, store: JournalStore) -> tuple[list[RunRow], dict[str, str]]:
        # The run list without every plan's text, and only the events a digest has not seen.
        runs = [
            RunRow(h.id, h.plan_name, h.status, h.created_at, h.finished_at, h.last_seq)
            for h in store.run_heads()
        ]
        known = {run.run_id for run in runs}
        for gone in set(self._digests) - known:
            del self._digests[gone]
        plan_texts: dict[str, str] = {}
        for run in runs:
            digest = self._digests.setdefault(run.run_id, RunDigest(run.run_id, run.plan))
            if digest.seq < run.last_seq:
                for event in store.events_after(run.run_id, digest.seq):
                    self.events_read += 1
                    try:
                        typed = from_stored(event.type, event.data)
                    except EventUnreadable as exc:  # one odd row must not end the scrape
                        log.warning("metrics: run %s event #%d: %s", run.run_id, event.seq, exc)
                        digest.seq = event.seq
                        continue
                    digest.fold(event.seq, typed)
            if digest.needs_plan():
                plan_texts[run.run_id] = store.get_run(run.run_id).plan_text
        return runs, plan_texts

    def _families(self, runs: list[RunRow], plan_texts: dict[str, str]) -> Iterable[Metric]:
        by_state = Counter(run.status for run in runs)
        states = GaugeMetricFamily("phasegate_runs", "Runs by state.", labels=["state"])
        for state in (*STATES, *sorted(set(by_state) - set(STATES))):
            states.add_metric([state], by_state[state])
        yield states

        finished = [run for run in runs if run.status in TERMINAL]
        totals = Counter((run.plan, run.status) for run in finished)
        runs_total = CounterMetricFamily(
            "phasegate_runs_finished", "Finished runs.", labels=["plan", "status"]
        )
        last = GaugeMetricFamily(
            "phasegate_last_run_timestamp_seconds",
            "When the newest finished run of the plan with this status ended (Unix time).",
            labels=["plan", "status"],
        )
        newest: dict[tuple[str, str], float] = {}
        for run in finished:
            if run.finished_at is not None:
                newest[(run.plan, run.status)] = max(
                    newest.get((run.plan, run.status), 0.0), run.finished_at
                )
        for labels, count in sorted(totals.items()):
            runs_total.add_metric(list(labels), count)
        for labels, when in sorted(newest.items()):
            last.add_metric(list(labels), when)
        yield runs_total
        yield last

        digests = [self._digests[run.run_id] for run in runs]
        yield from _histograms(digests)
        yield from _checks(digests, runs, plan_texts)
        yield from _rollbacks(digests)
        yield _canary_weights(digests, runs)
        yield _notification_failures(digests)
        yield _time_to_fix(finished)


def _store_up(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "phasegate_store_up", "1 if the journal could be read on this scrape.", value=value
    )


def _by_plan(digests: list[RunDigest], attr: str) -> dict[str, Histogram]:
    out: dict[str, Histogram] = {}
    for digest in digests:
        histogram: Histogram = getattr(digest, attr)
        if digest.plan not in out:
            out[digest.plan] = Histogram(histogram.bounds)
        out[digest.plan].merge(histogram)
    return out


def _histogram(name: str, doc: str, per_plan: dict[str, Histogram]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["plan"])
    for plan, histogram in sorted(per_plan.items()):
        family.add_metric([plan], histogram.cumulative(), histogram.sum)
    return family


def _histograms(digests: list[RunDigest]) -> Iterable[Metric]:
    yield _histogram(
        "phasegate_step_duration_seconds",
        "Durations of finished steps.",
        _by_plan(digests, "steps"),
    )
    yield _histogram(
        "phasegate_gate_duration_seconds",
        "Durations of evaluated gates, retries included.",
        _by_plan(digests, "gates"),
    )
    yield _histogram(
        "phasegate_rollback_duration_seconds",
        "Durations of finished rollbacks.",
        _by_plan(digests, "rollback"),
    )
    yield _histogram(
        "phasegate_detection_to_rollback_seconds",
        "From a failure's detection to the router confirming the canary's weight is 0.",
        _by_plan(digests, "detection"),
    )


def _checks(
    digests: list[RunDigest], runs: list[RunRow], plan_texts: dict[str, str]
) -> Iterable[Metric]:
    outcomes: Counter[tuple[str, str]] = Counter()
    failures: Counter[tuple[str, str]] = Counter()
    latest: dict[str, RunDigest] = {}
    for digest in digests:  # in creation order: the last one per plan is the latest run
        latest[digest.plan] = digest
        for status, count in digest.checks.items():
            outcomes[(digest.plan, status)] += count
        if digest.failed_checks:
            for kind, count in digest.failure_kinds(plan_texts.get(digest.run_id)).items():
                failures[(digest.plan, kind)] += count
    checks = CounterMetricFamily(
        "phasegate_checks", "Gate and analysis outcomes.", labels=["plan", "status"]
    )
    for plan in sorted({d.plan for d in digests}):
        seen = {status for p, status in outcomes if p == plan}
        for status in (*CHECK_OUTCOMES, *sorted(seen - set(CHECK_OUTCOMES))):
            checks.add_metric([plan, status], outcomes[(plan, status)])
    yield checks
    gate_failures = CounterMetricFamily(
        "phasegate_gate_failures",
        "Failed gates and analyses, by check kind.",
        labels=["plan", "kind"],
    )
    for labels, count in sorted(failures.items()):
        gate_failures.add_metric(list(labels), count)
    yield gate_failures
    critical = GaugeMetricFamily(
        "phasegate_critical_checks",
        "Blocking checks (severity fail) failing in the plan's latest run.",
        labels=["plan"],
    )
    for plan, digest in sorted(latest.items()):
        critical.add_metric([plan], sum(digest.failing.values()))
    yield critical


def _rollbacks(digests: list[RunDigest]) -> Iterable[Metric]:
    rollbacks: Counter[tuple[str, str]] = Counter()
    overruns: Counter[str] = Counter()
    budgets: dict[str, float] = {}
    for digest in digests:
        for status, count in digest.rollbacks.items():
            rollbacks[(digest.plan, status)] += count
        if digest.rollbacks:
            overruns[digest.plan] += digest.overruns
            if digest.rollback_budget is not None:
                budgets[digest.plan] = digest.rollback_budget
    family = CounterMetricFamily(
        "phasegate_rollbacks", "Finished rollbacks.", labels=["plan", "status"]
    )
    for labels, count in sorted(rollbacks.items()):
        family.add_metric(list(labels), count)
    yield family
    over = CounterMetricFamily(
        "phasegate_rollback_budget_overruns",
        "Rollbacks that took longer than their budget.",
        labels=["plan"],
    )
    for plan, count in sorted(overruns.items()):
        over.add_metric([plan], count)
    yield over
    budget = GaugeMetricFamily(
        "phasegate_rollback_budget_seconds",
        "The rollback budget of the plan's latest rollback that had one.",
        labels=["plan"],
    )
    for plan, seconds in sorted(budgets.items()):
        budget.add_metric([plan], seconds)
    yield budget


def _canary_weights(digests: list[RunDigest], runs: list[RunRow]) -> Metric:
    family = GaugeMetricFamily(
        "phasegate_canary_weight",
        "The canary's share of traffic (percent) in runs not finished.",
        labels=["run", "plan"],
    )
    for digest, run in zip(digests, runs, strict=True):
        if run.status not in TERMINAL and digest.weights:
            family.add_metric([run.run_id, run.plan], sum(list(digest.weights.values())[1:]))
    return family


def _notification_failures(digests: list[RunDigest]) -> Metric:
    total: Counter[str] = Counter()
    for digest in digests:
        total.update(digest.notification_failures)
    family = CounterMetricFamily(
        "phasegate_notification_failures",
        "Notifications that failed after their retries.",
        labels=["channel"],
    )
    for channel, count in sorted(total.items()):
        family.add_metric([channel], count)
    return family


def _time_to_fix(finished: list[RunRow]) -> Metric:
    """Mean time to fix: from the end of a plan's first failing run to its next success."""
    per_plan: dict[str, Histogram] = {}
    broken_since: dict[str, float] = {}
    for run in sorted(finished, key=lambda r: (r.finished_at or 0.0, r.run_id)):
        histogram = per_plan.setdefault(run.plan, Histogram(FIX_BUCKETS))
        if run.finished_at is None:
            continue
        if run.status in FAILED_RUNS:
            broken_since.setdefault(run.plan, run.finished_at)
        elif run.status == "succeeded" and run.plan in broken_since:
            histogram.observe(run.finished_at - broken_since.pop(run.plan))
    return _histogram(
        "phasegate_time_to_fix_seconds",
        "From the end of a failed run to the end of the plan's next succeeded run.",
        per_plan,
    )


def metrics_registry(
    state_dir: Path, url: str | None = None
) -> tuple[CollectorRegistry, JournalCollector]:
    """A registry of its own holding one journal collector (no process-global metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    collector = JournalCollector(state_dir, url)
    registry.register(collector)
    return registry, collector


def make_metrics_app(state_dir: Path, url: str | None = None) -> ASGIApp:
    """An ASGI app serving the text exposition format; mount it at ``/metrics``.

    The scrape reads SQLite, so it runs in a worker thread, off the server's event loop.
    """
    registry, _ = metrics_registry(state_dir, url)

    async def metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan: nothing to start or stop
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed\n", "text/plain; charset=utf-8")
            return
        body = await anyio.to_thread.run_sync(generate_latest, registry)
        await _respond(send, 200, b"" if scope["method"] == "HEAD" else body, CONTENT_TYPE_LATEST)

    return metrics_app


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode())]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
