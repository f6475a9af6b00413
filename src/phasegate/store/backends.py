"""Which store a state directory (later: a ``--store`` URL) opens: the one place that picks a
back end, so the engine, the CLI and the server never name one (issue 12 §2; PostgreSQL is
the next entry here)."""

from __future__ import annotations

from pathlib import Path

from phasegate.store.contract import JournalStore
from phasegate.store.sqlite import SqliteStore


def open_journal(state_dir: Path, *, readonly: bool = False) -> JournalStore:
    """The journal in ``state_dir`` (SQLite). ``readonly``: never creates, migrates or writes
    (for verbs that only read; store/connect.py says why)."""
    return SqliteStore(state_dir, readonly=readonly)
