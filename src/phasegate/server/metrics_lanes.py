"""The ``phasegate_lane_*`` metric families: the portfolio's figures (lanes/portfolio.py), as
``GET /api/v1/portfolio`` and the dashboard show them, read from the store on each scrape.

``phasegate_lane_cap{lane}``                   gauge: the cap (lanes with one; ``*``: the pool)
``phasegate_lane_weight{lane}``                gauge: the lane's weight
``phasegate_lane_running{lane}``               gauge: runs holding a slot
``phasegate_lane_queued{lane}``                gauge: runs waiting for a slot
``phasegate_lane_utilization{lane}``           gauge: running / cap (lanes with a cap)
``phasegate_lane_oldest_wait_seconds{lane}``   gauge: the oldest queued run's wait (0: none)
``phasegate_lane_starving{lane}``              gauge: 1 while the oldest wait is over the limit
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from phasegate.lanes import LaneFigures


def lane_families(figures: Sequence[LaneFigures]) -> Iterable[Metric]:
    def family(name: str, doc: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"phasegate_lane_{name}", doc, labels=["lane"])

    cap = family("cap", "Runs of the lane executing at once (lanes with a cap; * is the pool).")
    weight = family("weight", "The lane's weight: its share of the pool.")
    running = family("running", "Runs of the lane holding a slot.")
    queued = family("queued", "Runs of the lane waiting for a slot.")
    utilization = family("utilization", "Running runs over the cap (lanes with a cap).")
    oldest = family("oldest_wait_seconds", "How long the lane's oldest queued run has waited.")
    starving = family("starving", "1 while the lane's oldest queued run waits over the limit.")
    for f in figures:
        labels = [f.lane]
        if f.cap is not None:
            cap.add_metric(labels, f.cap)
        if f.utilization is not None:
            utilization.add_metric(labels, f.utilization)
        weight.add_metric(labels, f.weight)
        running.add_metric(labels, f.running)
        queued.add_metric(labels, f.queued)
        oldest.add_metric(labels, f.oldest_wait or 0.0)
        starving.add_metric(labels, 1 if f.starving else 0)
    return [cap, weight, running, queued, utilization, oldest, starving]
