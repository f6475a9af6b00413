"""A bounded HTTP load generator: steady GETs through the router, counted per backend.

Canary analysis needs traffic (a ratio over no requests is NaN, "no data"), and a test needs
to know where that traffic went. So the generator sends GETs at a modest ``rate`` from a few
threads and counts each answer by its ``X-Backend`` header and its status code; a request
that got no answer at all (refused, reset, timed out) is counted in ``errors``, never raised.

It is always bounded twice, by ``max_requests`` and by ``max_seconds``: a forgotten generator
in a test or a terminal stops by itself. The default rate (200/s) leaves the lab's two cores
to nginx, Prometheus and the backends.

``snapshot()`` returns immutable ``Counts``; subtracting two gives the traffic between them::

    before = load.snapshot()
    ...                                  # shift traffic
    window = load.snapshot() - before
    window.share("canary")               # the canary's fraction of the answers in the window
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Self, TypeVar

import httpx

from canary_lab.service import Service

NO_BACKEND = "unknown"
"""How an answer without an ``X-Backend`` header (an error page of the router) is counted."""


Key = TypeVar("Key", str, int)


def _frozen(counter: Mapping[Key, int]) -> Mapping[Key, int]:
    """A read-only copy without the zero entries a subtraction leaves."""
    return MappingProxyType({k: v for k, v in counter.items() if v})


@dataclass(frozen=True)
class Counts:
    """What the generator saw up to one moment (or, as a difference, between two)."""

    by_backend: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    by_status: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    errors: int = 0
    """Requests that got no HTTP answer (connection refused or reset, timeout)."""

    @property
    def answered(self) -> int:
        return sum(self.by_status.values())

    @property
    def total(self) -> int:
        """Requests sent: answered plus errors."""
        return self.answered + self.errors

    def share(self, backend: str) -> float:
        """The fraction of answered requests served by ``backend`` (0.0 when none were)."""
        return self.by_backend.get(backend, 0) / self.answered if self.answered else 0.0

    def __sub__(self, other: Counts) -> Counts:
        backends = Counter(self.by_backend)
        backends.subtract(other.by_backend)
        statuses = Counter(self.by_status)
        statuses.subtract(other.by_status)
        return Counts(_frozen(backends), _frozen(statuses), self.errors - other.errors)


class LoadGenerator(Service):
    """GET ``url`` from ``concurrency`` threads at up to ``rate`` requests per second."""

    def __init__(
        self,
        url: str,
        *,
        rate: float = 200.0,
        concurrency: int = 4,
        max_requests: int = 20_000,
        max_seconds: float = 120.0,
        timeout: float = 5.0,
    ) -> None:
        for name, value in (("rate", rate), ("max_seconds", max_seconds), ("timeout", timeout)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"LoadGenerator {name} must be a finite number > 0, not {value}")
        if max_requests < 1 or concurrency < 1:
            raise ValueError("LoadGenerator max_requests and concurrency must be at least 1")
        self.url = url
        self.rate = rate
        self.concurrency = concurrency
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._backends: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._errors = 0
        self._issued = 0
        self._next_at = 0.0
        self._deadline = 0.0

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        if self._threads:
            raise RuntimeError("this LoadGenerator was already started; make a new one")
        self._next_at = time.monotonic()
        self._deadline = self._next_at + self.max_seconds
        self._threads = [
            threading.Thread(target=self._work, name=f"load-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop sending; returns once every thread finished its request in flight."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 1)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the generator reached one of its bounds; False if ``timeout`` ran out."""
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if end is None else max(0.0, end - time.monotonic()))
        return not self.running

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    # -- counting -----------------------------------------------------------------------

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(_frozen(self._backends), _frozen(self._statuses), self._errors)

    def _record(self, response: httpx.Response | None, error: str | None = None) -> None:
        with self._lock:
            if response is None:
                self._errors += 1
                self.last_error = error
            else:
                self._statuses[response.status_code] += 1
                self._backends[response.headers.get("X-Backend", NO_BACKEND)] += 1

    # -- the threads --------------------------------------------------------------------

    def _reserve(self) -> float | None:
        """The monotonic time at which this thread may send its next request, or None when
        a bound was reached. Slots are spaced 1/rate apart across all threads."""
        with self._lock:
            now = time.monotonic()
            if self._stop.is_set() or self._issued >= self.max_requests or now >= self._deadline:
                return None
            self._issued += 1
            slot = max(self._next_at, now)
            self._next_at = slot + 1.0 / self.rate
            return slot

    def _work(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while (slot := self._reserve()) is not None:
                if self._stop.wait(max(0.0, slot - time.monotonic())):
                    return
                if time.monotonic() >= self._deadline:
                    return
                self._one(client)

    def _one(self, client: httpx.Client) -> None:
        # A keep-alive connection the router closed between two requests (nginx reloading
        # to shift weights does that) surfaces as RemoteProtocolError: retry such a GET once
        # on a fresh connection, as browsers do, so a reload is not counted as an outage.
        for attempt in (1, 2):
            try:
                response = client.get(self.url)
            except httpx.RemoteProtocolError as exc:
                if attempt == 1:
                    continue
                self._record(None, f"{type(exc).__name__}: {exc}")
            except httpx.TransportError as exc:
                self._record(None, f"{type(exc).__name__}: {exc}")
            else:
                self._record(response)
            return
