"""The run page stays the same size whatever the plan's size: a window over long phases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from phasegate.server.dashboard.views import ATTENTION, WINDOW, window

STATUSES = ["succeeded", "passed", "pending", "not_run", "running", "failed", "skipped"]


@given(st.lists(st.sampled_from(STATUSES), max_size=3000))
def test_the_window_is_bounded_keeps_what_matters_and_counts_the_rest(
    statuses: list[str],
) -> None:
    items = [{"key": f"p/s{i}", "status": s} for i, s in enumerate(statuses)]
    shown = window(items)
    kept = [i for i in shown if "gap" not in i]
    hidden = sum(i["gap"] for i in shown if "gap" in i)
    assert len(kept) + hidden == len(items)  # nothing lost: shown or counted
    attention = [i for i in items if i["status"] in ATTENTION]
    assert all(i in kept for i in attention)
    if len(items) > WINDOW:
        assert len(kept) <= len(attention) + 12 + 8
    else:
        assert shown == items
    order = [int(i["key"][3:]) for i in kept]
    assert order == sorted(order)  # in plan order
