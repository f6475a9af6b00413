"""Which channels an event goes to: every matching route, each channel once."""

from __future__ import annotations

from phasegate.notify.config import Route


def channels_for(routes: list[Route], event: str, severity: str) -> list[str]:
    """Channel names in the order routes name them. All matching routes apply, so "critical
    to the pager and Slack, warning to Slack" is two plain routes, and a channel named by
    several matching routes still receives the event once."""
    out: list[str] = []
    for route in routes:
        if route.matches(event, severity):
            out.extend(name for name in route.channels if name not in out)
    return out
