"""The engine's end of the run's step supervisor (``supervisor_main.py``, issue 12).

One supervisor process per run (per event loop that runs supervised commands), started on the
first supervised command and ended with the loop: asyncio.run cancels the keeper task, which
closes the socket; the supervisor then exits once its commands have ended. It replaces the
``/bin/sh`` started for every step (``supervisor.supervised``, still the fallback): that shell
cost ~1.3 ms of CPU per step, more than a third of what bash spends on a spawn.

Requests are ``marshal``-ed tuples of strings over a ``SOCK_SEQPACKET`` pair (one message each,
the step's pipes passed as descriptors), so nothing of a step (its environment, its secrets)
ever appears in a process list: the supervisor's command line is the interpreter, its file
and a descriptor number.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import marshal
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from phasegate.executors import supervisor_main

MAIN = str(Path(supervisor_main.__file__).resolve())
# A request larger than this goes the old way (a shell per step): one SOCK_SEQPACKET message
# must fit the socket's buffer.
MAX_REQUEST = 128 * 1024
EXIT_WAIT = 1.0  # at the loop's end, how long to wait for an idle supervisor to exit

ExitCallback = Callable[[int | None], None]  # the exit code (negative: signal), None: lost


class TooLarge(Exception):
    """The request does not fit one message: spawn it the old way."""


class SupervisorGone(Exception):
    """The supervisor ended before it answered: the command's fate is unknown."""


def _environment() -> dict[str, str]:
    # The interpreter needs nothing of the engine's environment (and gets none of its secrets).
    return {k: os.environ[k] for k in ("PATH", "LD_LIBRARY_PATH") if k in os.environ}


class RunSupervisor:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", MAIN, str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                env=_environment(),
                start_new_session=True,
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self.sock = parent
        self.pid = self.proc.pid
        self.alive = True
        self._seq = 0
        self._replies: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, ExitCallback] = {}
        self._early: dict[int, int] = {}  # exits that came before their callback
        # Each spawned command's start time as the supervisor read it (field 22 of
        # /proc/PID/stat), for the spawn's caller to take with the pid.
        self.starts: dict[int, str] = {}
        self._closed: asyncio.Future[None] = loop.create_future()
        loop.add_reader(parent.fileno(), self._readable)

    def request(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        status_file: str,
        out_w: int,
        err_w: int,
    ) -> asyncio.Future[int]:
        """Ask for a spawn; the future gives the command's pid (or raises its OSError, or the
        ValueError of a NUL in an argument).
        Raises TooLarge, or OSError when the supervisor cannot be reached (nothing spawned)."""
        self._seq += 1
        seq = self._seq
        # A relative cwd means the engine's (as for Popen), not the supervisor's.
        where = cwd if cwd.startswith("/") else os.path.abspath(cwd)
        payload = marshal.dumps((seq, list(argv), dict(env), where, status_file))
        if len(payload) > MAX_REQUEST:
            raise TooLarge
        fds = array.array("i", (out_w, err_w))
        self.sock.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        reply: asyncio.Future[int] = self.loop.create_future()
        self._replies[seq] = reply
        return reply

    def on_exit(self, pid: int, callback: ExitCallback) -> None:
        if pid in self._early:
            callback(self._early.pop(pid))
        elif not self.alive:
            self._when_gone(pid, callback)
        else:
            self._exits[pid] = callback

    def _when_gone(self, pid: int, callback: ExitCallback) -> None:
        """No supervisor will say how ``pid`` ended: say "unknown" once it has ended (a pidfd
        becomes readable when any process exits, not only a child), never while it runs."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # already gone (or no pidfd: then at once, as the shell's death did)
            callback(None)
            return

        def ended() -> None:
            self.loop.remove_reader(pidfd)
            os.close(pidfd)
            callback(None)

        self.loop.add_reader(pidfd, ended)

    def _readable(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            message = marshal.loads(data)
            kind = message[0]
            if kind == "x":
                _, pid, code = message
                callback = self._exits.pop(pid, None)
                if callback is None:
                    self._early[pid] = code
                else:
                    callback(code)
                continue
            reply = self._replies.pop(message[1], None)
            if reply is None or reply.done():
                continue
            if kind == "s":
                if len(message) > 3 and str(message[3]).isdigit():
                    self.starts[message[2]] = str(message[3])
                else:  # never a start left by an earlier command of the same pid
                    self.starts.pop(message[2], None)
                reply.set_result(message[2])
            else:
                _, _, code, reason, filename = message
                if code is None:  # not a system error: a NUL in an argument (ValueError)
                    reply.set_exception(ValueError(reason))
                else:
                    reply.set_exception(OSError(code, reason, filename))

    def _lost(self) -> None:
        """The supervisor is gone (killed by hand): what it was to tell is lost."""
        if not self.alive:
            return
        self.alive = False
        self.loop.remove_reader(self.sock.fileno())
        for reply in self._replies.values():
            if not reply.done():
                reply.set_exception(SupervisorGone())
        self._replies.clear()
        exits, self._exits = self._exits, {}
        for pid, callback in exits.items():
            self._when_gone(pid, callback)

    async def keep(self) -> None:
        """Lives as long as the loop's tasks do: asyncio.run cancels it at the end of the run,
        and the supervisor is told the run is over."""
        try:
            await self._closed
        finally:
            self.close()

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            if self.alive and not self.loop.is_closed():
                self.loop.remove_reader(self.sock.fileno())
            self.alive = False
            self.sock.close()
        if not self._closed.done() and not self.loop.is_closed():
            self._closed.set_result(None)
        # Idle, it exits at once; still supervising a command (an engine ending on an error),
        # it lives on to record it, and is not waited for.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=EXIT_WAIT)
