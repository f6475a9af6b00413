"""One long-lived remote agent per ssh connection: commands without a channel each.

Why: every ssh channel makes sshd start the login's shell (``$SHELL -c ...``), with whatever
its start-up files do (on the bench machine root's ``~/.bashrc`` runs ``pyenv init``: ~0.2 s
per channel), plus a channel's round trips. The agent (``ssh_scripts.AGENT``) is started once
per connection and reads requests from its stdin; each runs exactly as the one-channel
bootstrap would (the same values, the same supervisor, detached, its output in files beside
its status file), so crash safety is unchanged: when the controller dies, the connection
closes, the agent exits, and the command goes on and is recorded by its supervisor.

One request at a time per agent (``lock``); a second command for the same host meanwhile (a
record read, a kill) takes a channel of its own. A request ends when the ``DONE`` line with
its nonce has come on both streams; the stdout one carries the exit status.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

from phasegate.executors.base import OutputSink
from phasegate.executors.ssh_scripts import DONE, MARKER, OUTPUTS


class Collector:
    """What one request's lines say: its process group, boot errors, output, outputs."""

    def __init__(self, nonce: str, limit: int, on_output: OutputSink | None) -> None:
        self.nonce = nonce
        self.limit = limit
        self.on_output = on_output
        self.pgid: list[int] = []
        self.boot_errors: list[str] = []
        self._published: list[str] = []
        self._captured: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._sizes = {"stdout": 0, "stderr": 0}
        self._tagged = f"{OUTPUTS}{nonce} "

    def line(self, name: str, raw: str) -> None:
        line = raw[:-1] if raw.endswith("\n") else raw
        if name == "stdout" and not self.pgid and line.startswith(MARKER):
            with contextlib.suppress(ValueError):
                self.pgid.append(int(line[len(MARKER) :]))
            return
        if name == "stdout" and self.pgid and line.startswith(self._tagged):
            with contextlib.suppress(ValueError):
                text = base64.b64decode(line[len(self._tagged) :]).decode(errors="replace")
                self._published.append(text)
            return
        if name == "stderr" and not self.pgid and line.startswith("@@phasegate-error "):
            self.boot_errors.append(line[len("@@phasegate-error ") :])
            return
        if self._sizes[name] < self.limit:
            self._captured[name].append(raw[: self.limit - self._sizes[name]])
            self._sizes[name] += len(raw)
        if self.on_output is not None:
            self.on_output(name, line)

    def text(self, name: str) -> str:
        return "".join(self._captured[name])

    def published(self) -> str:
        return "".join(self._published)


class Agent:
    """The controller's side of one remote agent (a process on the connection)."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.lock = asyncio.Lock()
        self.gone = False
        self._current: tuple[Collector, asyncio.Future[int]] | None = None
        self._status: int | None = None
        self._stderr_done = False
        self._readers = asyncio.gather(self._read("stdout"), self._read("stderr"))

    def send(self, request: str, collector: Collector) -> asyncio.Future[int]:
        """Start a request; the future is its exit status (cancelled if the agent is gone)."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if self.gone:
            future.cancel()
            return future
        self._current = (collector, future)
        self._status, self._stderr_done = None, False
        self.process.stdin.write(request)
        return future

    async def _read(self, name: str) -> None:
        stream = self.process.stdout if name == "stdout" else self.process.stderr
        try:
            async for raw in stream:
                self._line(name, raw)
        except Exception:
            pass
        self._gone()

    def _line(self, name: str, raw: str) -> None:
        current = self._current
        if current is None:
            return  # nothing asked: a late line of an abandoned request
        collector, future = current
        done = f"{DONE}{collector.nonce}"
        if raw.startswith(done):
            if name == "stdout":
                with contextlib.suppress(ValueError):
                    self._status = int(raw[len(done) :].strip())
            else:
                self._stderr_done = True
            if self._status is not None and self._stderr_done and not future.done():
                self._current = None
                future.set_result(self._status)
            return
        collector.line(name, raw)

    def _gone(self) -> None:
        self.gone = True
        if self._current is not None:
            future = self._current[1]
            self._current = None
            if not future.done():
                future.cancel()

    def close(self) -> None:
        """Abandon the agent (a request that would not end): the next use starts another."""
        self._gone()
        with contextlib.suppress(Exception):
            self.process.close()
