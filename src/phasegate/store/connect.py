"""Opening the SQLite journal: for writing (checked, migrated) or for reading (read-only).

Why two modes. A verb that only reads (status, history, logs, report, check) opens the file
with ``mode=ro``: it never creates, migrates or switches journal modes, so it works on a full
disk and cannot damage anything. A verb that writes runs ``PRAGMA integrity_check`` first and
refuses a damaged file (``JournalDamaged``, exit 65) before any step runs against it; SQLite's
own advice for a corrupt database is to stop writing to it and recover a copy
(https://sqlite.org/recovery.html). Not ``quick_check``: on journals with 40 flipped bytes it
answered "ok" for rows out of primary-key order and NULLs in the ``events`` table (a WITHOUT
ROWID table) that integrity_check reports, and it saves little: 0.13 s against 0.20 s on a
64 MB journal of 20,000 runs (docs/performance.md). Neither decodes text: a flipped byte inside
a stored string is found when that row is read (a clear ``JournalDamaged``) and by
``phasegate check``, which decodes every row.

A journal that is missing or 0 bytes long while ``runs/`` holds run directories was lost (a
truncation, a restore gone wrong): starting a fresh journal there would silently forget every
run, locks included, so both modes refuse it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

from phasegate.errors import (
    JournalDamaged,
    JournalFull,
    JournalWriteFailed,
    SchemaTooNew,
    StoreError,
)
from phasegate.store.migrations import ADDITIVE, MIGRATIONS

FULL_BELOW = 256 * 1024  # free bytes under which an I/O error is taken for a full disk
# Messages of sqlite3.DatabaseError that mean the file's content is wrong, not the call.
_DAMAGE = ("malformed", "not a database", "corrupt", "could not decode", "file is encrypted")


def recovery_hint(path: Path) -> str:
    return (
        f"stop using it and keep a copy; restore {path.name} from a backup, or salvage what "
        f"SQLite can read: `sqlite3 {path} .recover | sqlite3 {path}.recovered` and move the "
        "result into place; `phasegate check` lists what is damaged"
    )


def damaged(path: Path, what: str) -> JournalDamaged:
    return JournalDamaged(f"journal {path} is damaged: {what}", hint=recovery_hint(path))


def friendly(
    exc: sqlite3.Error | UnicodeDecodeError, path: Path, *, writing: bool = False
) -> StoreError:
    """Translate a SQLite error into phasegate's error tree. A UnicodeDecodeError is how
    Python reports a stored text (or SQLite's message about damage) that is not UTF-8."""
    if isinstance(exc, UnicodeDecodeError):
        return damaged(path, "a stored text is not valid UTF-8")
    text = str(exc)
    lowered = text.lower()
    if "full" in lowered or (_io_error(exc) and _disk_full(path)):
        return JournalFull(
            f"journal {path}: disk is full; nothing was lost, the run stops at its last "
            "durable event",
            hint="free space, then `phasegate resume RUN`",
        )
    if any(word in lowered for word in _DAMAGE):
        column = re.search(r"column '([^']+)'", text)
        if "could not decode" in lowered:
            where = f" (column {column.group(1)!r})" if column else ""
            return damaged(path, f"a stored text is not valid UTF-8{where}")
        return damaged(path, text)
    if "locked" in lowered or "busy" in lowered:
        return StoreError(f"journal {path} is busy: {text}", hint="retry in a moment")
    if writing:
        return JournalWriteFailed(
            f"journal {path}: cannot write: {text}; the run stops at its last durable event",
            hint="fix the file system (permissions, read-only mount, I/O errors), then "
            "`phasegate resume RUN`",
        )
    return StoreError(f"journal {path}: {text}")


def run_directories(state_dir: Path) -> int:
    runs = state_dir / "runs"
    try:
        return sum(1 for entry in runs.iterdir() if entry.is_dir())
    except OSError:
        return 0


def refuse_lost(path: Path) -> None:
    """A missing or empty journal beside existing run directories was lost, not new."""
    try:
        size: int | None = path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError as exc:
        raise StoreError(f"cannot read the journal at {path}: {exc}") from exc
    if size:
        return
    count = run_directories(path.parent)
    if count:
        state = "missing" if size is None else "0 bytes long"
        raise JournalDamaged(
            f"journal {path} is {state} but {path.parent / 'runs'} holds {count} run "
            "director" + ("y" if count == 1 else "ies") + "; a new empty journal would forget "
            "those runs and their locks",
            hint=f"restore {path.name} from a backup; to really start over, move "
            f"{path.parent / 'runs'} aside first",
        )


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A read-only connection; an absent journal reads as an empty one (in memory)."""
    refuse_lost(path)
    if not path.exists():
        return _empty()
    try:
        try:
            db, tables, version = _probe(f"{path.resolve().as_uri()}?mode=ro")
        except sqlite3.OperationalError as exc:
            if not _wal_is_empty(path) or not _io_error(exc):
                raise
            # A read-only connection to a WAL journal needs a shared-memory file (-shm) it can
            # size; on a full disk it cannot. With no WAL content every committed transaction
            # is in the main file, which SQLite then reads as an immutable file (no locks, no
            # -shm): nobody can commit meanwhile, the disk being full.
            db, tables, version = _probe(f"{path.resolve().as_uri()}?immutable=1")
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise friendly(exc, path) from exc
    if version > len(MIGRATIONS):
        db.close()
        raise _too_new(path, version)
    if version < len(MIGRATIONS):
        if tables and all(n in ADDITIVE for n in range(version + 1, len(MIGRATIONS) + 1)):
            return db  # what it lacks are tables a reader sees as empty (migrations.ADDITIVE)
        db.close()
        if tables == 0:
            return _empty()  # created by another process a moment ago, no schema yet
        raise StoreError(
            f"the journal at {path} has schema {version}; this phasegate reads {len(MIGRATIONS)}",
            hint="a verb that writes (run, resume) migrates it first",
        )
    return db


def _probe(uri: str) -> tuple[sqlite3.Connection, int, int]:
    db = sqlite3.connect(uri, uri=True, timeout=30)
    db.isolation_level = None
    try:
        db.execute("PRAGMA busy_timeout = 30000")
        # One read transaction: a migration committing between two reads would otherwise show
        # tables without a schema version.
        db.execute("BEGIN")
        row = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        version = _schema_version(db)
        db.execute("ROLLBACK")
    except BaseException:
        db.close()
        raise
    return db, int(row[0]), version


def _wal_is_empty(path: Path) -> bool:
    try:
        return Path(f"{path}-wal").stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _io_error(exc: sqlite3.Error) -> bool:
    return str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_IOERR")


def _disk_full(path: Path) -> bool:
    """SQLite reports a full disk met while sizing its -shm file as an I/O error."""
    try:
        return shutil.disk_usage(path.parent).free < FULL_BELOW
    except OSError:
        return False


def create_private(path: Path) -> None:
    """Create a database file 0600 if it does not exist yet; never open an existing one.
    (Closing any descriptor of a file drops every POSIX lock this process holds on it,
    SQLite's own included: touching a database another connection here has open would
    break its locking.)"""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def open_for_writing(path: Path) -> sqlite3.Connection:
    """A checked, migrated connection in WAL mode; refuses a damaged or lost journal."""
    try:
        # The journal holds plans with their literal secrets: private to its user (0700
        # directory when created here, 0600 file; SQLite gives -wal and -shm its mode).
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(
            f"cannot open the journal at {path}: {exc}",
            hint="check --state-dir / $PHASEGATE_HOME and permissions",
        ) from exc
    refuse_lost(path)
    try:
        create_private(path)
    except OSError as exc:
        raise StoreError(
            f"cannot create the journal at {path}: {exc}",
            hint="check --state-dir / $PHASEGATE_HOME and permissions",
        ) from exc
    try:
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(
            f"cannot open the journal at {path}: {exc}",
            hint="check --state-dir / $PHASEGATE_HOME and permissions",
        ) from exc
    try:
        db.execute("PRAGMA busy_timeout = 30000")
        problems = integrity_problems(db, 5)
        if problems != ["ok"]:
            raise damaged(path, "SQLite's integrity_check found: " + "; ".join(problems))
        _enable_wal(db)
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, path)
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        db.close()
        error = friendly(exc, path)
        if isinstance(error, JournalFull):  # no run has started: say so, not "resume"
            raise StoreError(  # exit 2: nothing ran
                f"cannot open the journal {path}: the disk is full; nothing ran",
                hint="free space, then run the command again",
            ) from exc
        raise error from exc
    except StoreError:
        db.close()
        raise
    return db


def integrity_problems(db: sqlite3.Connection, limit: int) -> list[str]:
    """``PRAGMA integrity_check``: ``["ok"]`` or up to ``limit`` problems. Its messages quote
    damaged bytes, which need not be UTF-8; a file too damaged to check is itself a problem."""
    db.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        return [str(row[0]) for row in db.execute(f"PRAGMA integrity_check({int(limit)})")]
    except sqlite3.DatabaseError as exc:
        if not any(word in str(exc).lower() for word in _DAMAGE):
            raise  # a full disk, a lock, an I/O error: not a finding about the file
        return [str(exc)]
    except UnicodeDecodeError:
        # SQLite's error message itself quotes damaged bytes; Python cannot decode it.
        return ["the file is too damaged to check (SQLite's message is not UTF-8)"]
    finally:
        db.text_factory = str


def _empty() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    _migrate(db, Path(":memory:"))
    return db


def _schema_version(db: sqlite3.Connection) -> int:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return 0
    return int(row[0]) if row else 0


def _too_new(path: Path, version: int) -> StoreError:
    return SchemaTooNew(
        f"the journal at {path} has schema {version}; this phasegate knows up to {len(MIGRATIONS)}",
        hint="upgrade phasegate",
    )


def _enable_wal(db: sqlite3.Connection) -> None:
    # Switching a new database to WAL takes an exclusive lock that SQLite's busy handler
    # does not wait for; processes opening a fresh journal at once retry here instead.
    deadline = time.monotonic() + 30
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    # Read first: opening an up-to-date journal must not write (it may be on a full disk).
    if _schema_version(db) == len(MIGRATIONS):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        version = _schema_version(db)
        if version > len(MIGRATIONS):
            raise _too_new(path, version)
        for number in range(version, len(MIGRATIONS)):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(len(MIGRATIONS)),)
        )
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
