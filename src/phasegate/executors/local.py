"""Run commands on this machine, each in its own process group."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence

from phasegate.executors.base import OutputSink, ProcessResult

# After the main process exits, a background child it started (`server &`) may keep the
# output pipes open forever; we stop reading after this grace period instead of hanging.
PIPE_DRAIN_GRACE = 0.5
KILL_GRACE = 2.0


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
    ) -> ProcessResult:
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=_devnull(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,  # own process group: a timeout kills all of it
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            target = exc.filename or argv[0]
            return ProcessResult(
                exit_code=None,
                stdout="",
                stderr="",
                duration=time.monotonic() - started,
                error=f"cannot start {argv[0]!r}: {exc.strerror} ({target})",
            )
        if on_spawn is not None:
            on_spawn(proc.pid)
        out_buf: list[str] = []
        err_buf: list[str] = []
        readers = [
            asyncio.ensure_future(_pump(proc.stdout, "stdout", out_buf, on_output, capture_limit)),
            asyncio.ensure_future(_pump(proc.stderr, "stderr", err_buf, on_output, capture_limit)),
        ]
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await _kill_group(proc)
        except asyncio.CancelledError:
            await asyncio.shield(_kill_group(proc))
            for reader in readers:
                reader.cancel()
            raise
        _, pending = await asyncio.wait(readers, timeout=PIPE_DRAIN_GRACE)
        for reader in pending:
            reader.cancel()
        code = proc.returncode
        sig = -code if code is not None and code < 0 else None
        return ProcessResult(
            exit_code=None if (timed_out or sig) else code,
            stdout="".join(out_buf),
            stderr="".join(err_buf),
            duration=time.monotonic() - started,
            timed_out=timed_out,
            signal=sig,
        )


@functools.cache
def _devnull() -> int:
    # One descriptor for every child's stdin, instead of opening /dev/null per spawn.
    fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    return fd


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), KILL_GRACE)
    # Children that ignored SIGTERM, or outlived the leader, go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        await proc.wait()


async def _pump(
    stream: asyncio.StreamReader | None,
    name: str,
    buf: list[str],
    sink: OutputSink | None,
    limit: int,
) -> None:
    if stream is None:
        return
    size = 0
    while True:
        try:
            raw = await stream.readline()
        except ValueError:  # a line longer than the stream limit: take what is there
            raw = await stream.read(65536)
        if not raw:
            return
        line = raw.decode("utf-8", errors="replace")
        if size < limit:
            buf.append(line[: limit - size])
            size += len(line)
        if sink is not None:
            sink(name, line.rstrip("\n"))
