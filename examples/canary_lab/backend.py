"""A tiny versioned HTTP backend with Prometheus metrics and injectable faults.

Stands in for "the app" in canary labs: a stable and a canary instance answer ``/`` with their
version, count what they serve in their own Prometheus registry, and can be told to fail or
slow down (``set_fault`` in-process, ``/admin/fault`` over HTTP) so a canary analysis has
something real to catch.

    python -m canary_lab.backend --version canary --port 8002

Errors are injected deterministically: with ``error_rate=0.25`` exactly one request in four
fails (an accumulator, not a random draw), so a test sees the rate it asked for.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from canary_lab.ports import free_port
from canary_lab.service import Service

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Backend(Service):
    """One backend process-in-a-thread on 127.0.0.1; a context manager."""

    def __init__(self, version: str, port: int | None = None) -> None:
        self.version = version
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.served = 0
        self.error_rate = 0.0
        self.latency = 0.0
        self._debt = 0.0
        self._lock = threading.Lock()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "app_requests",
            "Requests to / by version and status code.",
            ["version", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "app_request_duration_seconds",
            "Time to answer / by version.",
            ["version"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        # prometheus-client creates a labelled series on first use, so a healthy backend
        # would have no code="500" series and an error-ratio query would answer "no data"
        # instead of 0. Creating both up front makes the ratio a real 0 from the first scrape.
        for code in ("200", "500"):
            self.requests.labels(version=version, code=code)
        self.duration.labels(version=version)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def set_fault(self, error_rate: float = 0.0, latency: float = 0.0) -> None:
        """From now on fail ``error_rate`` of the requests to ``/`` and delay each by
        ``latency`` seconds; ``set_fault()`` heals."""
        if not 0.0 <= error_rate <= 1.0 or latency < 0:
            raise ValueError("error_rate is within 0..1 and latency >= 0")
        with self._lock:
            self.error_rate, self.latency, self._debt = error_rate, latency, 0.0

    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"backend": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"backend-{self.version}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _next(self) -> tuple[bool, float]:
        """Count one request to ``/``; say whether it fails and how long it waits."""
        with self._lock:
            self.served += 1
            self._debt += self.error_rate
            failing = self._debt >= 1.0 - 1e-9
            if failing:
                self._debt -= 1.0
            return failing, self.latency


class _Handler(BaseHTTPRequestHandler):
    backend: Backend
    server_version = "canary-lab"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/":
            self._root()
        elif url.path == "/healthz":
            down = self.backend.error_rate >= 1.0
            self._send(503 if down else 200, b"down\n" if down else b"ok\n")
        elif url.path == "/metrics":
            self._send(200, generate_latest(self.backend.registry), CONTENT_TYPE_LATEST)
        elif url.path == "/admin/fault":
            self._fault(url.query)
        else:
            self._send(404, b"not found\n")

    do_POST = do_GET

    def _root(self) -> None:
        started = time.perf_counter()
        failing, latency = self.backend._next()
        if latency:
            time.sleep(latency)
        code = 500 if failing else 200
        self._send(code, self.backend.version.encode("utf-8"))
        version = self.backend.version
        self.backend.requests.labels(version=version, code=str(code)).inc()
        self.backend.duration.labels(version=version).observe(time.perf_counter() - started)

    def _fault(self, query: str) -> None:
        values = parse_qs(query)
        try:
            error_rate = float(values.get("error_rate", ["0"])[0])
            latency = float(values.get("latency", ["0"])[0])
            self.backend.set_fault(error_rate, latency)
        except ValueError as exc:
            self._send(400, f"{exc}\n".encode())
            return
        self._send(200, f"error_rate={error_rate} latency={latency}\n".encode())

    def _send(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", self.backend.version)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: a load run would print a line per request


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a canary-lab backend")
    parser.add_argument("--version", required=True, help="what / answers and metrics label")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    backend = Backend(args.version, args.port)
    backend.set_fault(args.error_rate, args.latency)
    # SIGTERM (how a lab stops its children) ends the process through the `with`, exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with backend:
        print(f"backend {backend.version} on {backend.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
