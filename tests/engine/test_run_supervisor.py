"""The run's step supervisor (executors/supervisor_main.py, run_supervisor.py): one process per
run spawns every supervised command and records how it ended, in place of a ``/bin/sh`` per
step. Real processes throughout: the CLI, the supervisor, the steps; kill -9 is a real
SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from phasegate.executors import local
from phasegate.executors.local import LocalExecutor
from phasegate.executors.run_supervisor import SupervisorGone
from phasegate.executors.stopping import StopRequest
from phasegate.executors.supervisor import (
    await_record,
    find_supervisor,
    read_mark,
    read_status,
)
from phasegate.executors.supervisor_main import _start_of
from phasegate.store.process import proc_stat
from tests.conftest import CLI, items, write_plan


def _ppid(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(raw[raw.rfind(b")") + 2 :].split()[1])


def _gone(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is None or stat.state in ("Z", "X")


def _wait_for(predicate: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_one_supervisor_spawns_every_step_of_a_run_and_exits_with_the_run(tmp_path: Path) -> None:
    """Three supervised commands of one run: one supervisor, the parent of each (no shell in
    between), each record its command's exit status; it is gone once the run's loop ends."""
    seen: list[tuple[int, int | None, int]] = []  # (command pid, its parent, supervisor pid)

    async def main() -> list[local.ProcessResult]:
        executor = LocalExecutor()
        results = []
        for code in (0, 4, 0):
            status = tmp_path / f"s{code}.{len(results)}.status"

            def spawned(pid: int) -> None:
                supervisor = executor._supervisor
                assert supervisor is not None
                seen.append((pid, _ppid(pid), supervisor.pid))

            results.append(
                await executor.run(
                    ["/bin/sh", "-c", f"sleep 0.05; exit {code}"],
                    env={"PATH": os.environ["PATH"]},
                    cwd=str(tmp_path),
                    timeout=30,
                    on_spawn=spawned,
                    status_file=str(status),
                )
            )
            record = read_status(status)
            assert record is not None and record.status == code
        return results

    results = asyncio.run(main())
    assert [r.exit_code for r in results] == [0, 4, 0]
    supervisors = {sup for _, _, sup in seen}
    assert len(supervisors) == 1, seen
    (supervisor,) = supervisors
    assert all(parent == supervisor for _, parent, _ in seen), seen
    assert supervisor != os.getpid()
    assert _gone(supervisor), "the supervisor outlived its run"


def test_a_stop_ends_the_whole_tree_of_a_supervised_command(tmp_path: Path) -> None:
    """An abort (a StopRequest) kills the command's process group: the command and a child it
    started in the background, and the record says it died of a signal."""
    status = tmp_path / "s.status"

    async def main() -> local.ProcessResult:
        stop = StopRequest()

        async def abort_when_ready() -> None:
            # Written, not only created: the shell opens the file before echo writes to it.
            pid_file = tmp_path / "bg.pid"
            while not (pid_file.exists() and pid_file.read_text().endswith("\n")):
                await asyncio.sleep(0.01)
            stop.request("abort", wait=0, grace=2)

        asyncio.get_running_loop().create_task(abort_when_ready())
        return await LocalExecutor().run(
            ["/bin/sh", "-c", "sleep 60 & echo $! > bg.pid; wait"],
            env={"PATH": os.environ["PATH"]},
            cwd=str(tmp_path),
            timeout=60,
            stop=stop,
            status_file=str(status),
        )

    result = asyncio.run(main())
    assert result.signal == signal.SIGTERM and result.exit_code is None
    background = int((tmp_path / "bg.pid").read_text())
    _wait_for(lambda: _gone(background), "the background child outlived the abort", 10)
    record = read_status(status)
    assert record is not None and record.signal == signal.SIGTERM


def test_no_secret_reaches_the_supervisors_command_line_or_environment(tmp_path: Path) -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    found: dict[str, bytes] = {}

    async def main() -> local.ProcessResult:
        executor = LocalExecutor()

        def spawned(pid: int) -> None:
            supervisor = executor._supervisor
            assert supervisor is not None
            found["cmdline"] = Path(f"/proc/{supervisor.pid}/cmdline").read_bytes()
            found["environ"] = Path(f"/proc/{supervisor.pid}/environ").read_bytes()

        return await executor.run(
            ["/bin/sh", "-c", 'test "$TOKEN" = ' + secret],
            env={"PATH": os.environ["PATH"], "TOKEN": secret},
            cwd=str(tmp_path),
            timeout=30,
            on_spawn=spawned,
            status_file=str(tmp_path / "s.status"),
        )

    result = asyncio.run(main())
    assert result.exit_code == 0  # the command had its secret
    assert found["cmdline"] and secret.encode() not in found["cmdline"]
    assert secret.encode() not in found["environ"]


def test_a_request_too_large_for_the_supervisor_falls_back_to_a_shell(tmp_path: Path) -> None:
    status = tmp_path / "s.status"
    big = {f"V{i}": "x" * 60_000 for i in range(4)}  # 240 KB of environment

    async def main() -> tuple[local.ProcessResult, list[int]]:
        spawned: list[int] = []
        result = await LocalExecutor().run(
            ["/bin/sh", "-c", "test ${#V3} = 60000 && exit 6"],
            env={"PATH": os.environ["PATH"], **big},
            cwd=str(tmp_path),
            timeout=30,
            on_spawn=spawned.append,
            status_file=str(status),
        )
        return result, spawned

    result, _ = asyncio.run(main())
    assert result.exit_code == 6
    record = read_status(status)
    assert record is not None and record.status == 6
    assert read_mark(status) is None  # the shell supervisor wrote it: no run supervisor's line


def test_a_record_on_its_way_is_waited_for_while_its_supervisor_lives(tmp_path: Path) -> None:
    """The supervisor appends the record just before it reaps the command: a reader who sees
    the command gone first waits for the record while the supervisor named in the file lives,
    and not at all when it is gone."""
    me = Path("/proc/self/stat").read_bytes()
    start = me[me.rfind(b")") + 2 :].split()[19].decode()
    status = tmp_path / "s.status"
    status.write_text(f"999999 1 {os.getpid()} {start} run\n")

    def append() -> None:
        with status.open("a") as fh:
            fh.write("0 end\n")

    timer = threading.Timer(0.3, append)
    timer.start()
    try:
        record = await_record(status, wait=20)
    finally:
        timer.join()
    assert record is not None and record.status == 0
    assert find_supervisor(str(status)) is None  # recorded: nothing to wait for

    dead = tmp_path / "d.status"
    dead.write_text("999999 1 999998 1 run\n")  # its supervisor is no more
    started = time.monotonic()
    assert await_record(dead, wait=20) is None
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("exit_code", [0, 3])
def test_kill_9_of_the_engine_leaves_the_step_to_the_supervisor_and_resume_reads_it(
    cli: CLI, exit_code: int
) -> None:
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: run-supervisor
        phases:
          - id: p
            steps:
              - id: live
                run: >-
                  echo run >> runs.txt; while [ ! -e go ]; do sleep 0.05; done;
                  exit {exit_code}
              - id: after
                run: "echo after >> after.txt"
        """,
    )
    engine = cli.spawn("run", str(plan), "-q")
    runs = cli.cwd / "runs.txt"
    _wait_for(lambda: runs.exists() or engine.poll() is not None, "the step never started")
    assert engine.poll() is None, engine.communicate()
    run_id = cli.status()["run"]["id"]
    status_file = cli.state_dir / "runs" / run_id / "logs" / "p_live.1.status"
    _wait_for(lambda: read_mark(status_file) is not None, "no supervisor's line")
    mark = read_mark(status_file)
    assert mark is not None
    assert _ppid(mark.pid) == mark.supervisor  # spawned by the run's supervisor
    engine.send_signal(signal.SIGKILL)
    engine.communicate()
    # The engine is dead; its supervisor and the step are not.
    assert not _gone(mark.supervisor) and not _gone(mark.pid)
    assert find_supervisor(str(status_file)) == mark.pid
    (cli.cwd / "go").touch()
    _wait_for(lambda: _gone(mark.supervisor), "the supervisor did not exit after its step")
    record = read_status(status_file)
    assert record is not None and record.status == exit_code

    resumed = cli("resume", "last")
    live = items(cli.status())["p/live"]
    assert runs.read_text() == "run\n"  # never run again
    assert "recovered from the supervisor's record" in live["message"]
    if exit_code == 0:
        assert resumed.returncode == 0, resumed.stderr
        assert live["status"] == "succeeded"
        assert (cli.cwd / "after.txt").read_text() == "after\n"
    else:
        assert resumed.returncode == 1, resumed.stderr
        assert live["status"] == "failed" and live["exit_code"] == exit_code
        assert not (cli.cwd / "after.txt").exists()


