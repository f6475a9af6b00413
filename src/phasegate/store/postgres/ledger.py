"""The server's ledger (``ServerLedger``: API tokens, idempotency keys) in the PostgreSQL
store's database, so every ``phasegate serve`` on that database shares it.

One connection per thread, as ``server_db.ServerDb`` keeps one SQLite connection per thread:
``run_once`` holds a transaction while ``create`` runs, and another thread's call must not
join it.

``run_once`` under concurrent callers (threads, servers): a transaction-level advisory lock on
the (caller, key) pair makes racing requests with one key take turns; the first creates the
run and records the key before it commits, the others then find the key. Keys of other pairs
never wait (a hash collision between two pairs only makes them take turns).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from phasegate.store.contract import ServerLedger
from phasegate.store.postgres.connection import connect, mask, normalize, translate
from phasegate.store.postgres.schema import migrate
from phasegate.store.records import StoredToken, request_replayed

_TOKEN = "name, role, key_id, hash, created_at"
Conn = psycopg.Connection[tuple[Any, ...]]


class PostgresLedger:
    def __init__(self, url: str) -> None:
        self.url = normalize(url)
        self.location = mask(url.strip())
        self._local = threading.local()
        self._opened: list[Conn] = []
        self._mutex = threading.Lock()
        try:
            migrate(self.conn(), self.location)
        except psycopg.Error as exc:
            raise translate(exc, self.location, writing=True) from exc

    def conn(self) -> Conn:
        db: Conn | None = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = connect(self.url, self.location)
            self._local.db = db
            with self._mutex:
                self._opened.append(db)
        return db

    def close(self) -> None:
        with self._mutex:
            for db in self._opened:
                db.close()
            self._opened.clear()

    def _read(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn().execute(query.encode(), args).fetchall()
        except psycopg.Error as exc:
            raise translate(exc, self.location) from exc

    # -- tokens ---------------------------------------------------------------------------
    def add_token(self, token: StoredToken) -> bool:
        db = self.conn()
        try:
            with db.transaction():
                cursor = db.execute(
                    b"INSERT INTO tokens (name, role, key_id, hash, created_at)"
                    b" VALUES (%s,%s,%s,%s,%s) ON CONFLICT (name) DO NOTHING",
                    (token.name, token.role, token.key_id, token.hash, token.created_at),
                )
                return cursor.rowcount == 1
        except psycopg.Error as exc:
            raise translate(exc, self.location, writing=True) from exc

    def tokens(self) -> list[StoredToken]:
        return [_token(row) for row in self._read(f"SELECT {_TOKEN} FROM tokens ORDER BY name")]

    def token_named(self, name: str) -> StoredToken | None:
        rows = self._read(f"SELECT {_TOKEN} FROM tokens WHERE name = %s", (name,))
        return _token(rows[0]) if rows else None

    def token_by_key_id(self, key_id: str) -> StoredToken | None:
        rows = self._read(f"SELECT {_TOKEN} FROM tokens WHERE key_id = %s", (key_id,))
        return _token(rows[0]) if rows else None

    def revoke_token(self, name: str) -> bool:
        db = self.conn()
        try:
            with db.transaction():
                return db.execute(b"DELETE FROM tokens WHERE name = %s", (name,)).rowcount > 0
        except psycopg.Error as exc:
            raise translate(exc, self.location, writing=True) from exc

    # -- idempotency keys -----------------------------------------------------------------
    def run_once(
        self, by: str, key: str, body_sha256: str, create: Callable[[], tuple[str, bool]]
    ) -> tuple[str, bool]:
        db = self.conn()
        try:
            with db.transaction():
                db.execute(
                    b"SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"phasegate idempotency\x1f{by}\x1f{key}",),
                )
                row = db.execute(
                    b"SELECT body_sha256, run_id FROM idempotency"
                    b" WHERE created_by = %s AND key = %s",
                    (by, key),
                ).fetchone()
                if row is not None:
                    return request_replayed(key, str(row[1]), row[0], body_sha256)
                run_id, created = create()
                db.execute(
                    b"INSERT INTO idempotency (created_by, key, body_sha256, run_id, created_at)"
                    b" VALUES (%s,%s,%s,%s,%s)",
                    (by, key, body_sha256, run_id, time.time()),
                )
                return run_id, created
        except psycopg.Error as exc:
            raise translate(exc, self.location, writing=True) from exc


def _token(row: tuple[Any, ...]) -> StoredToken:
    return StoredToken(str(row[0]), str(row[1]), str(row[2]), str(row[3]), float(row[4]))


_: type[ServerLedger] = PostgresLedger  # mypy checks that PostgresLedger keeps the contract
