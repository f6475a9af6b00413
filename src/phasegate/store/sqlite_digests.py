"""Durations digests in the SQLite journal (``SqliteStore``'s part of the contract;
store/digests.py). A table of its own (migration 4): the journal's append path is untouched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phasegate.store.digests import HISTORY_COLUMNS, HistoryRow, dump_digest, history_from_row
from phasegate.store.sqlite_views import reads


class SqliteDigests:
    """Mixed into ``SqliteStore``: it uses its connection and ``write`` (declared here for the
    type checker only, so nothing here shadows them)."""

    db: sqlite3.Connection
    path: Path

    if TYPE_CHECKING:

        def write(self, durable: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...

    _has_digests = False

    def _digests_exist(self) -> bool:
        """A journal opened read-only before migration 4 has no digest table: its runs have no
        digests (migrations.ADDITIVE). Once seen, the table stays."""
        if not self._has_digests:
            found = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_digests'"
            ).fetchone()
            self._has_digests = found is not None
        return self._has_digests

    @reads
    def finished_runs(
        self, plan: str, *, limit: int, before: tuple[float, str] | None = None
    ) -> list[HistoryRow]:
        if self._digests_exist():
            query = (
                f"SELECT {HISTORY_COLUMNS} FROM runs r"
                " LEFT JOIN run_digests d ON d.run_id = r.id"
                " WHERE r.plan_name = ? AND r.finished_at IS NOT NULL"
            )
        else:
            query = (
                "SELECT r.id, r.plan_name, r.status, r.created_at, r.finished_at, r.last_seq,"
                " NULL, NULL FROM runs r WHERE r.plan_name = ? AND r.finished_at IS NOT NULL"
            )
        args: list[Any] = [plan]
        if before is not None:
            query += " AND (r.created_at < ? OR (r.created_at = ? AND r.id < ?))"
            args += [before[0], before[0], before[1]]
        query += " ORDER BY r.created_at DESC, r.id DESC LIMIT ?"
        args.append(limit)
        return [history_from_row(row) for row in self.db.execute(query, args).fetchall()]

    def save_digests(self, digests: Sequence[tuple[str, int, Mapping[str, object]]]) -> None:
        if not digests:
            return
        # Not durable: a digest lost in a crash is computed again from the journal.
        with self.write(durable=False) as db:
            db.executemany(
                "INSERT INTO run_digests (run_id, last_seq, data)"
                " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?)"
                " ON CONFLICT (run_id) DO UPDATE SET last_seq = excluded.last_seq,"
                " data = excluded.data",
                [(run_id, seq, dump_digest(data), run_id) for run_id, seq, data in digests],
            )
