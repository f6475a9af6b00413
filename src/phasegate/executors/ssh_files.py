"""Read a host's files over its existing ssh connection, for the ``file`` and ``kpi`` host
gates of a fleet phase (engine/fleet_gates.py, docs/fleet.md "Host gates read the host").

One channel on the host's pooled connection (no new connection), started on the first read
and kept while the connection lives (``open_host_files``), runs one fixed, read-only script
(``PROBE``), through ``sudo -n`` with ``become`` as the host's steps do. Each request
is an operation name and its values, sent on the channel's stdin as data (``r``/``b`` lines,
read by the same ``d`` function as the bootstrap's: a value is never parsed as shell code);
the script answers with a begin marker, its data in base64 and an end marker carrying the
status and a short text, each marker tagged with a random nonce the host never chose. The
operations use read-only commands only: ``stat``, ``sha256sum``, ``grep -F``, ``find``
and ``head``. Relative paths are relative to where the host's commands start (the login's
home), as a host step's without ``cwd:``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from phasegate.executors.ssh import SshPool, SshTarget, Unreachable, remote_command
from phasegate.executors.ssh_scripts import READ_VALUE, value_line

# Per request: the operation, then its values; the answer is `@@pg-N-b`, the data in
# base64 (wrapped lines), then `@@pg-N-e STATUS INFO` (INFO: a short text, base64).
# stat: `%f %s` (raw mode in hex, size) following symlinks; sha: the content's digest;
# grep: 0 when the text occurs in the file (LC_ALL=C: bytes), 1 when not; list: the entries
# under a directory (`TYPE SIZE RELPATH\0`, TYPE following symlinks), at most LIMIT bytes of
# them; fetch: a regular file's first LIMIT bytes, status 3 and its size when it is larger.
PROBE = (
    "umask 077; exec 2>/dev/null; LC_ALL=C; export LC_ALL; "
    + READ_VALUE
    + "d; t=$v; while IFS= read -r o; do d; p=$v; i=; c=0; "
    # A relative path starting with `-` is no option to find (or anything else).
    'case $p in -*) p="./$p";; esac; '
    'printf "@@pg-%s-b\\n" "$t"; '
    "case $o in "
    'stat) i=$(stat -L -c "%f %s" -- "$p" 2>&1); c=$?;; '
    'sha) i=$(sha256sum <"$p" 2>&1); c=$?;; '
    'grep) d; i=$(grep -q -a -F -e "$v" <"$p" 2>&1); c=$?;; '
    'list) d; m=$v; d; l=$v; if [ ! -d "$p" ]; then c=1; i="not a directory"; '
    'elif [ -n "$m" ]; then find "$p" -mindepth 1 -maxdepth "$m" -printf "%Y %s %P\\0" '
    '2>/dev/null | head -c "$l" | base64; '
    'else find "$p" -mindepth 1 -printf "%Y %s %P\\0" 2>/dev/null | head -c "$l" | base64; fi;; '
    'fetch) d; l=$v; i=$(stat -L -c %s -- "$p" 2>&1); c=$?; if [ "$c" = 0 ]; then '
    'if [ ! -f "$p" ]; then c=5; i="not a regular file"; '
    'elif [ "$i" -gt "$l" ]; then c=3; '
    'elif [ ! -r "$p" ]; then c=4; i="Permission denied"; '
    'else head -c "$l" <"$p" | base64; fi; fi;; '
    '*) c=9; i="unknown operation";; esac; '
    'printf "\\n@@pg-%s-e %s " "$t" "$c"; printf "%s" "$i" | base64 -w0; echo; done'
)

REPORT_LIMIT = 16 * 1024 * 1024  # the largest file a host gate fetches (a report, a text)
LIST_LIMIT = 8 * 1024 * 1024  # the largest directory listing a host gate reads


def mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


class HostLost(Exception):
    """The host could not be reached, or its connection broke while a file was read."""


class HostFileError(Exception):
    """The host answered, but could not do what was asked (permissions, a file too big)."""


class NotAFile(HostFileError):
    """``fetch`` of a path that is no regular file (a directory, a device, ...)."""


@dataclass(frozen=True)
class HostStat:
    mode: int
    size: int


@dataclass(frozen=True)
class Entry:
    kind: str  # find's %Y: f, d, l (a dangling link), ...
    size: int
    path: str  # relative to the listed directory


@dataclass(frozen=True)
class _Answer:
    status: int
    info: str
    data: bytes


class HostFiles:
    """One host's files, read through one channel of its connection (``open_host_files``)."""

    def __init__(self, name: str, process: Any) -> None:
        self.name = name
        self._process = process
        self._nonce = secrets.token_hex(8)
        self._buffer = bytearray()
        self.broken = False  # a request started and did not end (cancelled, connection lost)
        self._process.stdin.write(value_line(self._nonce))

    async def stat(self, path: str) -> HostStat | None:
        """The path's mode and size (symlinks followed); None when it does not exist."""
        answer = await self._ask("stat", path)
        if answer.status != 0:
            if "No such file" in answer.info or "Not a directory" in answer.info:
                return None
            raise HostFileError(f"cannot stat {path} on {self.name}: {_reason(answer.info)}")
        mode, size = answer.info.split()
        return HostStat(int(mode, 16), int(size))

    async def sha256(self, path: str) -> str:
        answer = await self._ask("sha", path)
        if answer.status != 0:
            raise HostFileError(f"cannot read {path} on {self.name}: {_reason(answer.info)}")
        return answer.info.split()[0].lower()

    async def contains(self, path: str, text: str) -> bool:
        """Whether the file's bytes contain ``text`` (UTF-8): ``grep -F`` for one line of
        text; a text with a line break (grep matches lines) is looked for in the fetched file."""
        needle = text.encode()
        if not needle:
            return True
        if b"\n" in needle or b"\r" in needle or b"\0" in needle:
            return needle in await self.fetch(path)
        answer = await self._ask("grep", path, text)
        if answer.status in (0, 1):
            return answer.status == 0
        raise HostFileError(f"cannot read {path} on {self.name}: {_reason(answer.info)}")

    async def listing(self, path: str, depth: int | None) -> list[Entry]:
        """The entries under a directory (``depth`` levels; None: all), hidden ones too."""
        answer = await self._ask("list", path, "" if depth is None else str(depth), str(LIST_LIMIT))
        if answer.status != 0:
            raise HostFileError(f"cannot list {path} on {self.name}: {_reason(answer.info)}")
        if len(answer.data) >= LIST_LIMIT:
            raise HostFileError(
                f"{path} on {self.name} has more entries than a host gate reads "
                f"(a listing above {mib(LIST_LIMIT)})"
            )
        entries: list[Entry] = []
        for record in answer.data.split(b"\0"):
            kind, _, rest = record.partition(b" ")
            size, _, name = rest.partition(b" ")
            if name:
                entries.append(Entry(kind.decode(), int(size or 0), _fsdecode(name)))
        return entries

    async def fetch(self, path: str, limit: int = REPORT_LIMIT) -> bytes:
        """A regular file's content; above ``limit`` bytes an error naming the limit."""
        answer = await self._ask("fetch", path, str(limit))
        if answer.status == 3:
            raise HostFileError(
                f"{path} on {self.name} is {answer.info.strip()} bytes, above the "
                f"{mib(limit)} a host gate fetches"
            )
        if answer.status == 5:
            raise NotAFile(f"{path} on {self.name} is not a regular file")
        if answer.status != 0:
            if "No such file" in answer.info or "Not a directory" in answer.info:
                raise FileNotFoundError(path)
            raise HostFileError(f"cannot read {path} on {self.name}: {_reason(answer.info)}")
        return answer.data

    async def _ask(self, operation: str, *values: str) -> _Answer:
        import asyncssh  # loaded: a connection was made (executors/ssh.py, _import_asyncssh)

        self.broken = True
        begin = f"@@pg-{self._nonce}-b\n".encode()
        end = f"@@pg-{self._nonce}-e ".encode()
        try:
            self._process.stdin.write(operation.encode() + b"\n")
            for value in values:
                self._process.stdin.write(value_line(value))
            start = await self._until(begin)
            del self._buffer[: start + len(begin)]
            stop = await self._until(end)
            tail = await self._until(b"\n", stop + len(end))
        except EOFError:
            # The channel ended without answering: the connection broke, or the probe could
            # not run there (`sudo -n` asking for a password, no `sh`).
            code = self._process.exit_status
            if code is None:
                raise HostLost(
                    f"connection to {self.name} lost while reading {values[0]}"
                ) from None
            raise HostFileError(
                f"cannot read files on {self.name}: the reader exited with status {code} "
                "before answering"
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise HostLost(
                f"connection to {self.name} lost while reading {values[0]}: {exc}"
            ) from None
        data = base64.b64decode(bytes(self._buffer[:stop]))
        status, _, info = bytes(self._buffer[stop + len(end) : tail]).partition(b" ")
        del self._buffer[: tail + 1]
        self.broken = False
        return _Answer(int(status), base64.b64decode(info).decode(errors="replace"), data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._process.close()

    async def _until(self, marker: bytes, start: int = 0) -> int:
        """The index of ``marker`` in what the host sent, reading more until it comes."""
        scanned = start
        while True:
            found = self._buffer.find(marker, scanned)
            if found >= 0:
                return found
            scanned = max(start, len(self._buffer) - len(marker) + 1)
            chunk = await self._process.stdout.read(1 << 16)
            if not chunk:
                raise EOFError("the channel closed")
            self._buffer += chunk


def _reason(info: str) -> str:
    text = info.strip().splitlines()[-1] if info.strip() else "failed"
    return text.rsplit(": ", 1)[-1] if ": " in text else text


def _fsdecode(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


@dataclass
class _Slot:
    """A host's reader on one connection, used by one gate at a time."""

    conn: Any
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    files: HostFiles | None = None


@contextlib.asynccontextmanager
async def open_host_files(pool: SshPool, target: SshTarget) -> AsyncIterator[HostFiles]:
    """The host's file reader: a channel running ``PROBE`` on its pooled connection, started
    on first use and kept for the connection's life (the login's shell and its start-up file
    run once per host, not once per gate). A request interrupted (a timeout, a broken
    connection) leaves the channel in an unknown state: it is closed, the next use starts
    another. An unreachable host or a broken connection is ``HostLost``."""
    try:
        async with pool.use(target) as conn:
            slot = pool.readers.get(target.name)
            if not isinstance(slot, _Slot) or slot.conn is not conn:
                slot = pool.readers[target.name] = _Slot(conn)
            async with slot.lock:
                if slot.files is None:
                    try:
                        process = await conn.create_process(
                            remote_command(target, PROBE), encoding=None
                        )
                    except Exception as exc:
                        pool.forget(target.name)
                        raise HostLost(f"connection to {target.name} lost: {exc}") from None
                    pool.reader_starts += 1
                    slot.files = HostFiles(target.name, process)
                try:
                    yield slot.files
                finally:
                    if slot.files.broken:  # a request did not end: its answer may still come
                        slot.files.close()
                        slot.files = None
    except Unreachable as exc:
        raise HostLost(f"{target.name} unreachable: {exc}") from None
