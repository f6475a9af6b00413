"""Lanes: shared capacity (issue 14 §5; docs/lanes.md).

A plan names a ``lane:``; each lane has a cap (how many of its runs may execute at once) and a
weight, kept in the store and changed at runtime. A run that finds its lane full is
``queued``; the store grants slots with ``scheduler.grants`` inside one write transaction, so
caps hold across every server and worker sharing the store.

Map: ``model`` (lanes, tickets: the values the store keeps), ``scheduler`` (the pure grant
decision), ``portfolio`` (per-lane figures for the API, the dashboard and the metrics).
"""

from phasegate.lanes.model import POOL, Lane, LaneChange, Ticket, valid_lane_name
from phasegate.lanes.portfolio import LaneFigures, portfolio
from phasegate.lanes.scheduler import AGING, grants

__all__ = [
    "AGING",
    "POOL",
    "Lane",
    "LaneChange",
    "LaneFigures",
    "Ticket",
    "grants",
    "portfolio",
    "valid_lane_name",
]
