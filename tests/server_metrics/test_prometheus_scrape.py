"""A real Prometheus scrapes the metrics app (served by uvicorn on 127.0.0.1) every second,
and its HTTP API answers with the journal's numbers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from canary_lab.ports import free_port
from canary_lab.prometheus import PROMETHEUS_BINARY, PrometheusServer

from phasegate.server.metrics import make_metrics_app
from tests.server_metrics.conftest import Journal


@contextmanager
def serving(journal: Journal) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(
        make_metrics_app(journal.state_dir),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.mark.skipif(not Path(PROMETHEUS_BINARY).exists(), reason="Prometheus is not installed")
def test_prometheus_scrapes_the_runs_by_state(journal: Journal, tmp_path: Path) -> None:
    with (
        serving(journal) as port,
        PrometheusServer(tmp_path / "prometheus", {"phasegate": f"127.0.0.1:{port}"}) as prom,
    ):
        prom.wait_for_targets()
        deadline = time.monotonic() + 30
        paused = None
        while paused is None and time.monotonic() < deadline:
            paused = prom.query('phasegate_runs{state="paused"}')
            time.sleep(0.25)
        assert paused == 1
        assert prom.query('sum(phasegate_runs{state="rolled_back"})') == 2
        assert prom.query('phasegate_canary_weight{plan="held"}') == 30
        assert prom.query("phasegate_store_up") == 1
