"""Run commands on remote hosts over SSH (asyncssh), under the same supervisor as local steps.

What reaches the host, and how:

- The remote command line is always the same fixed bootstrap (``BOOTSTRAP``, plus ``sudo -n``
  for ``become``): no variable, no secret, no step text is ever spliced into shell text
  there. Everything else (the environment, the working directory, the status file, the
  supervisor and the step's argv) is sent on the channel's stdin, one base64 line per value,
  and the bootstrap reads each into a shell variable (``read`` and ``base64 -d``: a value is
  data, never parsed as code) before closing stdin.
- The step runs detached (``setsid``) under the supervisor of ``executors.supervisor``, with
  its output in files beside its status file under the run directory on the host; the
  bootstrap streams those files back (``tail --pid``). So when the controller dies
  (``kill -9``), the step is not killed by a closed channel: it finishes and its supervisor
  writes ``<status> end`` to the status file, and ``read_remote_status`` resolves the step on
  resume (docs/fleet.md, "Crash safety").
- Host keys are checked strictly against ``known_hosts`` by default; keys come from the
  ``identity`` files and the agent; connections have a connect timeout and keepalives, are
  reused across steps, and the pool holds at most ``max_connections`` of them (idle ones are
  closed, least recently used first, to make room).

A connection that cannot be made is an *unreachable* result (``ProcessResult.unreachable``),
which fleet phases count by their ``unreachable:`` policy; never an exception.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import glob
import math
import os
import platform
import re
import secrets
import shlex
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from phasegate.executors.base import OutputSink, ProcessResult
from phasegate.executors.ssh_agent import Agent, Collector
from phasegate.executors.ssh_scripts import AGENT, BOOTSTRAP, payload
from phasegate.executors.stopping import KILL_GRACE, StopRequest
from phasegate.executors.supervisor import StatusRecord

# asyncssh is imported where a connection is made, not with this module (which every `run`
# loads through the engine): importing it costs 0.1-0.7 s, mostly its post-quantum module
# looking for liboqs with ctypes.util.find_library, which runs ldconfig, gcc and ld. A run
# without hosts never needs it (bench/run.py, the fixed cost of a run).
if TYPE_CHECKING:
    import asyncssh

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LIB_DIRS = (
    "/usr/local/lib",
    "/usr/local/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    f"/usr/lib/{platform.machine()}-linux-gnu",
    f"/lib/{platform.machine()}-linux-gnu",
)


_ASYNCSSH_LIBS = ("oqs", "liboqs", "nettle", "libnettle", "libnettle-6")


def _import_asyncssh() -> None:
    """``import asyncssh``, without the child processes its import starts: it asks
    ``ctypes.util.find_library`` for liboqs (post-quantum key exchange) and libnettle (UMAC),
    which on Linux runs ``ldconfig -p``, then ``gcc`` and ``ld`` for each name not found
    (~25 processes: 0.1-0.7 s of a run's start under load, and ~60 MB in the run's process
    tree). Those two are looked for here as files in the library directories (and
    ``$LD_LIBRARY_PATH``) instead: installed there, they are used as before."""
    if "asyncssh" in sys.modules:
        return
    import ctypes.util

    original = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        if name not in _ASYNCSSH_LIBS:
            return original(name)
        stem = name if name.startswith("lib") else f"lib{name}"
        extra = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
        for directory in (*extra, *_LIB_DIRS):
            found = sorted(glob.glob(os.path.join(directory, f"{stem}.so*")))
            if found:
                return found[0]
        return None

    ctypes.util.find_library = find_library
    try:
        import asyncssh  # noqa: F401 - imported for its side effect: sys.modules
    finally:
        ctypes.util.find_library = original


@dataclass(frozen=True)
class SshTarget:
    """One host as the executor reaches it."""

    name: str  # the inventory name (journal keys, logs)
    address: str
    port: int = 22
    user: str | None = None
    identity: tuple[str, ...] = ()
    known_hosts: str | None = None  # None: ~/.ssh/known_hosts
    insecure: bool = False  # accept any host key
    agent: bool = True
    connect_timeout: float = 10.0
    keepalive: float = 15.0
    become: bool = False
    become_user: str | None = None


class Unreachable(Exception):
    """A connection that could not be made (refused, timed out, host key, authentication)."""


@dataclass
class _Entry:
    conn: asyncssh.SSHClientConnection
    users: int = 0
    # The connection's remote agent (ssh_agent.py), started on first use; None until then,
    # False when it could not start (every command then has a channel of its own).
    agent: Agent | bool | None = None
    starting: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class SshPool:
    """A run's connections, one per host, reused across steps, at most ``limit`` open."""

    limit: int = 20
    _open: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    _changed: asyncio.Condition | None = None
    connects: int = 0  # connections made (for tests and benches: reuse shows here)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    agents: bool = True  # run commands through one remote agent per connection
    agent_starts: int = 0  # agents started (for tests and benches)
    record_reads: int = 0  # channels that read supervisor records (read_remote_records)
    # Each host's file reader (ssh_files.py: one channel per connection, kept for the run).
    readers: dict[str, Any] = field(default_factory=dict)
    reader_starts: int = 0  # file readers started (for tests and benches)

    @contextlib.asynccontextmanager
    async def use(self, target: SshTarget) -> Any:
        entry = await self._acquire(target)
        try:
            yield entry.conn
        finally:
            entry.users -= 1
            async with self._condition():
                self._condition().notify_all()

    @contextlib.asynccontextmanager
    async def session(self, target: SshTarget) -> Any:
        """The connection and, when free, its agent (locked for this command); else None
        (the agent is busy with another command on this host, or cannot run there)."""
        entry = await self._acquire(target)
        agent: Agent | None = None
        try:
            if self.agents:
                agent = await self._agent(entry, target)
                if agent is not None and agent.lock.locked():
                    agent = None
            if agent is None:
                yield entry.conn, None
            else:
                async with agent.lock:
                    yield entry.conn, agent
        finally:
            entry.users -= 1
            async with self._condition():
                self._condition().notify_all()

    async def _agent(self, entry: _Entry, target: SshTarget) -> Agent | None:
        async with entry.starting:
            if isinstance(entry.agent, Agent) and not entry.agent.gone:
                return entry.agent
            if entry.agent is False:
                return None
            try:
                process = await entry.conn.create_process(
                    remote_command(target, AGENT), encoding="utf-8", errors="replace"
                )
            except Exception:  # an old server refusing more sessions: channels per command
                entry.agent = False
                return None
            entry.agent = Agent(process)
            self.agent_starts += 1
            return entry.agent

    async def _acquire(self, target: SshTarget) -> _Entry:
        cond = self._condition()
        async with cond:
            while True:
                entry = self._open.get(target.name)
                if entry is not None and not _closed(entry.conn):
                    entry.users += 1
                    self._open.move_to_end(target.name)
                    return entry
                if entry is not None:
                    del self._open[target.name]
                if len(self._open) < self.limit:
                    break
                idle = next((k for k, e in self._open.items() if e.users == 0), None)
                if idle is not None:
                    self._open.pop(idle).conn.close()
                    break
                await cond.wait()
        conn = await connect(target)
        self.connects += 1
        async with cond:
            entry = _Entry(conn, users=1)
            old = self._open.get(target.name)
            if old is not None:  # another task connected meanwhile: keep one
                conn.close()
                old.users += 1
                return old
            self._open[target.name] = entry
            return entry

    def forget(self, name: str) -> None:
        """Drop a host's connection (it broke): the next use reconnects."""
        entry = self._open.pop(name, None)
        if entry is not None:
            entry.conn.close()

    async def close(self) -> None:
        entries = list(self._open.values())
        self._open.clear()
        for entry in entries:
            entry.conn.close()
        for entry in entries:
            with contextlib.suppress(Exception):
                await entry.conn.wait_closed()


