"""Per-lane figures of the portfolio (``GET /api/v1/portfolio``, the dashboard's portfolio
page, the ``phasegate_lane_*`` metrics, ``phasegate lane list``): one function, so the three
views cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phasegate.lanes.model import POOL, Lane, Ticket

# A lane whose oldest queued run has waited this long is reported ``starving``.
STARVING_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class LaneFigures:
    lane: str
    cap: int | None  # None: no cap set
    weight: float
    running: int  # runs holding a slot
    queued: int  # runs waiting for one
    utilization: float | None  # running / cap (None without a cap; 0 for a cap of 0)
    oldest_wait: float | None  # seconds the oldest queued run has waited
    starving: bool  # runs queued, the oldest for STARVING_AFTER or more

    def as_json(self) -> dict[str, object]:
        return {
            "lane": self.lane,
            "cap": self.cap,
            "weight": self.weight,
            "running": self.running,
            "queued": self.queued,
            "utilization": self.utilization,
            "oldest_wait": self.oldest_wait,
            "starving": self.starving,
        }


def portfolio(
    lanes: Sequence[Lane],
    tickets: Sequence[Ticket],
    now: float,
    *,
    starving_after: float = STARVING_AFTER,
) -> list[LaneFigures]:
    """Every lane with a setting or a ticket, by name; the pool (``*``) first when set, its
    figures summed over all lanes."""
    settings = {lane.name: lane for lane in lanes}
    names = sorted({*settings, *(t.lane for t in tickets)} - {POOL})
    out = []
    if POOL in settings:
        out.append(_figures(settings[POOL], tickets, now, starving_after))
    for name in names:
        lane = settings.get(name) or Lane(name)
        out.append(_figures(lane, [t for t in tickets if t.lane == name], now, starving_after))
    return out


def _figures(lane: Lane, tickets: Sequence[Ticket], now: float, after: float) -> LaneFigures:
    running = sum(1 for t in tickets if t.granted_at is not None)
    waits = [now - t.enqueued_at for t in tickets if t.granted_at is None]
    oldest = max(waits) if waits else None
    utilization = _utilization(running, lane.cap)
    return LaneFigures(
        lane=lane.name,
        cap=lane.cap,
        weight=lane.weight,
        running=running,
        queued=len(waits),
        utilization=utilization,
        oldest_wait=oldest,
        starving=oldest is not None and oldest >= after,
    )


def _utilization(running: int, cap: int | None) -> float | None:
    if cap is None:
        return None
    return running / cap if cap > 0 else 0.0
