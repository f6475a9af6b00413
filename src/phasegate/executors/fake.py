"""A scripted executor for tests of the engine: no processes, results decided by a function."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from phasegate.executors.base import OutputSink, ProcessResult
from phasegate.executors.stopping import StopRequest


class FakeExecutor:
    name = "fake"

    def __init__(self, decide: Callable[[Sequence[str]], int] | None = None) -> None:
        self.calls: list[list[str]] = []
        self._decide = decide or (lambda argv: 0)

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
        self.calls.append(list(argv))
        code = self._decide(argv)
        return ProcessResult(exit_code=code, stdout="", stderr="", duration=0.0)
