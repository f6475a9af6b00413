"""The server's ledger (tokens, idempotency keys) in memory: ``ServerLedger`` for tests,
with the SQLite ledger's behaviour (the contract suite holds both to it)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from phasegate.store.contract import ServerLedger
from phasegate.store.records import StoredToken, request_replayed


class MemoryLedger:
    def __init__(self) -> None:
        self._tokens: dict[str, StoredToken] = {}
        self._keys: dict[tuple[str, str], tuple[str, str]] = {}  # (by, key) -> (body, run)
        # Held while ``create`` runs, as SQLite holds its write lock: racing starts wait.
        self._mutex = threading.RLock()

    def add_token(self, token: StoredToken) -> bool:
        with self._mutex:
            if token.name in self._tokens:
                return False
            self._tokens[token.name] = token
            return True

    def tokens(self) -> list[StoredToken]:
        with self._mutex:
            return [self._tokens[name] for name in sorted(self._tokens)]

    def token_named(self, name: str) -> StoredToken | None:
        with self._mutex:
            return self._tokens.get(name)

    def token_by_key_id(self, key_id: str) -> StoredToken | None:
        with self._mutex:
            return next((t for t in self._tokens.values() if t.key_id == key_id), None)

    def revoke_token(self, name: str) -> bool:
        with self._mutex:
            return self._tokens.pop(name, None) is not None

    def run_once(
        self, by: str, key: str, body_sha256: str, create: Callable[[], tuple[str, bool]]
    ) -> tuple[str, bool]:
        with self._mutex:
            found = self._keys.get((by, key))
            if found is not None:
                return request_replayed(key, found[1], found[0], body_sha256)
            run_id, created = create()
            self._keys[(by, key)] = (body_sha256, run_id)
            return run_id, created


_: type[ServerLedger] = MemoryLedger  # mypy checks that MemoryLedger keeps the contract
