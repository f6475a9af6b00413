"""The server's own SQLite file (``server.db`` in the state directory): API tokens and
idempotency keys, behind the ``ServerLedger`` contract (store/contract.py). The journal
(``phasegate.db``) stays the engine's; nothing here is needed to read or resume a run.

A second file on SQLite (issue 12 §2); on a PostgreSQL store the same contract is
``postgres.ledger.PostgresLedger``, tables of the store's schema that every server on that
database shares (``store/backends.open_ledger`` picks one)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from phasegate.errors import StoreError
from phasegate.store.connect import create_private
from phasegate.store.contract import ServerLedger
from phasegate.store.records import StoredToken, request_replayed

DB_NAME = "server.db"

# One statement list per schema version; ``PRAGMA user_version`` says how many ran.
MIGRATIONS = [
    """
    CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        key_id TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        body_sha256 TEXT NOT NULL,
        run_id TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    # Idempotency keys are scoped per token (issue 10 §1.6; Stripe scopes them per account):
    # one client's key must neither replay nor block another client's request.
    """
    CREATE TABLE idempotency_by_token (
        created_by TEXT NOT NULL,
        key TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        run_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (created_by, key)
    );
    INSERT INTO idempotency_by_token (created_by, key, body_sha256, run_id, created_at)
        SELECT created_by, key, body_sha256, run_id, created_at FROM idempotency;
    DROP TABLE idempotency;
    ALTER TABLE idempotency_by_token RENAME TO idempotency
    """,
]


class ServerDb:
    """Connections to ``server.db``, one per thread (SQLite connections are not shared)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / DB_NAME
        self._local = threading.local()
        try:
            # Tokens' hashes and idempotency keys: private to the server's user (0700/0600).
            # SQLite creates the -wal and -shm files with the database file's mode.
            state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            create_private(self.path)
        except OSError as exc:
            raise StoreError(f"cannot create the state directory {state_dir}: {exc}") from exc
        with self.write() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    def conn(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA busy_timeout = 30000")
                db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: writers queue, readers are never blocked."""
        db = self.conn()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}", hint="retry in a moment") from exc
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    # -- tokens ---------------------------------------------------------------------------
    def add_token(self, token: StoredToken) -> bool:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM tokens WHERE name = ?", (token.name,)).fetchone():
                return False
            conn.execute(
                "INSERT INTO tokens (name, role, key_id, hash, created_at) VALUES (?,?,?,?,?)",
                (token.name, token.role, token.key_id, token.hash, token.created_at),
            )
        return True

    def tokens(self) -> list[StoredToken]:
        rows = self.conn().execute(f"SELECT {_TOKEN} FROM tokens ORDER BY name").fetchall()
        return [_token(row) for row in rows]

    def token_named(self, name: str) -> StoredToken | None:
        row = self.conn().execute(f"SELECT {_TOKEN} FROM tokens WHERE name = ?", (name,))
        found = row.fetchone()
        return None if found is None else _token(found)

    def token_by_key_id(self, key_id: str) -> StoredToken | None:
        row = self.conn().execute(f"SELECT {_TOKEN} FROM tokens WHERE key_id = ?", (key_id,))
        found = row.fetchone()
        return None if found is None else _token(found)

    def revoke_token(self, name: str) -> bool:
        with self.write() as conn:
            return conn.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount > 0

    # -- idempotency keys -----------------------------------------------------------------
    def run_once(
        self, by: str, key: str, body_sha256: str, create: Callable[[], tuple[str, bool]]
    ) -> tuple[str, bool]:
        # One BEGIN IMMEDIATE around the check, ``create`` and the record: a concurrent
        # request with the same key (another thread, another server process) waits here,
        # then finds this one's row.
        with self.write() as conn:
            row = conn.execute(
                "SELECT body_sha256, run_id FROM idempotency WHERE created_by = ? AND key = ?",
                (by, key),
            ).fetchone()
            if row is not None:
                return request_replayed(key, str(row[1]), row[0], body_sha256)
            run_id, created = create()
            conn.execute(
                "INSERT INTO idempotency (key, body_sha256, run_id, created_by, created_at)"
                " VALUES (?,?,?,?,?)",
                (key, body_sha256, run_id, by, time.time()),
            )
            return run_id, created


_TOKEN = "name, role, key_id, hash, created_at"


def _token(row: tuple[object, ...]) -> StoredToken:
    return StoredToken(str(row[0]), str(row[1]), str(row[2]), str(row[3]), float(str(row[4])))


_: type[ServerLedger] = ServerDb  # mypy checks that ServerDb keeps the contract
