"""Connecting to PostgreSQL: the URL (checked, its password masked in every message), the
connection, and psycopg's errors translated into phasegate's tree (store/contract.py: no
driver exception escapes a store).

A URL is ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE?OPTIONS`` (``postgres://`` and
SQLAlchemy's ``postgresql+psycopg://`` are accepted too); every libpq option works
(``sslmode=require``, ``connect_timeout``…), and ``$PGPASSWORD``/``~/.pgpass`` keep the
password out of the URL, as libpq documents.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg

from phasegate.errors import (
    JournalDamaged,
    JournalFull,
    JournalWriteFailed,
    StoreError,
    UsageError,
)
from phasegate.store.postgres.ownership import SESSION_OPTIONS

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
CONNECT_TIMEOUT = 10  # seconds: an unreachable host is an error, not a hang

P = ParamSpec("P")
R = TypeVar("R")


def is_postgres_url(value: str) -> bool:
    return value.strip().split("://", 1)[0].lower() in SCHEMES and "://" in value


def mask(url: str) -> str:
    """The URL with its password (in the authority or a ``password=`` option) as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"://[^@/]*@", "://***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = parts.query
    if "password" in query.lower():
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def normalize(url: str, *, field: str = "--store") -> str:
    """The URL libpq accepts (``postgresql://``), or a ``UsageError`` naming ``field``."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise UsageError(
            f"{field}: {mask(url)!r} is not a PostgreSQL URL",
            hint="write postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
        )
    libpq = "postgresql://" + rest
    try:
        parts = urlsplit(libpq)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        psycopg.conninfo.conninfo_to_dict(libpq)
    except (ValueError, psycopg.Error) as exc:
        reason = str(exc).replace(rest, "…") if rest else str(exc)
        raise UsageError(
            f"{field}: {mask(url)!r} is not a valid PostgreSQL URL ({_masked(reason, url)})",
            hint="write postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
        ) from exc
    if not parts.hostname and "host=" not in parts.query:
        raise UsageError(
            f"{field}: {mask(url)!r} names no host",
            hint="write postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
        )
    return libpq


def _masked(text: str, url: str) -> str:
    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def connect(url: str, where: str) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection (transactions are explicit: ``with conn.transaction()``)."""
    # The server probes an idle client (ownership.SESSION_OPTIONS), so a vanished host's
    # session, and the run locks it held, end in seconds; the URL's own options are kept.
    try:
        given = psycopg.conninfo.conninfo_to_dict(url).get("options")
    except psycopg.Error:
        given = None
    options = f"{given} {SESSION_OPTIONS}" if given else SESSION_OPTIONS
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="phasegate",
            options=options,
        )
    except psycopg.Error as exc:
        reason = " ".join(_masked(str(exc), url).split())
        raise StoreError(
            f"cannot connect to the PostgreSQL store {where}: {reason}",
            hint="check the URL (host, port, database, user, password), that the server "
            "runs and accepts connections from this host",
        ) from exc


def translate(exc: psycopg.Error, where: str, *, writing: bool = False) -> StoreError:
    """A psycopg error as phasegate's: a lost connection or a refused write stops a run at
    its last durable event (resumable), as a full or failing disk does with SQLite."""
    text = str(exc).strip().replace("\n", " ")
    if isinstance(exc, pg.DiskFull | pg.OutOfMemory):
        return JournalFull(
            f"PostgreSQL store {where}: the server is out of space ({text}); nothing was "
            "lost, the run stops at its last durable event",
            hint="free space on the database server, then `phasegate resume RUN`",
        )
    if isinstance(exc, pg.DataCorrupted | pg.IndexCorrupted):
        return JournalDamaged(
            f"PostgreSQL store {where} is damaged: {text}",
            hint="stop using it; restore the database from a backup",
        )
    if isinstance(exc, psycopg.OperationalError | pg.ReadOnlySqlTransaction) and writing:
        return JournalWriteFailed(
            f"PostgreSQL store {where}: cannot write: {text}; the run stops at its last "
            "durable event",
            hint="check the database server and the connection, then `phasegate resume RUN`",
        )
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(
            f"PostgreSQL store {where}: {text}",
            hint="check that the database server runs and is reachable, then retry",
        )
    return StoreError(f"PostgreSQL store {where}: {text}")


def pg_errors(method: Callable[P, R]) -> Callable[P, R]:
    """A store method whose psycopg errors become phasegate's (reads; writes translate in
    their transaction, with ``writing=True``)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except psycopg.Error as exc:
            own = getattr(args[0], "failure", None)
            if own is not None:
                raise own(exc) from exc
            raise translate(exc, str(getattr(args[0], "location", "?"))) from exc

    return wrapper
