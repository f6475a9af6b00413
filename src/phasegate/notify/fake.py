"""A notifier for tests: keeps what it was sent, fails on request."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pydantic import Field, PrivateAttr

from phasegate.notify.base import Message, Notifier, NotifierError, Receipt


class FakeNotifier(Notifier):
    kind: ClassVar[str] = "fake"

    fail_first: int = Field(0, ge=0, description="fail this many attempts, then succeed")
    retryable: bool = True
    _attempts: int = PrivateAttr(0)
    _sent: list[Message] = PrivateAttr(default_factory=list)

    def expanded(self, expand: Callable[[str], str]) -> Notifier:
        return self  # no text options; and a test keeps the instance it reads ``sent`` from

    @property
    def sent(self) -> list[Message]:
        return self._sent

    @property
    def attempts(self) -> int:
        return self._attempts

    async def send(self, message: Message, timeout: float) -> Receipt:
        self._attempts += 1
        if self._attempts <= self.fail_first:
            raise NotifierError(f"fake failure #{self._attempts}", retryable=self.retryable)
        self._sent.append(message)
        return Receipt(detail="kept")
