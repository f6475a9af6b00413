"""Step logs in the store contract (issue 12 §3): what a step printed, readable from any
machine that opens the store.

A log belongs to one item of a run (a step, a rollback action, a monitor: its ``key``) and is
one byte stream: stdout and stderr interleaved in the order they were read, stderr lines
prefixed ``[stderr]`` (as the console shows them; two streams would lose that order), each
attempt after a ``=== KEY attempt N`` header. Writers append chunks, already masked (the
engine masks every line before it reaches a chunk: no secret is ever stored); readers read
from a byte offset, so a tail reads only what is new.

Where the bytes live is the back end's choice: SQLite keeps them as files under
``state_dir/runs/RUN/logs/`` (``FileLogs``: appending a file costs less than a transaction
competing with the journal's one writer, and the files are what `phasegate` always wrote);
PostgreSQL keeps them in a chunked table (store/postgres/logs.py); the memory store in a dict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from phasegate.errors import StoreError
from phasegate.run.state import RunState

LogChunk = tuple[str, bytes]  # (item key, bytes already masked), appended at the log's end


def safe_name(key: str) -> str:
    """An item key as a file name (``phase/step`` → ``phase_step``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_") or "item"


@dataclass(frozen=True)
class LogSlice:
    """Bytes of an item's log from an offset: ``data`` and ``end``, the offset after it (read
    again from ``end`` to get what was appended since)."""

    data: bytes
    end: int

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def outputs_in(state: RunState) -> dict[str, dict[str, str]]:
    """The outputs each step recorded with its end (``item.finished``), by item key: the
    journal is their one copy, so every back end reads them from the fold."""
    found = {}
    for key, item in state.items.items():
        values = item.data.get("outputs")
        if item.kind == "step" and isinstance(values, dict) and values:
            found[key] = {str(name): str(value) for name, value in values.items()}
    return found


class FileLogs:
    """Logs as files under ``state_dir/runs/RUN/logs/`` (the SQLite store's choice)."""

    state_dir: Path

    def log_location(self, run_id: str, key: str) -> str:
        return str(self._log_file(run_id, key))

    def _log_file(self, run_id: str, key: str) -> Path:
        return self.state_dir / "runs" / run_id / "logs" / f"{safe_name(key)}.log"

    def append_logs(self, run_id: str, chunks: Sequence[LogChunk]) -> None:
        by_file: dict[Path, list[bytes]] = {}
        for key, data in chunks:
            by_file.setdefault(self._log_file(run_id, key), []).append(data)
        try:
            for path, parts in by_file.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("ab") as handle:
                    handle.write(b"".join(parts))
        except OSError as exc:
            raise StoreError(f"cannot write the log {path}: {exc.strerror or exc}") from exc

    def read_log(self, run_id: str, key: str, offset: int = 0) -> LogSlice:
        try:
            with self._log_file(run_id, key).open("rb") as handle:
                if offset < 0:
                    offset = max(handle.seek(0, 2) + offset, 0)
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return LogSlice(b"", max(offset, 0))
        except OSError as exc:
            raise StoreError(f"cannot read the log of {key}: {exc.strerror or exc}") from exc
        return LogSlice(data, offset + len(data))
