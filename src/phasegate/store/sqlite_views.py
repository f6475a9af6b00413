"""The SQLite journal's reads for views: cursors, pages and the columns views poll.

They were SQL in the server's modules (metrics, the runs API, the dashboard); here they are
``JournalStore`` methods, so a view reads the same on every back end (issue 12 §2).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from phasegate.store.connect import damaged, friendly
from phasegate.store.records import RECORD_COLUMNS, RunHead, RunRecord, StoredEvent, record_from_row

P = ParamSpec("P")
R = TypeVar("R")

_HEAD_COLUMNS = "id, plan_name, status, created_at, updated_at, finished_at, last_seq"


def reads(method: Callable[P, R]) -> Callable[P, R]:
    """A read of the journal: SQLite errors become phasegate's (a damaged file says so and
    what to do, instead of an internal error)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise friendly(exc, _path(args)) from exc
        except json.JSONDecodeError as exc:
            raise damaged(_path(args), f"a stored value is not JSON ({exc})") from exc

    return wrapper


def _path(args: Any) -> Path:
    store = args[0]
    assert isinstance(store, SqliteViews)
    return store.path


def _head(row: tuple[Any, ...]) -> RunHead:
    return RunHead(
        id=str(row[0]),
        plan_name=str(row[1]),
        status=str(row[2]),
        created_at=float(row[3]),
        updated_at=float(row[4]),
        finished_at=None if row[5] is None else float(row[5]),
        last_seq=int(row[6]),
    )


class SqliteViews:
    db: sqlite3.Connection
    path: Path

    @reads
    def events_after(self, run_id: str, after: int, limit: int | None = None) -> list[StoredEvent]:
        out = []
        for seq, ts, etype, data in self.db.execute(
            "SELECT seq, ts, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq"
            " LIMIT ?",
            (run_id, after, -1 if limit is None else limit),  # LIMIT -1: no limit
        ).fetchall():
            try:
                out.append(StoredEvent(int(seq), float(ts), str(etype), json.loads(data)))
            except json.JSONDecodeError as exc:
                raise damaged(self.path, f"run {run_id} event #{seq} is not JSON") from exc
        return out

    @reads
    def runs_page(
        self,
        *,
        limit: int,
        plan: str | None = None,
        status: str | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[RunRecord]:
        query = f"SELECT {RECORD_COLUMNS} FROM runs WHERE 1=1"
        args: list[Any] = []
        if status:
            query += " AND status = ?"
            args.append(status)
        if plan:
            query += " AND plan_name = ?"
            args.append(plan)
        if before is not None:
            query += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            args += [before[0], before[0], before[1]]
        query += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(limit)
        return [record_from_row(row) for row in self.db.execute(query, args).fetchall()]

    @reads
    def run_heads(self) -> list[RunHead]:
        rows = self.db.execute(f"SELECT {_HEAD_COLUMNS} FROM runs ORDER BY created_at, id")
        return [_head(row) for row in rows.fetchall()]

    @reads
    def run_head(self, run_id: str) -> RunHead | None:
        row = self.db.execute(f"SELECT {_HEAD_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        found = row.fetchone()
        return None if found is None else _head(found)

    @reads
    def runs_marker(self) -> tuple[int, float | None]:
        count, newest = self.db.execute("SELECT count(*), max(updated_at) FROM runs").fetchone()
        return int(count), None if newest is None else float(newest)

    @reads
    def phase_statuses(self, run_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT json_extract(data, '$.status') FROM phases WHERE run_id = ?", (run_id,)
        )
        return [str(row[0]) for row in rows.fetchall()]
