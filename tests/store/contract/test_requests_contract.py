"""Operator requests (approve, abort… from another process), on every back end."""

from __future__ import annotations

import pytest

from phasegate.errors import RunNotFound
from phasegate.store.contract import JournalStore
from tests.store.contract.script import create


def test_requests_are_delivered_in_order_until_consumed(store: JournalStore) -> None:
    create(store, "r1")
    create(store, "r2", lock="api", ts=1001.0)
    first = store.add_request("r1", "approve", {"by": "ana", "comment": "ok"})
    other = store.add_request("r2", "abort", {"by": "bo"})
    second = store.add_request("r1", "abort", {"by": "bo"})
    assert first < other < second
    assert store.take_requests("r1") == [
        (first, "approve", {"by": "ana", "comment": "ok"}),
        (second, "abort", {"by": "bo"}),
    ]
    # reading does not consume: an owner that dies now leaves them to its successor
    assert [r[0] for r in store.take_requests("r1")] == [first, second]
    assert not store.request_taken(first)
    store.consume_request(first)
    assert store.request_taken(first) and not store.request_taken(second)
    assert store.take_requests("r1") == [(second, "abort", {"by": "bo"})]
    store.consume_request(second)
    assert store.take_requests("r1") == []
    assert store.take_requests("r2") == [(other, "abort", {"by": "bo"})]


def test_a_request_for_an_unknown_run_is_refused(store: JournalStore) -> None:
    with pytest.raises(RunNotFound):
        store.add_request("nobody", "abort", {})
    assert not store.request_taken(12345)
