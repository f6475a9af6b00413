"""The ``sql`` check: run one query, then compare its row count or its first value.

Plan syntax::

    - sql: SELECT id FROM orders WHERE total < 0       # ${VAR}s expand (textually)
      database: ${STATE}/app.db                       # a SQLite file, relative to the plan
      expect: {empty: true}                           # "should return 0 rows"
    - sql: SELECT count(*) FROM users
      database: postgresql://app@db/app               # anything with :// is a SQLAlchemy URL
      expect:
        rows: 1                                       # row count: a number or a comparison
        scalar: {">": 0}                              # first column of the first row
        empty: false

Without ``expect`` the check passes when the query runs. A SQLite file is opened read-only and
is never created; through a URL the query runs in a transaction that is rolled back. A missing
database, a failing query or a missing driver is ``error``: the check could not look.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from phasegate.checks._support import (
    comparison,
    expand_all,
    jsonable,
    observation,
    resolve_path,
    time_limit,
    words,
)
from phasegate.checks.base import CheckSpec, Observation
from phasegate.compare import matches
from phasegate.options import Model
from phasegate.plugin import PluginContext, hide_password, one_line
from phasegate.run.record import JsonDict

SAMPLE_ROWS = 3


class QueryError(Exception):
    """The database could not answer; becomes an ``error`` observation."""


class SqlExpect(Model):
    rows: Any = Field(
        None, description="number of rows returned: a number or a comparison such as {'<': 10}"
    )
    scalar: Any = Field(None, description="first column of the first row: a value or a comparison")
    empty: bool | None = Field(None, description="the query returns no rows (true) or some")

    @field_validator("rows")
    @classmethod
    def _rows(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | dict):
            raise ValueError("rows must be a number or a comparison such as {'>=': 1}")
        return comparison(value)

    @field_validator("scalar")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        return None if value is None else comparison(value)


class SqlCheck(CheckSpec):
    """A SQL query's result: row count, emptiness or first value."""

    kind: ClassVar[str] = "sql"

    sql: str = Field(min_length=1, description="the query; ${VAR}s expand textually")
    database: str = Field(
        min_length=1,
        description="a SQLite file (relative to the plan's directory, opened read-only) "
        "or a SQLAlchemy URL such as postgresql://user@host/db",
    )
    expect: SqlExpect = Field(default_factory=SqlExpect, description="what must hold")

    def describe(self) -> str:
        query = one_line(self.sql, 60)
        return self.name or f"sql on {hide_password(self.database)}: {query}"

    def expectation(self) -> str:
        e = self.expect
        parts = []
        if e.empty is not None:
            parts.append("no rows" if e.empty else "some rows")
        if e.rows is not None:
            parts.append(f"rows {words(e.rows)}")
        if e.scalar is not None:
            parts.append(f"scalar {words(e.scalar)}")
        return ", ".join(parts) or "query runs"

    async def evaluate(self, ctx: PluginContext) -> Observation:
        query = ctx.expand(self.sql)
        database = ctx.expand(self.database)
        limit = time_limit(self, ctx)
        if "://" in database:
            where = hide_password(database)
            work = asyncio.to_thread(_via_sqlalchemy, database, query, ctx.plan_dir)
        else:
            where = resolve_path(ctx, self.database)
            work = asyncio.to_thread(_via_sqlite, where, query, time.monotonic() + limit)
        observed: JsonDict = {"database": where}
        try:
            columns, count, sample = await asyncio.wait_for(work, limit)
        except TimeoutError:
            message = f"{where}: the query did not finish in {limit:g}s"
            return observation(ctx, "error", observed, message)
        except QueryError as exc:
            return observation(ctx, "error", observed, f"{where}: {exc}")
        first = dict(zip(columns, sample[0], strict=False)) if sample else None
        scalar = sample[0][0] if sample and sample[0] else None
        observed.update(
            rows=count, first_row=jsonable(first), scalar=jsonable(scalar), columns=list(columns)
        )
        e = self.expect
        problems = []
        if e.empty is not None and (count == 0) != e.empty:
            problems.append(f"expected {'no' if e.empty else 'some'} rows, got {count}")
        if e.rows is not None and not matches(count, expand_all(e.rows, ctx.expand)):
            problems.append(f"expected {words(e.rows)} rows, got {count}")
        if e.scalar is not None:
            expected = expand_all(e.scalar, ctx.expand)
            if not matches(scalar, expected):
                problems.append(f"expected scalar {words(expected)}, got {scalar!r}")
        if problems:
            shown = f" (first row: {observed['first_row']})" if first else ""
            message = f"{where}: {'; '.join(problems)}{shown}"
            return observation(ctx, "failed", observed, message)
        message = f"{where}: {count} rows, {self.expectation()}"
        return observation(ctx, "passed", observed, message)


def _collect(columns: list[str], rows: Iterable[Sequence[Any]]) -> tuple[list[str], int, list[Any]]:
    # Every row is counted but only a few are kept: an invariant query may return millions.
    count = 0
    sample: list[Any] = []
    for row in rows:
        if count < SAMPLE_ROWS:
            sample.append(tuple(row))
        count += 1
    return columns, count, sample


def _via_sqlite(path: str, query: str, deadline: float) -> tuple[list[str], int, list[Any]]:
    if not os.path.isfile(path):
        raise QueryError("no such database file" if not os.path.exists(path) else "not a file")
    uri = Path(path).as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as conn:
            # The thread outlives asyncio's timeout; this makes SQLite abandon the query too.
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            cursor = conn.execute(query)
            columns = [d[0] for d in cursor.description or ()]
            return _collect(columns, cursor)
    except sqlite3.Error as exc:
        raise QueryError(one_line(str(exc))) from exc


def _via_sqlalchemy(url: str, query: str, plan_dir: str) -> tuple[list[str], int, list[Any]]:
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        parsed = sqlalchemy.make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise QueryError(f"invalid database URL: {exc}") from exc
    name = parsed.database
    if parsed.get_backend_name() == "sqlite" and name and name != ":memory:":
        # SQLite would create a missing file, and resolve a relative one against the cwd.
        path = os.path.join(plan_dir, name)
        if not os.path.isfile(path):
            raise QueryError(f"no such database file: {path}")
        parsed = parsed.set(database=path)
    try:
        engine = sqlalchemy.create_engine(parsed)
    except NoSuchModuleError as exc:
        raise QueryError(f"no driver for {parsed.drivername!r}: {exc}") from exc
    except (ArgumentError, ImportError) as exc:
        raise QueryError(f"cannot use {parsed.drivername!r}: {exc}") from exc
    try:
        with engine.connect() as conn:
            result = conn.execute(sqlalchemy.text(query))
            if not result.returns_rows:
                return [], 0, []
            return _collect(list(result.keys()), result)
    except SQLAlchemyError as exc:
        raise QueryError(one_line(str(getattr(exc, "orig", None) or exc))) from exc
    finally:
        engine.dispose()
