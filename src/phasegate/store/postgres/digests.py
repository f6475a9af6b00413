"""Durations digests in the PostgreSQL store (``PostgresStore``'s part of the contract;
store/digests.py). A table of its own (migration 6): the journal's append path is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import psycopg

from phasegate.store.digests import HISTORY_COLUMNS, HistoryRow, dump_digest, history_from_row
from phasegate.store.postgres.connection import pg_errors

Conn = psycopg.Connection[tuple[Any, ...]]


class PostgresDigests:
    """Mixed into ``PostgresStore``, after ``PostgresViews``: it uses their ``db`` and
    ``write`` (declared here for the type checker only, so nothing here shadows them)."""

    location: str

    if TYPE_CHECKING:

        @property
        def db(self) -> Conn: ...

        def write(self, durable: bool = True) -> AbstractContextManager[Conn]: ...

    @pg_errors
    def finished_runs(
        self, plan: str, *, limit: int, before: tuple[float, str] | None = None
    ) -> list[HistoryRow]:
        query = (
            f"SELECT {HISTORY_COLUMNS} FROM runs r LEFT JOIN run_digests d ON d.run_id = r.id"
            " WHERE r.plan_name = %s AND r.finished_at IS NOT NULL"
        )
        args: list[Any] = [plan]
        if before is not None:
            query += " AND (r.created_at < %s OR (r.created_at = %s AND r.id < %s))"
            args += [before[0], before[0], before[1]]
        query += " ORDER BY r.created_at DESC, r.id DESC LIMIT %s"
        args.append(limit)
        return [history_from_row(row) for row in self.db.execute(query.encode(), args).fetchall()]

    def save_digests(self, digests: Sequence[tuple[str, int, Mapping[str, object]]]) -> None:
        if not digests:
            return
        # Asynchronous commit: a digest lost in a crash is computed again from the journal.
        with self.write(durable=False) as db, db.cursor() as cursor:
            cursor.executemany(
                b"INSERT INTO run_digests (run_id, last_seq, data)"
                b" SELECT %s, %s, %s WHERE EXISTS (SELECT 1 FROM runs WHERE id = %s)"
                b" ON CONFLICT (run_id) DO UPDATE SET last_seq = excluded.last_seq,"
                b" data = excluded.data",
                [(run_id, seq, dump_digest(data), run_id) for run_id, seq, data in digests],
            )
