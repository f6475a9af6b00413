"""Run commands on this machine, each in its own process group.

Spawned by ``subprocess.Popen`` (vfork) and watched by the event loop's readers: one on
each output pipe, one on the child's pidfd, rather than asyncio's subprocess transports (three
transports and a protocol per spawn, each callback scheduled through ``call_soon``). The
output is split into lines as it arrives, so a spawn costs no reader tasks, and waiting uses
``asyncio.wait`` (which, unlike ``wait_for`` on Python 3.11, never loses a cancellation).

A command with a ``status_file`` (a step, an undo, a monitor) is spawned by the run's
supervisor instead (``run_supervisor.py``: one process per run that outlives the engine and
records how each command ended), which reports its pid and, later, its exit; its output comes
through the same pipes and readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from phasegate.executors import supervisor
from phasegate.executors.base import OutputSink, ProcessResult
from phasegate.executors.run_supervisor import RunSupervisor, SupervisorGone, TooLarge
from phasegate.executors.spawn_errors import spawn_error
from phasegate.executors.stopping import KILL_GRACE, StopRequest, supervise

# After the main process exits, a background child it started (`server &`) may keep the
# output pipes open forever; we stop reading after this grace period instead of hanging.
PIPE_DRAIN_GRACE = 0.5
_STREAMS = {1: "stdout", 2: "stderr"}
# One supervisor per run needs posix_spawn (with setsid), descriptor passing (Linux) and an
# interpreter to start it with.
_SUPERVISOR_POSSIBLE = (
    hasattr(os, "posix_spawn") and hasattr(socket, "SOCK_SEQPACKET") and bool(sys.executable)
)
_KEEPERS: set[asyncio.Task[None]] = set()
LOST = (
    "the run's step supervisor ended while the command ran (killed by hand?): the command's "
    "outcome is unknown"
)


class _Refused(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Collector(asyncio.SubprocessProtocol):
    """Receives a child's output and exit; hands complete lines to the sink."""

    def __init__(self, sink: OutputSink | None, limit: int) -> None:
        loop = asyncio.get_running_loop()
        self.sink = sink
        self.limit = limit
        self.partial = {1: b"", 2: b""}
        self.captured: dict[int, list[str]] = {1: [], 2: []}
        self.size = {1: 0, 2: 0}
        self.open_pipes = 2
        self.exited: asyncio.Future[None] = loop.create_future()
        self.drained: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        lines = (self.partial[fd] + data).split(b"\n")
        self.partial[fd] = lines.pop()
        if len(self.partial[fd]) > 65536:  # a "line" without end: deliver it in pieces
            lines.append(self.partial[fd])
            self.partial[fd] = b""
        for raw in lines:
            self._line(fd, raw.decode("utf-8", errors="replace"), "\n")

    def _line(self, fd: int, line: str, end: str) -> None:
        if self.size[fd] < self.limit:
            text = line + end
            self.captured[fd].append(text[: self.limit - self.size[fd]])
            self.size[fd] += len(text)
        if self.sink is not None:
            self.sink(_STREAMS[fd], line)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd not in self.partial:
            return
        if self.partial[fd]:
            self._line(fd, self.partial[fd].decode("utf-8", errors="replace"), "")
            self.partial[fd] = b""
        self.open_pipes -= 1
        if self.open_pipes == 0 and not self.drained.done():
            self.drained.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class LocalExecutor:
    name = "local"

    def __init__(self) -> None:
        self._supervisor: RunSupervisor | None = None
        self._no_supervisor = not _SUPERVISOR_POSSIBLE  # then a shell supervises each step
        self._starts: dict[int, str] = {}  # while its on_spawn runs: a command's start time

    def start_of(self, pid: int) -> str | None:
        """While ``on_spawn(pid)`` runs: the command's start time (field 22 of
        ``/proc/PID/stat``) as the run's supervisor read it when it spawned it; None when no
        supervisor said (the caller reads ``/proc``, where a quick command may be gone)."""
        return self._starts.get(pid)

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
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        command = argv  # as the plan wrote it: what error messages name
        collector = _Collector(on_output, capture_limit)
        child: _Child | None = None
        if status_file is not None:
            # The supervisor would turn a missing program into a failed spawn of its own.
            refused = supervisor.cannot_start(argv, env, cwd)
            if refused is not None:
                return ProcessResult(
                    exit_code=None, stdout="", stderr="", duration=0.0, error=refused
                )
            run_supervisor = self._run_supervisor(loop)
            if run_supervisor is not None:
                try:
                    child = await _spawn_supervised(
                        run_supervisor, loop, argv, env, cwd, status_file, collector
                    )
                except _Refused as refusal:
                    error = refusal.why
                    if isinstance(refusal.__cause__, (OSError, ValueError)):
                        error = spawn_error(command, env, cwd, refusal.__cause__)
                    return ProcessResult(
                        exit_code=None,
                        stdout="",
                        stderr="",
                        duration=time.monotonic() - started,
                        error=error,
                    )
            if child is None:  # no run supervisor, or a request too large for it
                argv = supervisor.supervised(argv, status_file)
        if child is None:
            try:
                child = _spawn(loop, argv, env, cwd, collector)
            except (OSError, ValueError) as exc:
                # Any spawn error is the step's failure, never the engine's crash.
                return ProcessResult(
                    exit_code=None,
                    stdout="",
                    stderr="",
                    duration=time.monotonic() - started,
                    error=spawn_error(command, env, cwd, exc),
                )
        pid = child.pid
        if on_spawn is not None:
            if child.start is not None:
                self._starts[pid] = child.start
            try:
                on_spawn(pid)
            finally:
                self._starts.pop(pid, None)
        try:
            timed_out = await supervise(pid, collector.exited, timeout=timeout, stop=stop)
            if not collector.drained.done():  # (a turn of the loop saved when it is)
                await asyncio.wait({collector.drained}, timeout=PIPE_DRAIN_GRACE)
        except asyncio.CancelledError:
            await asyncio.shield(_kill_group(pid, collector))
            child.close()
            raise
        code = child.returncode
        child.close()
        sig = -code if code is not None and code < 0 else None
        return ProcessResult(
            exit_code=None if (timed_out or sig) else code,
            stdout="".join(collector.captured[1]),
            stderr="".join(collector.captured[2]),
            duration=time.monotonic() - started,
            timed_out=timed_out,
            signal=sig,
            error=LOST if child.lost and not timed_out else None,
        )

    def _run_supervisor(self, loop: asyncio.AbstractEventLoop) -> RunSupervisor | None:
        """The supervisor of this loop's run, started on its first supervised command."""
        current = self._supervisor
        if current is not None and current.loop is loop and current.alive:
            return current
        if current is not None:
            current.close()
            self._supervisor = None
        if self._no_supervisor:
            return None
        try:
            current = RunSupervisor(loop)
        except OSError:
            self._no_supervisor = True  # e.g. no interpreter to start: a shell per step
            return None
        self._supervisor = current
        # Pending until the loop ends: asyncio.run cancels it, which ends the supervisor.
        keeper = loop.create_task(current.keep())
        _KEEPERS.add(keeper)
        keeper.add_done_callback(_KEEPERS.discard)
        return current


