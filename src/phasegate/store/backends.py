"""Which store a state directory or a ``--store`` URL opens: the one place that picks a back
end, so the engine, the CLI and the server never name one (issue 12 §2/§3).

- no URL: the SQLite journal in ``state_dir`` (``phasegate.db``), the default;
- ``postgresql://…``: the PostgreSQL store at that URL (store/postgres/). Run directories
  (step logs, outputs, backups) still live on this machine, under ``state_dir``, until they
  move into the database (issue 12 §3, next slice).
"""

from __future__ import annotations

from pathlib import Path

from phasegate.store.contract import JournalStore, ServerLedger


def open_journal(
    state_dir: Path, *, readonly: bool = False, url: str | None = None
) -> JournalStore:
    """The journal at ``url`` (PostgreSQL) or in ``state_dir`` (SQLite). ``readonly``: for
    verbs that only read; SQLite then never creates, migrates or writes (store/connect.py
    says why), PostgreSQL refuses writes through this instance."""
    if url:
        # Imported here: psycopg (and libpq) load only for a PostgreSQL store (start-up time).
        from phasegate.store.postgres import PostgresStore

        return PostgresStore(url, state_dir=state_dir, readonly=readonly)
    from phasegate.store.sqlite import SqliteStore

    return SqliteStore(state_dir, readonly=readonly)


def open_ledger(state_dir: Path, *, url: str | None = None) -> ServerLedger:
    """The server's tokens and idempotency keys beside the journal: tables of the PostgreSQL
    store's schema at ``url`` (every server on that database shares them), else
    ``server.db`` in ``state_dir`` (SQLite)."""
    if url:
        from phasegate.store.postgres.ledger import PostgresLedger

        return PostgresLedger(url)
    from phasegate.store.server_db import ServerDb

    return ServerDb(state_dir)
