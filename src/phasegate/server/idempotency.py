"""``Idempotency-Key`` for starting runs: one key, one run, whatever the concurrency.

The ledger (``ServerLedger.run_once``; ``idempotency`` in ``server.db``) maps a key to the
sha256 of the request body and the run it created. Checking the key, creating the run and
recording it happen inside one ``BEGIN IMMEDIATE`` transaction on the ledger (and a
process-wide lock, so the threads of one server do not even contend in SQLite): the second
of two concurrent requests waits, then finds the first one's row. A replay with the same
body answers with the same run; another body with the same key is a conflict. The key is
also given to the journal's own ``idempotency_key``, which covers a crash between creating
the run and committing the row.

Keys are scoped per token, as Stripe scopes them per account: the same key sent by two
tokens is two requests (two runs), and one client cannot learn of, replay or block another
client's run by guessing its key. The journal gets the key as ``<actor>/<key>`` (``scoped``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from phasegate.errors import IdempotencyConflict
from phasegate.server.errors import ApiError
from phasegate.store.contract import ServerLedger


def scoped(by: str, key: str) -> str:
    """The journal's idempotency key for ``key`` sent by ``by``."""
    return f"{by}/{key}"


def unscoped(by: str | None, journal_key: str | None) -> str | None:
    """The key as its client sent it."""
    if by is not None and journal_key is not None and journal_key.startswith(f"{by}/"):
        return journal_key[len(by) + 1 :]
    return journal_key


class IdempotencyLedger:
    def __init__(self, ledger: ServerLedger) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()

    def run_once(
        self, key: str, body_sha256: str, by: str, create: Callable[[], tuple[str, bool]]
    ) -> tuple[str, bool]:
        """(run id, created): ``create`` runs only for a key never seen."""
        with self._lock:
            try:
                return self.ledger.run_once(by, key, body_sha256, create)
            except IdempotencyConflict as exc:
                raise ApiError(409, "conflict", exc.message, hint=exc.hint) from exc
