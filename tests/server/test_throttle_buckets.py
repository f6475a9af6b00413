"""The failed-authentication buckets (issue 10 §1.6) with an injected clock: the burst, the
refill, per-address independence and the bound on remembered addresses."""

from __future__ import annotations

from phasegate.server import throttle
from phasegate.server.throttle import FailureBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_attempt_per_refill_period() -> None:
    clock = Clock()
    buckets = FailureBuckets(burst=3, refill_seconds=6.0, clock=clock)
    for _ in range(3):
        assert buckets.retry_after("10.0.0.1") == 0
        buckets.failed("10.0.0.1")
    assert buckets.retry_after("10.0.0.1") == 6
    assert buckets.retry_after("10.0.0.2") == 0  # another address is not affected
    clock.now += 4.5
    assert buckets.retry_after("10.0.0.1") == 2  # rounded up: never "retry now" too early
    clock.now += 1.5
    assert buckets.retry_after("10.0.0.1") == 0
    buckets.failed("10.0.0.1")
    assert buckets.retry_after("10.0.0.1") == 6
    clock.now += 3600
    for _ in range(3):  # refilled to the burst, not beyond it
        assert buckets.retry_after("10.0.0.1") == 0
        buckets.failed("10.0.0.1")
    assert buckets.retry_after("10.0.0.1") > 0


def test_remembered_addresses_are_bounded() -> None:
    clock = Clock()
    buckets = FailureBuckets(burst=1, refill_seconds=60.0, clock=clock)
    original = throttle.MAX_CLIENTS
    throttle.MAX_CLIENTS = 5
    try:
        for n in range(8):
            buckets.failed(f"10.0.0.{n}")
        assert len(buckets._buckets) == 5
        assert buckets.retry_after("10.0.0.0") == 0  # the oldest was forgotten
        assert buckets.retry_after("10.0.0.7") == 60
    finally:
        throttle.MAX_CLIENTS = original
