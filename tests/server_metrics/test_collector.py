"""The collector against a real journal: exposition, expected values, the per-run cache."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from phasegate.server.metrics import make_metrics_app, metrics_registry
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore
from tests.server_metrics.conftest import Journal

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_exposition_parses_and_counts_the_runs_made(journal: Journal) -> None:
    registry, _ = journal.registry()
    samples = scrape(generate_latest(registry).decode())
    assert value(samples, "phasegate_store_up") == 1
    runs = {"succeeded": 1, "rolled_back": 2, "paused": 1, "running": 0, "failed": 0}
    for state, count in runs.items():
        assert value(samples, "phasegate_runs", state=state) == count, state
    finished = [(k, v) for k, v in samples.items() if k[0] == "phasegate_runs_finished_total"]
    assert sum(v for _, v in finished) == 3
    assert value(samples, "phasegate_runs_finished_total", plan="gated", status="succeeded") == 1
    assert value(samples, "phasegate_runs_finished_total", plan="canary", status="rolled_back") == 1
    assert value(samples, "phasegate_checks_total", plan="gated", status="passed") == 1
    assert value(samples, "phasegate_checks_total", plan="gated", status="failed") == 1
    assert value(samples, "phasegate_checks_total", plan="canary", status="failed") == 1
    assert value(samples, "phasegate_gate_failures_total", plan="gated", kind="command") == 1
    assert value(samples, "phasegate_gate_failures_total", plan="canary", kind="analysis") == 1
    assert value(samples, "phasegate_critical_checks", plan="gated") == 0  # latest succeeded
    assert value(samples, "phasegate_critical_checks", plan="canary") == 1
    assert value(samples, "phasegate_rollbacks_total", plan="gated", status="rolled_back") == 1
    assert value(samples, "phasegate_rollbacks_total", plan="canary", status="rolled_back") == 1
    assert value(samples, "phasegate_rollback_duration_seconds_count", plan="gated") == 1
    assert value(samples, "phasegate_rollback_budget_overruns_total", plan="gated") == 0
    detection = value(samples, "phasegate_detection_to_rollback_seconds_count", plan="canary")
    assert detection == 1
    assert value(samples, "phasegate_detection_to_rollback_seconds_sum", plan="canary") > 0  # type: ignore[operator]
    assert value(samples, "phasegate_step_duration_seconds_count", plan="gated") == 2
    assert value(samples, "phasegate_gate_duration_seconds_count", plan="gated") == 2
    # Only the unfinished run has a current canary weight.
    weights = {k: v for k, v in samples.items() if k[0] == "phasegate_canary_weight"}
    assert list(weights.values()) == [30]
    assert dict(next(iter(weights))[1])["plan"] == "held"
    assert value(samples, "phasegate_time_to_fix_seconds_count", plan="gated") == 1
    assert value(samples, "phasegate_time_to_fix_seconds_count", plan="canary") == 0
    last = value(samples, "phasegate_last_run_timestamp_seconds", plan="gated", status="succeeded")
    assert last is not None and last <= time.time()
    assert not [k for k in samples if k[0] == "phasegate_notification_failures_total"]


def _add_runs(store: SqliteStore, count: int, start: int) -> None:
    for number in range(start, start + count):
        ts = 1_700_000_000.0 + number
        run_id, _ = store.create_run(
            run_id=f"bulk-{number:04d}",
            plan_name=f"bulk-{number % 3}",
            plan_path="bulk.yaml",
            plan_sha256="0" * 64,
            plan_text="",
            lock_name=f"bulk-{number}",
            idempotency_key=None,
            options={},
            phases=["p"],
            owner=Owner.me(),
            ts=ts,
        )
        gate = {"key": "p/gate:g", "kind": "gate", "phase": "p", "name": "g"}
        events: list[tuple[str, dict[str, Any], float]] = [
            ("run.started", {}, ts),
            ("phase.started", {"phase": "p"}, ts),
            ("item.finished", {**gate, "status": "passed", "duration": 0.2}, ts),
            ("phase.finished", {"phase": "p", "status": "succeeded"}, ts),
            ("run.finished", {"status": "succeeded"}, ts),
        ]
        store.append(store.load_state(run_id), events, durable=False)


def test_a_scrape_reads_only_events_it_has_not_seen(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        _add_runs(store, 200, 0)
        registry, collector = metrics_registry(tmp_path)
        samples = scrape(generate_latest(registry).decode())
        assert collector.events_read == 200 * 6
        assert value(samples, "phasegate_runs", state="succeeded") == 200
        generate_latest(registry)
        assert collector.events_read == 200 * 6  # nothing new: every digest came from cache
        _add_runs(store, 1, 200)
        samples = scrape(generate_latest(registry).decode())
        assert collector.events_read == 201 * 6
        assert value(samples, "phasegate_runs", state="succeeded") == 201
        checks = [v for k, v in samples.items() if k[0] == "phasegate_checks_total"]
        assert sum(checks) == 201
    finally:
        store.close()


def test_an_unreadable_state_dir_is_reported_not_raised(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    registry, _ = metrics_registry(not_a_dir)
    samples = scrape(generate_latest(registry).decode())
    assert value(samples, "phasegate_store_up") == 0


def test_the_asgi_app_serves_the_exposition_and_refuses_other_methods(journal: Journal) -> None:
    async def main() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=make_metrics_app(journal.state_dir))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/metrics"), await client.post("/metrics")

    got, posted = asyncio.run(main())
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/plain")
    assert value(scrape(got.text), "phasegate_runs", state="paused") == 1
    assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"