class _Child:
    """A spawned command as the event loop sees it: its two output pipes and its pidfd, each a
    reader callback of the loop. What asyncio's subprocess transport does, without its
    transports, protocol objects and per-pipe callbacks scheduled through ``call_soon``: this
    is the path every step and every command gate takes (bench/engine_ab.py)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pid: int,
        proc: subprocess.Popen[bytes] | None,
        pidfd: int,
        pipes: dict[int, int],
        collector: _Collector,
    ) -> None:
        self.loop = loop
        self.proc = proc  # None: the run's supervisor spawned it, and reports its exit
        self.pid = pid
        self.collector = collector
        self.returncode: int | None = None
        self.start: str | None = None  # its start time, when its supervisor said
        self.lost = False  # the supervisor died before it reported the exit
        self._pidfd = pidfd
        self._pipes = pipes  # stream number (1, 2) -> our read end
        for num, fd in pipes.items():
            loop.add_reader(fd, self._readable, num, fd)
        if pidfd >= 0:
            loop.add_reader(pidfd, self._exited)

    def ended(self, code: int | None) -> None:
        """The supervisor's word on how the command ended (None: it never will say)."""
        self.returncode = code
        self.lost = code is None
        self.collector.process_exited()

    def _readable(self, num: int, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.collector.pipe_data_received(num, data)
            return
        self._close_pipe(num)
        self.collector.pipe_connection_lost(num, None)

    def _close_pipe(self, num: int) -> None:
        fd = self._pipes.pop(num, None)
        if fd is not None:
            self.loop.remove_reader(fd)
            os.close(fd)

    def _exited(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped by someone else: as asyncio says it
            pid, status = self.pid, 255 << 8
        if pid == 0:
            return  # not yet (a spurious wake-up)
        self.returncode = os.waitstatus_to_exitcode(status)
        # Popen must not wait for (or warn about) a child that is reaped here.
        if self.proc is not None:
            self.proc.returncode = self.returncode
        self.loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = -1
        self.collector.process_exited()

    def close(self) -> None:
        """Stop reading its output (a background child may hold the pipes open forever). A
        process still running keeps its pidfd reader, which reaps it when it ends."""
        for num in list(self._pipes):
            self._close_pipe(num)
            self.collector.pipe_connection_lost(num, None)  # a last line without its newline


def _spawn(
    loop: asyncio.AbstractEventLoop,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    collector: _Collector,
) -> _Child:
    """Start ``argv`` in a new session (its own process group: a timeout kills all of it),
    stdin from /dev/null, stdout and stderr into pipes the loop reads. ``subprocess`` spawns
    with ``vfork`` here (no ``preexec_fn``), and is the one stdlib spawn that takes a ``cwd``."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=_devnull(),
            stdout=out_w,
            stderr=err_w,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    except BaseException:
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        raise
    os.close(out_w)
    os.close(err_w)
    os.set_blocking(out_r, False)
    os.set_blocking(err_r, False)
    try:
        pidfd = os.pidfd_open(proc.pid)
    except OSError:
        # No pidfd (an old kernel): a thread waits for it instead, as asyncio's default does.
        pidfd = _waiter_pipe(proc)
    return _Child(loop, proc.pid, proc, pidfd, {1: out_r, 2: err_r}, collector)


async def _spawn_supervised(
    run_supervisor: RunSupervisor,
    loop: asyncio.AbstractEventLoop,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    status_file: str,
    collector: _Collector,
) -> _Child | None:
    """``argv`` spawned by the run's supervisor, in a new session, with the pipes the loop
    reads. None when the request does not fit it (the caller then uses a shell); raises
    _Refused when the spawn failed (caused by its OSError) or the supervisor is gone."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        reply = run_supervisor.request(argv, env, cwd, status_file, out_w, err_w)
    except (TooLarge, OSError, ValueError):
        os.close(out_r)
        os.close(err_r)
        return None  # nothing was sent: a shell supervises this one
    finally:
        os.close(out_w)  # in flight to the supervisor, which holds its own copies
        os.close(err_w)
    try:
        pid = await asyncio.shield(reply)
    except asyncio.CancelledError:
        os.close(out_r)
        os.close(err_r)
        reply.add_done_callback(_end_if_spawned)  # it may start all the same: end it
        raise
    except (OSError, ValueError) as exc:
        os.close(out_r)
        os.close(err_r)
        raise _Refused(str(exc)) from exc
    except SupervisorGone:
        # Killed between spawning the command and saying so, the supervisor may have left a
        # command running that nobody will report on. Its output pipes tell: they close when
        # the command (and what it started) ends. Wait for that before the step's outcome is
        # reported, so that a retry or a rollback never overlaps it (as ``_when_gone`` waits
        # for a command whose supervisor died later).
        await _closed(loop, (out_r, err_r), collector, status_file)
        raise _Refused(LOST) from None
    os.set_blocking(out_r, False)
    os.set_blocking(err_r, False)
    child = _Child(loop, pid, None, -1, {1: out_r, 2: err_r}, collector)
    child.start = run_supervisor.starts.pop(pid, None)
    run_supervisor.on_exit(pid, child.ended)
    return child


async def _closed(
    loop: asyncio.AbstractEventLoop, fds: Sequence[int], collector: _Collector, status_file: str
) -> None:
    """Read ``fds`` to their end (what a command wrote goes to its log as usual), then close
    them. Cancelled meanwhile (an abort, a timeout), the command the supervisor left is ended:
    its pid is the status file's first line, when the supervisor wrote one."""
    for fd in fds:
        os.set_blocking(fd, False)
    # Its pipes, read as any command's; no pid to wait on (pidfd -1): the pipes' end is the end.
    pipes = _Child(loop, 0, None, -1, dict(enumerate(fds, start=1)), collector)
    try:
        await asyncio.shield(collector.drained)
    except asyncio.CancelledError:
        pgid = supervisor.find_supervisor(status_file)
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        raise
    finally:
        pipes.close()


def _end_if_spawned(reply: asyncio.Future[int]) -> None:
    if reply.cancelled() or reply.exception() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(reply.result(), signal.SIGKILL)


def _waiter_pipe(proc: subprocess.Popen[bytes]) -> int:
    """A descriptor that becomes readable when ``proc`` has exited, without reaping it: a
    thread blocks in ``waitid(WNOWAIT)`` and then writes a byte."""
    read_end, write_end = os.pipe()

    def wait() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        os.write(write_end, b"x")
        os.close(write_end)

    threading.Thread(target=wait, daemon=True).start()
    return read_end


@functools.cache
def _devnull() -> int:
    # One descriptor for every child's stdin, instead of opening /dev/null per spawn.
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


async def _kill_group(pid: int, collector: _Collector) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    done, _ = await asyncio.wait({collector.exited}, timeout=KILL_GRACE)
    # Children that ignored SIGTERM, or outlived the leader, go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if not done:
        await asyncio.wait({collector.exited}, timeout=KILL_GRACE)