def test_every_spawned_step_is_journalled_with_its_start_time_quick_ones_too(cli: CLI) -> None:
    """``item.spawned`` names the command by (pid, start time): the start comes with the
    supervisor's answer, read when it spawned the command, so a step that is over before the
    engine hears of it still has one (it was null for most quick steps when the engine read
    /proc itself), and it is the start the status file's first line gives."""
    steps = "".join(f"\n              - {{id: s{n}, run: [/usr/bin/true]}}" for n in range(8))
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: quick-starts
        phases:
          - id: p
            steps:{steps}
        """,
    )
    assert cli("run", str(plan), "-q").returncode == 0
    run_id = cli.status()["run"]["id"]
    db = sqlite3.connect(cli.state_dir / "phasegate.db")
    spawned = {
        data["key"]: data
        for (data,) in (
            (json.loads(row[0]),)
            for row in db.execute(
                "SELECT data FROM events WHERE run_id = ? AND type = 'item.spawned'", (run_id,)
            )
        )
    }
    db.close()
    assert sorted(spawned) == [f"p/s{n}" for n in range(8)]
    mine = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    now = float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK")
    for key, event in spawned.items():
        name = key.replace("/", "_")
        mark = read_mark(cli.state_dir / "runs" / run_id / "logs" / f"{name}.1.status")
        assert mark is not None
        assert (event["pid"], event["start"]) == (mark.pid, mark.start), key
        # In clock ticks since boot: after this test's process started, before now.
        assert mine <= int(event["start"]) <= now + 1, key


def test_a_command_that_cannot_start_is_refused_and_the_supervisor_serves_on(
    tmp_path: Path,
) -> None:
    """A NUL in an argument, in the working directory, in the environment: each is the
    command's spawn error (as without a supervisor); the same supervisor runs the next one."""
    pids: list[int] = []

    async def main() -> list[local.ProcessResult]:
        executor = LocalExecutor()
        results = []
        for argv, cwd, env in (
            (["/bin/echo", "a\0b"], str(tmp_path), {}),
            (["/bin/true"], str(tmp_path / "a\0b"), {}),
            (["/bin/true"], str(tmp_path), {"X": "a\0b"}),
            (["/bin/sh", "-c", "exit 2"], str(tmp_path), {}),
        ):
            results.append(
                await executor.run(
                    argv, env=env, cwd=cwd, timeout=30, status_file=str(tmp_path / "s.status")
                )
            )
            assert executor._supervisor is not None
            pids.append(executor._supervisor.pid)
        return results

    *refused, ran = asyncio.run(main())
    for result in refused:
        assert result.exit_code is None and result.error is not None
        assert "cannot contain NUL" in result.error
    assert ran.exit_code == 2 and ran.error is None
    assert len(set(pids)) == 1, pids


