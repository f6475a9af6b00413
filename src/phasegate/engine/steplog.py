"""Writing step logs through the store (``JournalStore.append_logs``) without slowing steps.

A step's lines arrive one by one from its pipes; one store write per line would put a
transaction (PostgreSQL: a round trip) on every line a build prints. The run's ``LogSink``
keeps what every running command printed and writes it in one ``append_logs`` when 64 KiB
are waiting, half a second after the first waiting byte, and when a command ends. The last
is the ordering rule: ``StepLog.close()`` writes the step's log before the step's end is
journalled, so whoever sees a step finished sees its whole log (on PostgreSQL, on any
machine).

Lines are masked before they are kept (``Masker.text``): no secret reaches the store.

The price of batching: an engine killed (SIGKILL, power loss) while a step runs loses at most
the last half second (or 64 KiB) of that step's log; the step itself is then ``unknown`` by
the journal's rules, and nothing of a finished step's log is ever lost.

Writing a log must never fail the rollout: a store that refuses it (a full disk, a lost
database) stops the run's logs with one console note; the console still streams and the run
carries on to record its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib

from phasegate.engine.console import Console
from phasegate.errors import StoreError
from phasegate.masking import Masker
from phasegate.store.contract import JournalStore
from phasegate.store.steplogs import LogChunk

FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 0.5


class LogSink:
    """The logs of one run's commands, batched into ``append_logs``."""

    def __init__(
        self,
        store: JournalStore,
        run_id: str,
        console: Console,
        *,
        flush_bytes: int = FLUSH_BYTES,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.console = console
        self.flush_bytes = flush_bytes
        self.flush_seconds = flush_seconds
        self.broken: str | None = None
        self.flushes = 0  # store writes so far (tests and benches read it)
        # One buffer per item: each item's log is its own stream, so only the order within an
        # item matters, and a flush is one chunk per item however many lines it holds.
        self._waiting: dict[str, bytearray] = {}
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None

    def location(self, key: str) -> str:
        return self.store.log_location(self.run_id, key)

    def append(self, key: str, data: bytes) -> None:
        if self.broken is not None or not data:
            return
        buffer = self._waiting.get(key)
        if buffer is None:
            buffer = self._waiting[key] = bytearray()
        buffer += data
        self._size += len(data)
        if self._size >= self.flush_bytes:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a synchronous caller): write now
                self.flush()
                return
            self._timer = loop.call_later(self.flush_seconds, self._timed)

    def _timed(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Write everything waiting, now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting:
            return
        waiting, self._waiting, self._size = self._waiting, {}, 0
        if self.broken is not None:
            return
        chunks: list[LogChunk] = [(key, bytes(data)) for key, data in waiting.items()]
        try:
            self.store.append_logs(self.run_id, chunks)
            self.flushes += 1
        except StoreError as exc:
            self.broken = exc.message
            with contextlib.suppress(Exception):
                self.console.note(f"logs of run {self.run_id} stopped: {self.broken}", "yellow")


class StepLog:
    """One attempt of one command's log: its header, written with its first line (a log per
    silent step would cost more than the step), then what it prints — up to ``limit`` bytes
    (the plan's ``defaults.log_limit``). Past it one line says so and the rest of what the
    command prints is counted, not kept (GitLab's runner does the same at its
    ``output_limit``): a runaway step cannot fill the journal's disk. The command runs on;
    its end line, always written, says how much was left out."""

    def __init__(
        self, sink: LogSink, masker: Masker, key: str, header: str, limit: int | None = None
    ) -> None:
        self.sink = sink
        self.masker = masker
        self.key = key
        self.header = header
        self.limit = limit
        self.created = False
        self.kept = 0  # bytes of the command's output written
        self.dropped = 0  # bytes past the limit, not written

    @property
    def location(self) -> str:
        return self.sink.location(self.key)

    @property
    def capped(self) -> bool:
        return self.dropped > 0

    def write(self, text: str, *, create: bool = True) -> bool:
        """Keep ``text`` (one or more whole lines) unless the limit is reached; False when
        it was left out (the caller's terminal echo follows the log)."""
        data = self.masker.text(text).encode("utf-8", "replace")
        if self.limit is not None and create:
            if self.dropped or self.kept + len(data) > self.limit:
                first = not self.dropped
                self.dropped += len(data)
                if first:
                    self._append(
                        f"[phasegate] log limit of {self.limit} bytes reached (defaults."
                        "log_limit): the rest of this command's output is not kept; it runs "
                        "on and its exit status counts\n".encode()
                    )
                return False
            self.kept += len(data)
        if not self.created and not create:
            return False
        self._append(data)
        return True

    def footer(self, text: str) -> None:
        """The attempt's end line (only for a log that exists), with what the limit left
        out."""
        if self.dropped:
            text = text.rstrip("\n") + f" ({self.dropped} bytes of output not kept)\n"
        self.write(text, create=False)

    def _append(self, data: bytes) -> None:
        if not self.created:
            self.created = True
            data = self.masker.text(self.header).encode("utf-8", "replace") + data
        self.sink.append(self.key, data)

    def close(self) -> None:
        """The log is in the store when this returns (before the step's end is journalled)."""
        if self.created:
            self.sink.flush()
