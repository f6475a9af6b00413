"""Stopping asyncio tasks for sure.

On Python < 3.12 ``asyncio.wait_for`` can swallow a cancellation that arrives just as the
awaited thing finishes; a task cancelled once may then carry on. We cancel until it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_all(tasks: Iterable[asyncio.Task[Any]], *, patience: float = 0.5) -> None:
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=patience)