def test_a_command_outliving_a_killed_supervisor_is_waited_for_and_reads_unknown(
    tmp_path: Path,
) -> None:
    """Someone kills the run's supervisor while a command runs: the engine does not take the
    command for ended (a rollback beside it would overlap it); it reports the outcome as
    unknown once the command has ended."""
    go = tmp_path / "go"
    seen: dict[str, bool] = {}

    async def main() -> local.ProcessResult:
        executor = LocalExecutor()

        async def kill_then_release() -> None:
            while not (tmp_path / "started").exists():
                await asyncio.sleep(0.01)
            supervisor = executor._supervisor
            assert supervisor is not None
            os.kill(supervisor.pid, signal.SIGKILL)
            await asyncio.sleep(0.5)
            seen["ended before released"] = run.done()
            go.touch()

        run = asyncio.ensure_future(
            executor.run(
                ["/bin/sh", "-c", "touch started; while [ ! -e go ]; do sleep 0.02; done"],
                env={"PATH": os.environ["PATH"]},
                cwd=str(tmp_path),
                timeout=60,
                status_file=str(tmp_path / "s.status"),
            )
        )
        await kill_then_release()
        return await run

    result = asyncio.run(main())
    assert seen == {"ended before released": False}
    assert result.exit_code is None and result.error == local.LOST


