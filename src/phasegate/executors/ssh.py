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
import math
import os
import re
import secrets
import shlex
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from phasegate.executors.base import OutputSink, ProcessResult
from phasegate.executors.stopping import KILL_GRACE, StopRequest
from phasegate.executors.supervisor import SUPERVISOR_SCRIPT, StatusRecord

# asyncssh is imported where a connection is made, not with this module (which every `run`
# loads through the engine): importing it costs 0.1-0.7 s, mostly its post-quantum module
# looking for liboqs with ctypes.util.find_library, which runs ldconfig, gcc and ld. A run
# without hosts never needs it (bench/run.py, the fixed cost of a run).
if TYPE_CHECKING:
    import asyncssh

MARKER = "@@phasegate-pgid "
# Read one value line into $v: `r` and the value as it is (no newline in it: `read -r` takes
# it as data, no process started), or `b` and its base64 (a value with newlines; one ending in
# newlines survives the $(...) by the x).
BOOTSTRAP = (
    "umask 077; "
    "d() { IFS= read -r l || exit 97; case $l in r*) v=${l#r};; "
    "*) v=$(printf '%s' \"${l#b}\" | base64 -d; echo x) || exit 97; v=${v%x};; esac; }; "
    'd; n=$v; i=0; while [ "$i" -lt "$n" ]; do d; k=$v; d; export "$k=$v"; i=$((i+1)); done; '
    "d; c=$v; d; s=$v; d; sup=$v; d; t=$v; d; n=$v; i=0; set --; "
    'while [ "$i" -lt "$n" ]; do d; set -- "$@" "$v"; i=$((i+1)); done; '
    "exec </dev/null; "
    '[ -d "${s%/*}" ] || mkdir -p "${s%/*}" || exit 97; '
    # Paths relative to the login's home stay so after `cd` (the status file, the outputs).
    "case $s in /*) ;; *) s=$PWD/$s;; esac; "
    'case ${PHASEGATE_OUTPUT:-/} in /*) ;; *) export PHASEGATE_OUTPUT="$PWD/$PHASEGATE_OUTPUT";; '
    "esac; "
    'if [ -n "$c" ]; then cd "$c" || { echo "@@phasegate-error no such directory $c" >&2; '
    "exit 97; }; fi; "
    ': >"$s.out"; : >"$s.err"; '
    'setsid sh -c "$sup" "$s" "$@" >"$s.out" 2>"$s.err" & p=$!; echo "$p" >"$s.pid"; '
    'echo "@@phasegate-pgid $p"; '
    'tail -s 0.05 -n +1 -f --pid="$p" "$s.out" & a=$!; '
    'tail -s 0.05 -n +1 -f --pid="$p" "$s.err" >&2 & b=$!; '
    'wait "$p"; r=$?; wait "$a" "$b"; '
    # The step's outputs come back after its output, behind a marker with the request's nonce
    # (which the step never saw), so no line the step prints can pass for them.
    'if [ -f "${PHASEGATE_OUTPUT:-/}" ] && [ -s "$PHASEGATE_OUTPUT" ]; then '
    'printf "@@phasegate-outputs %s " "$t"; base64 -w0 <"$PHASEGATE_OUTPUT"; echo; fi; '
    'exit "$r"'
)
OUTPUTS = "@@phasegate-outputs "
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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

    @contextlib.asynccontextmanager
    async def use(self, target: SshTarget) -> Any:
        entry = await self._acquire(target)
        try:
            yield entry.conn
        finally:
            entry.users -= 1
            async with self._condition():
                self._condition().notify_all()

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