def _closed(conn: asyncssh.SSHClientConnection) -> bool:
    return conn.is_closed()


class _ConnectOptions(TypedDict, total=False):
    """The options of ``asyncssh.connect`` phasegate sets."""

    port: int
    connect_timeout: float
    keepalive_interval: float
    keepalive_count_max: int
    known_hosts: str | None  # None: accept any host key
    username: str
    client_keys: list[str]
    agent_path: None  # no agent


async def connect(target: SshTarget) -> asyncssh.SSHClientConnection:
    options: _ConnectOptions = {
        "port": target.port,
        "connect_timeout": target.connect_timeout,
        "keepalive_interval": target.keepalive,
        "keepalive_count_max": 3,
        "known_hosts": None
        if target.insecure
        else (target.known_hosts or os.path.expanduser("~/.ssh/known_hosts")),
    }
    if target.user:
        options["username"] = target.user
    if target.identity:
        options["client_keys"] = [os.path.expanduser(p) for p in target.identity]
    if not target.agent:
        options["agent_path"] = None
    _import_asyncssh()  # lazy: start-up time (see the top of this module)
    import asyncssh

    try:
        return await asyncssh.connect(target.address, **options)
    except asyncssh.HostKeyNotVerifiable as exc:
        raise Unreachable(
            f"host key of {target.address}:{target.port} not verified ({exc.reason}); add it "
            "to known_hosts (ssh-keyscan), never turn the check off in production"
        ) from None
    except asyncssh.PermissionDenied as exc:
        raise Unreachable(
            f"authentication failed as {target.user or 'you'}: {exc.reason}"
        ) from None
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise Unreachable(
            f"cannot connect to {target.address}:{target.port}: {reason or type(exc).__name__}"
        ) from None


