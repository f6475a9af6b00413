"""Run commands on this machine, each in its own process group.

Built on ``loop.subprocess_exec`` with a small protocol rather than asyncio's stream API: the
output arrives as callbacks and is split into lines there, so a spawn costs no reader tasks,
and waiting uses ``asyncio.wait`` (which, unlike ``wait_for`` on Python 3.11, never loses a
cancellation).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence

from phasegate.executors import supervisor
from phasegate.executors.base import OutputSink, ProcessResult
from phasegate.executors.spawn_errors import spawn_error
from phasegate.executors.stopping import KILL_GRACE, StopRequest, supervise

# After the main process exits, a background child it started (`server &`) may keep the
# output pipes open forever; we stop reading after this grace period instead of hanging.
PIPE_DRAIN_GRACE = 0.5
_STREAMS = {1: "stdout", 2: "stderr"}


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
        if status_file is not None:
            # The supervisor's shell would turn a missing program into exit 127.
            refused = supervisor.cannot_start(argv, env, cwd)
            if refused is not None:
                return ProcessResult(
                    exit_code=None, stdout="", stderr="", duration=0.0, error=refused
                )
            argv = supervisor.supervised(argv, status_file)
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _Collector(on_output, capture_limit),
                *argv,
                stdin=_devnull(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,  # own process group: a timeout kills all of it
            )
        except (OSError, ValueError) as exc:
            # Any spawn error is the step's failure, never the engine's crash.
            return ProcessResult(
                exit_code=None,
                stdout="",
                stderr="",
                duration=time.monotonic() - started,
                error=spawn_error(command, env, cwd, exc),
            )
        collector = protocol
        pid = transport.get_pid()
        if on_spawn is not None:
            on_spawn(pid)
        try:
            timed_out = await supervise(pid, collector.exited, timeout=timeout, stop=stop)
            await asyncio.wait({collector.drained}, timeout=PIPE_DRAIN_GRACE)
        except asyncio.CancelledError:
            await asyncio.shield(_kill_group(pid, collector))
            transport.close()
            raise
        code = transport.get_returncode()
        transport.close()
        sig = -code if code is not None and code < 0 else None
        return ProcessResult(
            exit_code=None if (timed_out or sig) else code,
            stdout="".join(collector.captured[1]),
            stderr="".join(collector.captured[2]),
            duration=time.monotonic() - started,
            timed_out=timed_out,
            signal=sig,
        )


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