class _DiesAfterSpawning:
    """A run supervisor killed in the instant between spawning a command and saying so: the
    command runs (a real process holding the step's output pipes, its pid in the status
    file's first line, as supervisor_main writes it), and the reply is ``SupervisorGone``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.alive = True
        self.spawned: list[subprocess.Popen[bytes]] = []

    def request(
        self, argv: list[str], env: dict[str, str], cwd: str, status: str, out_w: int, err_w: int
    ) -> asyncio.Future[int]:
        proc = subprocess.Popen(
            argv, stdout=out_w, stderr=err_w, env=env, cwd=cwd, start_new_session=True
        )
        self.spawned.append(proc)
        start = _start_of(proc.pid)
        Path(status).write_text(f"{proc.pid} {start} {os.getpid()} {start} run\n")
        self.alive = False
        reply: asyncio.Future[int] = self.loop.create_future()
        reply.set_exception(SupervisorGone())
        return reply

    def close(self) -> None:
        for proc in self.spawned:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def test_a_command_spawned_by_a_supervisor_killed_before_it_answered_is_waited_for(
    tmp_path: Path,
) -> None:
    """The supervisor dies after it spawned the command and before it told the engine: the
    step's outcome is unknown, and it is reported only once the command has ended (a retry or
    a rollback never overlaps a command still running); what the command printed is in the
    step's log."""
    done = tmp_path / "done"
    lines: list[tuple[str, str]] = []

    async def main() -> tuple[local.ProcessResult, bool, _DiesAfterSpawning]:
        executor = LocalExecutor()
        fake = _DiesAfterSpawning(asyncio.get_running_loop())
        executor._supervisor = fake  # type: ignore[assignment]
        result = await executor.run(
            ["sh", "-c", f"echo working; sleep 1; echo finished; touch {done}"],
            env={"PATH": os.environ["PATH"]},
            cwd=str(tmp_path),
            timeout=60,
            on_output=lambda stream, line: lines.append((stream, line)),
            status_file=str(tmp_path / "step.status"),
        )
        return result, done.exists(), fake

    result, ended_first, fake = asyncio.run(main())
    fake.close()
    assert ended_first, "the outcome was reported while the command still ran"
    assert result.exit_code is None and result.error == local.LOST
    assert ("stdout", "working") in lines and ("stdout", "finished") in lines


def test_an_abort_while_waiting_for_such_a_command_ends_it(tmp_path: Path) -> None:
    """Cancelled while it waits for a command a dead supervisor left (an abort, a timeout of
    the step), the engine ends that command: its pid is the status file's first line."""

    async def main() -> _DiesAfterSpawning:
        executor = LocalExecutor()
        fake = _DiesAfterSpawning(asyncio.get_running_loop())
        executor._supervisor = fake  # type: ignore[assignment]
        task = asyncio.ensure_future(
            executor.run(
                ["sleep", "600"],
                env={"PATH": os.environ["PATH"]},
                cwd=str(tmp_path),
                timeout=None,
                status_file=str(tmp_path / "step.status"),
            )
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return fake

    fake = asyncio.run(main())
    (proc,) = fake.spawned
    assert proc.wait(timeout=10) == -signal.SIGKILL