async def connect(target: SshTarget) -> asyncssh.SSHClientConnection:
    options: dict[str, Any] = {
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
    import asyncssh  # lazy: start-up time (see the top of this module)

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


def payload(
    env: Mapping[str, str], cwd: str, status_file: str, argv: Sequence[str], nonce: str = ""
) -> bytes:
    """What the bootstrap reads on stdin: one line per value, counts first (``r`` + the
    value, or ``b`` + its base64 when it holds a line break)."""
    values: list[str] = []
    names = [k for k in env if _NAME.match(k)]
    values.append(str(len(names)))
    for name in names:
        values += [name, env[name]]
    values += [cwd, status_file, SUPERVISOR_SCRIPT, nonce, str(len(argv)), *argv]
    return b"".join(_line(v) for v in values)


def _line(value: str) -> bytes:
    if "\n" in value or "\r" in value:
        return b"b" + base64.b64encode(value.encode()) + b"\n"
    return b"r" + value.encode() + b"\n"


def remote_command(target: SshTarget) -> str:
    command = f"sh -c {shlex.quote(BOOTSTRAP)}"
    if target.become:
        user = ["-u", target.become_user] if target.become_user else []
        command = shlex.join(["sudo", "-n", *user, "--", "sh", "-c", BOOTSTRAP])
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
        import asyncssh  # lazy: start-up time (see the top of this module)

        started = time.monotonic()
        status = status_file or f".phasegate-runs/adhoc/{os.getpid()}-{time.time_ns()}"
        try:
            async with self.pool.use(self.target) as conn:
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
        captured: dict[str, list[str]] = {"stdout": [], "stderr": []}
        sizes = {"stdout": 0, "stderr": 0}
        pgid: list[int] = []
        boot_errors: list[str] = []
        published: list[str] = []
        tagged = f"{OUTPUTS}{nonce} "

        async def pump(stream: Any, name: str) -> None:
            async for raw in stream:
                line = raw[:-1] if raw.endswith("\n") else raw
                if name == "stdout" and not pgid and line.startswith(MARKER):
                    with contextlib.suppress(ValueError):
                        pgid.append(int(line[len(MARKER) :]))
                    continue
                if name == "stdout" and pgid and line.startswith(tagged):
                    with contextlib.suppress(ValueError):
                        text = base64.b64decode(line[len(tagged) :]).decode(errors="replace")
                        published.append(text)
                    continue
                if name == "stderr" and not pgid and line.startswith("@@phasegate-error "):
                    boot_errors.append(line[len("@@phasegate-error ") :])
                    continue
                if sizes[name] < limit:
                    captured[name].append(raw[: limit - sizes[name]])
                    sizes[name] += len(raw)
                if on_output is not None:
                    on_output(name, line)

        readers = asyncio.gather(pump(process.stdout, "stdout"), pump(process.stderr, "stderr"))
        timed_out = await self._supervise(conn, process, readers, timeout, stop, pgid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(readers, KILL_GRACE)
        code = process.exit_status
        duration = time.monotonic() - started
        out, err = "".join(captured["stdout"]), "".join(captured["stderr"])
        if not pgid:
            why = boot_errors[0] if boot_errors else (err.strip() or f"exit {code}")
            return ProcessResult(
                None, out, err, duration, error=f"cannot start on {self.target.name}: {why}"
            )
        sig = process.exit_signal[0] if process.exit_signal else None
        if code is None and sig is None and not timed_out:
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
        if timed_out or sig is not None:
            return ProcessResult(None, out, err, duration, timed_out=timed_out, signal=15)
        return ProcessResult(code, out, err, duration, published="".join(published))

    async def _supervise(
        self,
        conn: asyncssh.SSHClientConnection,
        process: Any,
        readers: asyncio.Future[Any],
        timeout: float | None,
        stop: StopRequest | None,
        pgid: list[int],
    ) -> bool:
        """Wait for the remote step; past its timeout, or when ``stop`` asks, signal its
        process group on the host (TERM, then KILL after the grace period)."""
        timeout_at = time.monotonic() + timeout if timeout is not None else math.inf
        finished = asyncio.ensure_future(process.wait_closed())
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
                process.close()
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
        import asyncssh  # lazy: start-up time (see the top of this module)

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
    script = (
        's=$1; if [ -f "$s" ]; then printf "R "; head -c 64 "$s"; printf " %s\\n" '
        '"$(stat -c %Y "$s")"; elif [ -f "$s.pid" ] && kill -0 "$(cat "$s.pid")" 2>/dev/null; '
        'then echo RUNNING; elif [ -e "$s.out" ]; then echo NONE; else echo ABSENT; fi'
    )
    async with pool.use(target) as conn:
        result = await conn.run(
            f"sh -c {shlex.quote(script)} status {shlex.quote(status_file)}", check=False
        )
    text = str(result.stdout or "")
    if text.startswith("RUNNING"):
        return "running"
    if text.startswith("ABSENT"):
        return "absent"
    parts = text.split()
    if len(parts) == 4 and parts[0] == "R" and parts[2] == "end":
        with contextlib.suppress(ValueError):
            return StatusRecord(status=int(parts[1]), ended_at=float(parts[3]))
    return None