def remote_command(target: SshTarget, script: str = BOOTSTRAP) -> str:
    command = f"sh -c {shlex.quote(script)}"
    if target.become:
        user = ["-u", target.become_user] if target.become_user else []
        command = shlex.join(["sudo", "-n", *user, "--", "sh", "-c", script])
    return command


class SshExecutor:
    """The executor for one host (``Executor`` protocol); the pool is the run's."""

    name = "ssh"

    def __init__(self, pool: SshPool, target: SshTarget) -> None:
        self.pool = pool
        self.target = target

    async def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        timeout: float | None,
        on_output: OutputSink | None = None,
        capture_limit: int = 1 << 20,
        on_spawn: Callable[[int], None] | None = None,
        stop: StopRequest | None = None,
        status_file: str | None = None,
    ) -> ProcessResult:
        """``status_file`` is a path on the host (relative to the login's home); ``cwd`` too
        ('' for the home directory)."""
        _import_asyncssh()  # lazy: start-up time (see the top of this module)
        import asyncssh

        started = time.monotonic()
        status = status_file or f".phasegate-runs/adhoc/{os.getpid()}-{time.time_ns()}"
        try:
            async with self.pool.session(self.target) as (conn, agent):
                if agent is not None:
                    return await self._run_agent(
                        conn,
                        agent,
                        argv,
                        env,
                        cwd,
                        timeout,
                        on_output,
                        capture_limit,
                        stop,
                        status,
                        started,
                    )
                return await self._run(
                    conn, argv, env, cwd, timeout, on_output, capture_limit, stop, status, started
                )
        except Unreachable as exc:
            return ProcessResult(
                None, "", "", time.monotonic() - started, error=str(exc), unreachable=True
            )
        except (asyncssh.Error, OSError) as exc:
            self.pool.forget(self.target.name)
            return ProcessResult(
                None,
                "",
                "",
                time.monotonic() - started,
                error=f"connection to {self.target.name} lost: {exc}",
                connection_lost=True,
            )

    async def _run(
        self,
        conn: asyncssh.SSHClientConnection,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        timeout: float | None,
        on_output: OutputSink | None,
        limit: int,
        stop: StopRequest | None,
        status: str,
        started: float,
    ) -> ProcessResult:
        process = await conn.create_process(
            remote_command(self.target), encoding="utf-8", errors="replace"
        )
        nonce = secrets.token_hex(8)
        process.stdin.write(payload(env, cwd, status, argv, nonce).decode())
        process.stdin.write_eof()
        seen = Collector(nonce, limit, on_output)

        async def pump(stream: Any, name: str) -> None:
            async for raw in stream:
                seen.line(name, raw)

        readers = asyncio.gather(pump(process.stdout, "stdout"), pump(process.stderr, "stderr"))
        finished = asyncio.ensure_future(process.wait_closed())
        timed_out = await self._supervise(conn, finished, process.close, timeout, stop, seen.pgid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(readers, KILL_GRACE)
        code = process.exit_status
        lost = code is None and not process.exit_signal and not timed_out
        return self._result(seen, code, lost, timed_out, time.monotonic() - started)

    async def _run_agent(
        self,
        conn: asyncssh.SSHClientConnection,
        agent: Agent,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        timeout: float | None,
        on_output: OutputSink | None,
        limit: int,
        stop: StopRequest | None,
        status: str,
        started: float,
    ) -> ProcessResult:
        """The same request through the connection's agent: no channel, no login shell."""
        nonce = secrets.token_hex(8)
        seen = Collector(nonce, limit, on_output)
        finished = agent.send(nonce + "\n" + payload(env, cwd, status, argv, nonce).decode(), seen)
        timed_out = await self._supervise(conn, finished, agent.close, timeout, stop, seen.pgid)
        code = finished.result() if finished.done() and not finished.cancelled() else None
        return self._result(
            seen, code, code is None and not timed_out, timed_out, time.monotonic() - started
        )

    def _result(
        self, seen: Collector, code: int | None, lost: bool, timed_out: bool, duration: float
    ) -> ProcessResult:
        out, err = seen.text("stdout"), seen.text("stderr")
        if not seen.pgid:
            if lost:
                self.pool.forget(self.target.name)
            why = seen.boot_errors[0] if seen.boot_errors else (err.strip() or f"exit {code}")
            return ProcessResult(
                None, out, err, duration, error=f"cannot start on {self.target.name}: {why}"
            )
        if lost:
            # The channel closed without an exit status: the connection broke. The command
            # may go on on the host; its supervisor's record tells (read_remote_status).
            self.pool.forget(self.target.name)
            return ProcessResult(
                None,
                out,
                err,
                duration,
                error=f"connection to {self.target.name} lost while the command ran",
                connection_lost=True,
            )
        if code is not None and code > 128:
            return ProcessResult(None, out, err, duration, timed_out=timed_out, signal=code - 128)
        if timed_out or code is None:
            return ProcessResult(None, out, err, duration, timed_out=timed_out, signal=15)
        return ProcessResult(code, out, err, duration, published=seen.published())

    async def _supervise(
        self,
        conn: asyncssh.SSHClientConnection,
        finished: asyncio.Future[Any],
        abandon: Callable[[], None],
        timeout: float | None,
        stop: StopRequest | None,
        pgid: list[int],
    ) -> bool:
        """Wait for the remote step; past its timeout, or when ``stop`` asks, signal its
        process group on the host (TERM, then KILL after the grace period)."""
        timeout_at = time.monotonic() + timeout if timeout is not None else math.inf
        termed = timed_out = False
        sent: list[tuple[str, float]] = []
        try:
            while not finished.done():
                now = time.monotonic()
                term_at, kill_at = timeout_at, timeout_at + KILL_GRACE
                if stop is not None and stop.requested:
                    term_at, kill_at = min(term_at, stop.term_at), min(kill_at, stop.kill_at)
                if now >= kill_at and pgid:
                    if not termed:  # its pgid came past the grace (a loaded host): still ours
                        timed_out = now >= timeout_at and not (
                            stop is not None and stop.term_at <= now
                        )
                    sent.append(("SIGKILL", now))
                    await self._signal(conn, pgid[0], "KILL")
                    await asyncio.wait({finished}, timeout=KILL_GRACE)
                    break
                if now >= term_at and not termed and pgid:
                    termed = True
                    timed_out = now >= timeout_at and not (stop is not None and stop.term_at <= now)
                    sent.append(("SIGTERM", now))
                    await self._signal(conn, pgid[0], "TERM")
                waits: set[asyncio.Future[Any]] = {finished}
                change = asyncio.ensure_future(stop.changed()) if stop is not None else None
                if change is not None:
                    waits.add(change)
                deadline = kill_at if termed else term_at
                try:
                    await asyncio.wait(
                        waits,
                        timeout=None if math.isinf(deadline) else max(deadline - now, 0.01),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    if change is not None:
                        change.cancel()
        finally:
            if not finished.done():
                abandon()
                finished.cancel()
        if sent and sent[-1][0] != "SIGKILL" and pgid:
            await self._signal(conn, pgid[0], "KILL")  # children that outlived the leader
        if stop is not None and stop.requested and not timed_out and sent:
            stop.sent = sent
        return timed_out

    async def _signal(self, conn: asyncssh.SSHClientConnection, pgid: int, name: str) -> None:
        prefix = remote_command(self.target).split(" sh -c ", 1)[0] if self.target.become else ""
        command = f"kill -{name} -- -{int(pgid)}"
        if prefix:
            command = f"{prefix} {command}"
        _import_asyncssh()  # lazy: start-up time (see the top of this module)
        import asyncssh

        with contextlib.suppress(asyncssh.Error, OSError):
            await conn.run(command, check=False)


async def read_remote_file(
    pool: SshPool, target: SshTarget, path: str, limit: int = 64 * 1024
) -> str:
    """The first ``limit`` bytes of a file on the host ("" when it does not exist)."""
    async with pool.use(target) as conn:
        result = await conn.run(
            f"head -c {int(limit)} {shlex.quote(path)} 2>/dev/null", check=False
        )
    return str(result.stdout or "")


async def read_remote_status(
    pool: SshPool, target: SshTarget, status_file: str
) -> StatusRecord | str | None:
    """The supervisor's record for ``status_file`` on the host: a StatusRecord; ``"running"``
    while its supervisor still runs; ``"absent"`` when the bootstrap never got as far as
    creating the step's files (the command was never started there); None when the step
    may have started but left no record (its supervisor was killed): unknown."""
    records = await read_remote_records(pool, target, [status_file])
    return records[status_file].record


@dataclass(frozen=True)
class RemoteRecord:
    """What the host holds for one status file: the record (as ``read_remote_status``) and,
    when it is one, the text of the command's ``$PHASEGATE_OUTPUT`` (``STATUS.output``)."""

    record: StatusRecord | str | None
    output: str = ""


# One channel reads every status file named as an argument: per file a header line with its
# index, then `R <record> <mtime>`, RUNNING, NONE or ABSENT, and for a record the output file's
# first 1 MiB + 1 byte in base64 (`O ...`, one line; engine/outputs_file.py keeps the whole
# lines within 1 MiB). A host's unknown items after a crash or a lost
# connection are resolved in one round trip, however many there are.
_RECORDS = (
    'i=0; for s in "$@"; do i=$((i+1)); echo "@@ $i"; '
    'if [ -f "$s" ]; then printf "R %s %s\\n" "$(head -c 64 "$s" | tr "\\n" " ")" '
    '"$(stat -c %Y "$s")"; if [ -s "$s.output" ]; then printf "O "; '
    'head -c 1048577 "$s.output" | base64 -w0; echo; fi; '
    'elif [ -f "$s.pid" ] && kill -0 "$(cat "$s.pid")" 2>/dev/null; then echo RUNNING; '
    'elif [ -e "$s.out" ]; then echo NONE; else echo ABSENT; fi; done'
)


async def read_remote_records(
    pool: SshPool, target: SshTarget, status_files: Sequence[str]
) -> dict[str, RemoteRecord]:
    """``read_remote_status`` for several status files of one host, in one channel."""
    if not status_files:
        return {}
    pool.record_reads += 1
    command = shlex.join(["sh", "-c", _RECORDS, "records", *status_files])
    async with pool.use(target) as conn:
        result = await conn.run(command, check=False)
    sections: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in str(result.stdout or "").splitlines():
        if line.startswith("@@ "):
            with contextlib.suppress(ValueError):
                current = sections.setdefault(int(line[3:]), [])
            continue
        if current is not None:
            current.append(line)
    return {
        path: _record_of(sections.get(index, []))
        for index, path in enumerate(status_files, start=1)
    }


def _record_of(lines: Sequence[str]) -> RemoteRecord:
    if not lines:
        return RemoteRecord(None)  # the host said nothing about it: unknown
    first = lines[0]
    if first.startswith("RUNNING"):
        return RemoteRecord("running")
    if first.startswith("ABSENT"):
        return RemoteRecord("absent")
    parts = first.split()
    if len(parts) == 4 and parts[0] == "R" and parts[2] == "end":
        output = ""
        if len(lines) > 1 and lines[1].startswith("O "):
            with contextlib.suppress(ValueError):
                output = base64.b64decode(lines[1][2:]).decode(errors="replace")
        with contextlib.suppress(ValueError):
            return RemoteRecord(
                StatusRecord(status=int(parts[1]), ended_at=float(parts[3])), output
            )
    return RemoteRecord(None)
