"""The dashboard's event streams (SSE): the hub's feeds as a browser receives them.

A live feed is one long request: its session is checked again at each update, so a revoked
token's open page stops receiving (issue 10 §1.3). A page with several live panels (the run
body and its runway panel) holds one connection carrying each panel as its own event name:
browsers allow about six connections per server, so one per panel would starve other tabs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request

from phasegate.server.dashboard.hub import Hub

SessionOf = Callable[[Request], Any]  # the request's session, or None once it is revoked


async def events(
    hub: Hub, session: SessionOf, key: str, request: Request
) -> AsyncIterator[dict[str, str]]:
    """The feed ``key`` as ``update`` events."""
    async for item in merged(hub, session, {"update": key}, request):
        yield item


async def merged(
    hub: Hub, session: SessionOf, feeds: dict[str, str], request: Request
) -> AsyncIterator[dict[str, str]]:
    """Each ``event name -> hub key`` feed over one stream. A feed's updates not sent yet are
    replaced by its newest (as ``Hub.subscribe`` skips versions for a slow reader), so a
    stalled browser costs one fragment per feed, never a growing queue."""
    pending: dict[str, str] = {}  # event name -> newest fragment not sent yet (insertion order)
    ready = asyncio.Event()

    async def pump(name: str, key: str) -> None:
        async for html in hub.subscribe(key):
            pending.pop(name, None)  # re-inserted last: feeds are sent in update order
            pending[name] = html
            ready.set()

    tasks = [asyncio.create_task(pump(name, key)) for name, key in feeds.items()]
    try:
        while True:
            await ready.wait()
            ready.clear()
            while pending:
                name = next(iter(pending))
                html = pending.pop(name)
                if await request.is_disconnected() or session(request) is None:
                    return
                yield {"event": name, "data": html}
    finally:
        for task in tasks:
            task.cancel()  # each subscription's `finally` gives its place back to the hub
        await asyncio.gather(*tasks, return_exceptions=True)
