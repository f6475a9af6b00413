"""The local executor's spawn path (executors/local.py): a child watched by the event loop's
readers (two pipes and a pidfd), and the thread fallback for kernels without pidfd_open."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from phasegate.executors import local
from phasegate.executors.local import LocalExecutor
from phasegate.executors.supervisor import read_mark, read_status

SCRIPT = "printf 'a\\nb'; printf 'oops\\n' >&2; exit 3"


def _run(argv: list[str], cwd: Path, **options: object) -> local.ProcessResult:
    lines: list[tuple[str, str]] = []

    async def main() -> local.ProcessResult:
        return await LocalExecutor().run(
            argv,
            env={"PATH": os.environ["PATH"]},
            cwd=str(cwd),
            timeout=30,
            on_output=lambda stream, line: lines.append((stream, line)),
            **options,  # type: ignore[arg-type]
        )

    result = asyncio.run(main())
    assert sorted(lines) == [("stderr", "oops"), ("stdout", "a"), ("stdout", "b")]
    return result


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "waiter-thread"])
def test_output_exit_status_and_cwd_come_back_whichever_way_the_exit_is_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pidfd: bool
) -> None:
    if not pidfd:

        def no_pidfd(pid: int, flags: int = 0) -> int:
            raise OSError(38, "Function not implemented")

        monkeypatch.setattr(local.os, "pidfd_open", no_pidfd)
    result = _run(["/bin/sh", "-c", SCRIPT + "; pwd > where"], tmp_path)
    assert (result.exit_code, result.signal, result.timed_out) == (3, None, False)
    assert (result.stdout, result.stderr) == ("a\nb", "oops\n")
    status_less = _run(["/bin/sh", "-c", f"pwd > where; {SCRIPT}"], tmp_path)
    assert status_less.exit_code == 3
    assert (tmp_path / "where").read_text().strip() == str(tmp_path)


def test_the_supervised_command_records_its_status_and_the_step_its_pid(tmp_path: Path) -> None:
    status = tmp_path / "status"
    spawned: list[int] = []
    result = _run(
        ["/bin/sh", "-c", SCRIPT], tmp_path, status_file=str(status), on_spawn=spawned.append
    )
    assert result.exit_code == 3
    record = read_status(status)
    assert record is not None and (record.status, record.signal) == (3, None)
    (pid,) = spawned
    # The run's supervisor spawned the command itself (no shell between): the pid the step
    # journals is the command's, and the status file names it and the supervisor.
    mark = read_mark(status)
    assert mark is not None and mark.pid == pid and mark.supervisor != os.getpid()
    with pytest.raises(ChildProcessError):  # reaped by the executor, not left a zombie
        os.waitpid(pid, os.WNOHANG)


def test_a_missing_working_directory_is_the_commands_failure_not_the_engines(
    tmp_path: Path,
) -> None:
    async def main() -> local.ProcessResult:
        return await LocalExecutor().run(
            ["/bin/true"], env={}, cwd=str(tmp_path / "gone"), timeout=5
        )

    result = asyncio.run(main())
    assert result.exit_code is None and result.error and "gone" in result.error


def test_a_background_child_holding_the_pipes_does_not_hold_the_step(tmp_path: Path) -> None:
    """The command ends; a child it left (``sleeper &``) keeps stdout open: the executor stops
    reading after the drain grace, keeping what was printed, the last line without newline
    too."""

    async def main() -> local.ProcessResult:
        return await LocalExecutor().run(
            ["/bin/sh", "-c", "sleep 30 & echo $! > bg.pid; printf 'first\\nlast'"],
            env={"PATH": os.environ["PATH"]},
            cwd=str(tmp_path),
            timeout=60,
        )

    try:
        result = asyncio.run(main())
        assert result.exit_code == 0
        assert result.stdout == "first\nlast"
    finally:
        os.kill(int((tmp_path / "bg.pid").read_text()), 9)
