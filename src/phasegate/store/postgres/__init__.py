"""PostgreSQL behind the store contracts (store/contract.py): ``PostgresStore`` (the
journal) and ``PostgresLedger`` (the server's tokens and idempotency keys), psycopg 3.

Modules: ``connection`` (URL, masking, connecting, errors), ``schema`` (versioned
migrations), ``views`` (reads), ``store`` (writes), ``logs`` (step logs, chunked),
``notify`` (LISTEN/NOTIFY for live views), ``ledger``.
"""

from phasegate.store.postgres.connection import is_postgres_url, mask
from phasegate.store.postgres.ledger import PostgresLedger
from phasegate.store.postgres.store import PostgresStore

__all__ = ["PostgresLedger", "PostgresStore", "is_postgres_url", "mask"]
