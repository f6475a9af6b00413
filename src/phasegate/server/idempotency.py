"""``Idempotency-Key`` for starting runs: one key, one run, whatever the concurrency.

The ledger (``idempotency`` in ``server.db``) maps a key to the sha256 of the request body
and the run it created. Checking the key, creating the run and recording it happen inside
one ``BEGIN IMMEDIATE`` transaction on the ledger (and a process-wide lock, so the threads of
one server do not even contend in SQLite): the second of two concurrent requests waits, then
finds the first one's row. A replay with the same body answers with the same run; another
body with the same key is a conflict. The key is also given to the journal's own
``idempotency_key``, which covers a crash between creating the run and committing the row.

Keys are scoped per token, as Stripe scopes them per account: the same key sent by two
tokens is two requests (two runs), and one client cannot learn of, replay or block another
client's run by guessing its key. The journal gets the key as ``<actor>/<key>`` (``scoped``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from phasegate.server.db import ServerDb
from phasegate.server.errors import ApiError


def scoped(by: str, key: str) -> str:
    """The journal's idempotency key for ``key`` sent by ``by``."""
    return f"{by}/{key}"


def unscoped(by: str | None, journal_key: str | None) -> str | None:
    """The key as its client sent it."""
    if by is not None and journal_key is not None and journal_key.startswith(f"{by}/"):
        return journal_key[len(by) + 1 :]
    return journal_key


class IdempotencyLedger:
    def __init__(self, db: ServerDb) -> None:
        self.db = db
        self._lock = threading.Lock()

    def run_once(
        self, key: str, body_sha256: str, by: str, create: Callable[[], tuple[str, bool]]
    ) -> tuple[str, bool]:
        """(run id, created): ``create`` runs only for a key never seen."""
        with self._lock, self.db.write() as conn:
            row = conn.execute(
                "SELECT body_sha256, run_id FROM idempotency WHERE created_by = ? AND key = ?",
                (by, key),
            ).fetchone()
            if row is not None:
                if row[0] != body_sha256:
                    raise ApiError(
                        409,
                        "conflict",
                        f"Idempotency-Key {key!r} was used for run {row[1]} with another body",
                        hint="use a new key for a different request",
                    )
                return str(row[1]), False
            run_id, created = create()
            conn.execute(
                "INSERT INTO idempotency (key, body_sha256, run_id, created_by, created_at)"
                " VALUES (?,?,?,?,?)",
                (key, body_sha256, run_id, by, time.time()),
            )
            return run_id, created
