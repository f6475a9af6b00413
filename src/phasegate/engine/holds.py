"""Holds in progress (a canary's pause or bake), so a promote or a failure ends them at once."""

from __future__ import annotations

import asyncio


class Holds:
    """The holds in progress, so a promote or a failure can end them at once."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self.reasons: dict[str, str] = {}

    async def hold(self, key: str, seconds: float) -> str | None:
        """Wait up to ``seconds``; None when the time ran out, else why it ended early."""
        event = self._events.setdefault(key, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))
        except TimeoutError:
            return None
        finally:
            self._events.pop(key, None)
        return self.reasons.pop(key, "ended early")

    def release(self, reason: str, keys: list[str] | None = None) -> list[str]:
        released = []
        for key, event in list(self._events.items()):
            if keys is None or key in keys:
                self.reasons[key] = reason
                event.set()
                released.append(key)
        return released
