"""Step logs in the PostgreSQL store (store/steplogs.py has the contract): a chunked table,
``log_chunks (run_id, key, start, data)``, one row per flush of a step's output, ``start``
its byte offset in the item's log. Any machine that opens the store reads them.

A flush is one transaction with ``synchronous_commit = off``: logs never wait for a disk
flush. It still cannot outlive the step's end record: the engine flushes a step's log before
it journals the step's end, and PostgreSQL's WAL is written in commit order, so a crash that
keeps the end keeps the log before it.

Chunks are appended at the log's current end, read in the same statement: one writer per
run (the journal's rule) means no two writers append to one item's log; the primary key
refuses a second chunk at one offset should that ever happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from phasegate.store.postgres.connection import pg_errors
from phasegate.store.postgres.views import PostgresViews, Row
from phasegate.store.steplogs import LogChunk, LogSlice, outputs_in

if TYPE_CHECKING:
    import psycopg

_APPEND = (
    b"INSERT INTO log_chunks (run_id, key, start, data) SELECT %(run)s, %(key)s,"
    b" coalesce((SELECT start + octet_length(data) FROM log_chunks"
    b" WHERE run_id = %(run)s AND key = %(key)s ORDER BY start DESC LIMIT 1), 0), %(data)s"
)


class PostgresLogs(PostgresViews):
    if TYPE_CHECKING:

        def write(
            self, durable: bool = True
        ) -> AbstractContextManager[psycopg.Connection[Row]]: ...

    def append_logs(self, run_id: str, chunks: Sequence[LogChunk]) -> None:
        merged: dict[str, list[bytes]] = {}  # one row per item and flush
        for key, data in chunks:
            if data:
                merged.setdefault(key, []).append(data)
        if not merged:
            return
        args = [{"run": run_id, "key": k, "data": b"".join(v)} for k, v in merged.items()]
        with self.write(durable=False) as db, db.cursor() as cursor:
            cursor.executemany(_APPEND, args)

    @pg_errors
    def read_log(self, run_id: str, key: str, offset: int = 0) -> LogSlice:
        if offset < 0:
            last = self._one(
                "SELECT start + octet_length(data) FROM log_chunks WHERE run_id = %s"
                " AND key = %s ORDER BY start DESC LIMIT 1",
                (run_id, key),
            )
            offset = max((int(last[0]) if last else 0) + offset, 0)
        rows = self._all(
            "SELECT start, data FROM log_chunks WHERE run_id = %s AND key = %s"
            " AND start + octet_length(data) > %s ORDER BY start",
            (run_id, key, offset),
        )
        if not rows:
            return LogSlice(b"", offset)
        first = int(rows[0][0])
        data = b"".join(bytes(row[1]) for row in rows)[max(offset - first, 0) :]
        return LogSlice(data, max(offset, first) + len(data))

    def log_location(self, run_id: str, key: str) -> str:
        return f"{self.location}, log of {run_id} {key}"

    @pg_errors
    def step_outputs(self, run_id: str) -> dict[str, dict[str, str]]:
        return outputs_in(self.load_state(run_id))
