"""The start/stop contract every part of the lab keeps, and the context manager built on it.

A backend, a router, Prometheus, the load generator and the whole lab are each started by
``start()``, which returns the part itself (so ``with Part(...) as part`` hands back the
started part), and stopped by ``stop()``, which must be safe on a part that is already stopped
or never started: ``__exit__`` calls it whatever the block raised, and a ``start()`` that fails
half-way calls it too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Service(ABC):
    """Something the lab starts and stops; a context manager."""

    @abstractmethod
    def start(self) -> Self:
        """Start and return once the part is ready to use."""

    @abstractmethod
    def stop(self) -> None:
        """Stop and wait until it is stopped; do nothing when it is not running."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
