"""A real Prometheus for the canary lab, scraping the lab's backends every second.

phasegate's metric analysis is only worth trusting if it was tested against the thing users
point it at, so the lab runs the real ``/usr/bin/prometheus`` rather than a fake API. It is
tuned to answer quickly: scrape and evaluation every 1 s (so ``rate(...[5s])`` has samples
within seconds), one hour of retention, no remote storage, no lifecycle API.

All backends are targets of one job, ``app``, each labelled ``backend="<name>"``. The
backends label their own series with ``version``, so PromQL selects a side with
``app_requests_total{version="canary"}`` and the ``backend`` label only names the target.

``stop()`` and ``start()`` may alternate (same port, same data directory): that is how a test
makes Prometheus disappear in the middle of an analysis and come back.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Self

import httpx

from canary_lab.ports import free_port
from canary_lab.process import spawn
from canary_lab.service import Service

PROMETHEUS_BINARY = "/usr/bin/prometheus"


class PrometheusError(RuntimeError):
    """Prometheus did not start, did not become ready, or did not answer a query."""


class PrometheusServer(Service):
    """One Prometheus process, owned by whoever entered the context manager."""

    def __init__(
        self,
        workdir: Path,
        targets: dict[str, str],
        port: int | None = None,
        scrape_interval: str = "1s",
        binary: str | None = None,
    ) -> None:
        if not targets:
            raise ValueError("PrometheusServer needs at least one target to scrape")
        self.workdir = Path(workdir)
        self.targets = dict(targets)
        self.port = port if port is not None else free_port()
        self.scrape_interval = scrape_interval
        self.binary = binary or os.environ.get("CANARY_LAB_PROMETHEUS", PROMETHEUS_BINARY)
        self.config = self.workdir / "prometheus.yml"
        self.data = self.workdir / "data"
        self.log = self.workdir / "prometheus.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The running process's id, or None when stopped."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def write_config(self) -> None:
        lines = [
            "# Written by canary_lab.prometheus; rewritten on every start.",
            "global:",
            f"  scrape_interval: {self.scrape_interval}",
            f"  evaluation_interval: {self.scrape_interval}",
            f"  scrape_timeout: {self.scrape_interval}",
            "scrape_configs:",
            "  - job_name: app",
            "    static_configs:",
        ]
        for name, address in self.targets.items():
            lines += [
                f'      - targets: ["{address}"]',
                f'        labels: {{backend: "{name}"}}',
            ]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def argv(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.data}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1h",
            # The lab's consoles are not installed everywhere; point them at the workdir so
            # a missing package directory is not an error.
            f"--web.console.templates={self.workdir}",
            f"--web.console.libraries={self.workdir}",
            "--log.level=warn",
        ]

    def start(self, timeout: float = 30.0) -> Self:
        """Start (or start again after ``stop()``) and wait until ``/-/ready`` answers 200."""
        if self.running:
            return self
        if not Path(self.binary).exists():
            raise PrometheusError(f"Prometheus is not installed at {self.binary}")
        self.write_config()
        self.data.mkdir(parents=True, exist_ok=True)
        # Appended to: a restart after ``stop()`` keeps the earlier log for the diagnosis.
        self._process = spawn(self.argv(), self.log, append=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise PrometheusError(
                        f"Prometheus exited with status {self._process.returncode} while "
                        f"starting; its log ({self.log}) ends with:\n{self._log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise PrometheusError(
                        f"Prometheus on port {self.port} was not ready after {timeout:g}s; "
                        f"its log ({self.log}) ends with:\n{self._log_tail()}"
                    )
                time.sleep(0.1)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_for_targets(self, timeout: float = 30.0) -> None:
        """Wait until every target was scraped successfully (``health: up``)."""
        deadline = time.monotonic() + timeout
        health: dict[str, str] = {}
        with httpx.Client(timeout=2.0) as client:
            while True:
                try:
                    answer = client.get(f"{self.url}/api/v1/targets").json()
                    health = {
                        str(t.get("labels", {}).get("backend")): str(t.get("health"))
                        for t in answer["data"]["activeTargets"]
                    }
                except (httpx.TransportError, ValueError, KeyError, TypeError):
                    pass
                if all(health.get(name) == "up" for name in self.targets):
                    return
                if time.monotonic() > deadline:
                    raise PrometheusError(
                        f"Prometheus targets not all up after {timeout:g}s: {health or 'none'}"
                    )
                time.sleep(0.2)

    def query(self, promql: str) -> float | None:
        """The value of an instant query that yields one series (or a scalar).

        None means no data: an empty vector, or NaN (Prometheus's answer to 0/0, a ratio
        over no traffic). More than one series is a mistake in the query and raises.
        """
        try:
            response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5)
            document: Any = response.json()
        except (httpx.TransportError, ValueError) as exc:
            raise PrometheusError(f"query {promql!r} failed: {exc}") from exc
        if document.get("status") != "success":
            raise PrometheusError(f"query {promql!r} rejected: {document.get('error')}")
        data = document["data"]
        if data["resultType"] == "scalar":
            value = float(data["result"][1])
        elif data["resultType"] == "vector":
            result = data["result"]
            if not result:
                return None
            if len(result) > 1:
                raise PrometheusError(f"query {promql!r} returned {len(result)} series, not 1")
            value = float(result[0]["value"][1])
        else:
            raise PrometheusError(f"query {promql!r} returned a {data['resultType']}")
        return None if math.isnan(value) else value

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (Prometheus flushes its head block); SIGKILL if it hangs."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
