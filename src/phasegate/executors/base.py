"""The executor interface: where a command runs (local shell today, SSH hosts later)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from phasegate.executors.stopping import StopRequest


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None when killed by a signal or a timeout
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    signal: int | None = None
    error: str | None = None  # could not start (no such program, bad cwd)
    # Remote executors: the host could not be reached (nothing ran), or the connection broke
    # while the command ran (its outcome is on the host, in its supervisor's record).
    unreachable: bool = False
    connection_lost: bool = False
    # Remote executors: what the command wrote to ``$PHASEGATE_OUTPUT``, sent back with its
    # end on the same channel (no second round trip); None when the executor did not read it.
    published: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.error is None


OutputSink = Callable[[str, str], None]  # (stream name "stdout"/"stderr", one line)


class Executor(Protocol):
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
        """Run argv to completion; on timeout, or when ``stop`` asks, end its whole process
        group (SIGTERM, then SIGKILL).

        ``on_spawn`` receives the pid of the process-group leader once it runs. With
        ``status_file``, the command runs under a supervisor that records its exit status
        there even if phasegate dies meanwhile (``executors.supervisor``)."""
        ...
