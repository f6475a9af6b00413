"""Failed sign-ins and bearer tokens, rate-limited per client address.

Each client address has a token bucket of ``burst`` failures that refills at one failure
per ``refill_seconds``. Every authentication attempt (an ``Authorization`` header, or a
dashboard sign-in) that ends in 401 takes one; a client whose bucket is empty is answered
429 with ``Retry-After`` before its attempt is even checked. So guessing tokens runs at
about ten a minute per address, and a flood of bad tokens cannot make the server burn CPU on
PBKDF2 (every well-formed guess costs one hash). Requests without credentials, and clients
that authenticate correctly, never spend from the bucket. This is the shape of nginx's
``limit_req`` and of fail2ban, kept inside the server so it holds without a proxy.

The address is the connection's peer as uvicorn reports it. Behind a reverse proxy on the
same machine, uvicorn takes it from ``X-Forwarded-For`` (it trusts that header from
127.0.0.1 only, ``--forwarded-allow-ips``); without a proxy every client is itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phasegate.server.errors import ApiError, respond

BURST = 10
REFILL_SECONDS = 6.0
MAX_CLIENTS = 10_000  # the oldest buckets are forgotten first: memory stays bounded


class FailureBuckets:
    def __init__(
        self,
        burst: int = BURST,
        refill_seconds: float = REFILL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # level, at
        self._lock = threading.Lock()

    def _level(self, client: str, now: float) -> float:
        level, at = self._buckets.get(client, (float(self.burst), now))
        return min(float(self.burst), level + (now - at) / self.refill_seconds)

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 when it may now."""
        with self._lock:
            level = self._level(client, self._clock())
        if level >= 1:
            return 0
        return max(1, math.ceil((1 - level) * self.refill_seconds))

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            self._buckets[client] = (max(0.0, self._level(client, now) - 1), now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)


def _is_attempt(scope: Scope) -> bool:
    if scope["method"] == "POST" and scope["path"] == "/ui/login":
        return True
    return any(name == b"authorization" for name, _ in scope["headers"])


class AuthThrottle:
    def __init__(self, app: ASGIApp, buckets: FailureBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_attempt(scope):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.buckets.retry_after(client)
        if wait:
            error = ApiError(
                429,
                "rate_limited",
                "too many failed sign-ins or tokens from this address",
                hint=f"wait {wait} s; check the token you are sending",
                headers={"Retry-After": str(wait)},
            )
            await respond(error)(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.buckets.failed(client)
            await send(message)

        await self.app(scope, receive, watch)
