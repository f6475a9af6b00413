"""kill -9 of the engine during a live step, then resume (issue 10 §2.2): the step's process
group is found from the journal, never runs twice at once, and its supervisor's record
settles its outcome. Real processes throughout: the CLI, the step, its supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phasegate.executors.supervisor import (
    SUPERVISOR_SCRIPT,
    find_supervisor,
    read_status,
    supervised,
)
from phasegate.store.process import proc_stat
from tests.conftest import CLI, items, write_plan

# The step appends "start T" and "end T" lines to times.txt; a TERM trap records its end too.
# Only the first execution takes {seconds}; a re-run is quick.
STEP = (
    "trap 'echo end $(date +%s.%N) killed >> times.txt; exit 143' TERM; "
    "echo start $(date +%s.%N) >> times.txt; d={seconds}; [ -e ran ] && d=0.1; touch ran; "
    "sleep $d & wait $!; "
    "echo end $(date +%s.%N) >> times.txt; echo {exit} > exit-code; exit {exit}"
)


def _plan(cli: CLI, seconds: float, *, idempotent: bool = True, exit: int = 0) -> Path:
    return write_plan(
        cli.cwd,
        f"""
        version: 1
        name: orphan
        phases:
          - id: p
            steps:
              - id: live
                idempotent: {"true" if idempotent else "false"}
                run: "{STEP.format(seconds=seconds, exit=exit)}"
                undo: "echo undone >> undo.txt"
              - id: after
                run: "echo after >> after.txt"
        """,
    )


def _runs(cli: CLI) -> list[tuple[float, float]]:
    """(start, end) of each execution of the live step, in order."""
    runs: list[tuple[float, float]] = []
    start: float | None = None
    for line in (cli.cwd / "times.txt").read_text().splitlines():
        word, stamp = line.split()[:2]
        if word == "start":
            assert start is None, "two executions started without one ending"
            start = float(stamp)
        else:
            assert start is not None
            runs.append((start, float(stamp)))
            start = None
    assert start is None, "an execution never recorded its end"
    return runs


def _kill_engine_during_step(cli: CLI, plan: Path) -> None:
    engine = cli.spawn("run", str(plan), "-q")
    deadline = time.monotonic() + 30
    times = cli.cwd / "times.txt"
    while not (times.exists() and "start" in times.read_text()):
        assert time.monotonic() < deadline, "the step never started"
        assert engine.poll() is None, engine.communicate()
        time.sleep(0.01)
    engine.send_signal(signal.SIGKILL)
    engine.communicate()


def _live_pid(cli: CLI) -> int:
    run_id = cli.status()["run"]["id"]
    status_file = cli.state_dir / "runs" / run_id / "logs" / "p_live.1.status"
    pid = find_supervisor(str(status_file))
    assert pid is not None
    return pid


def test_resume_waits_for_the_live_step_and_takes_its_recorded_exit(cli: CLI) -> None:
    plan = _plan(cli, 2.0)
    _kill_engine_during_step(cli, plan)
    # At once, while the step still runs: before issue 10 §2.2 an idempotent step was started
    # a second time here, overlapping the first.
    resumed = cli("resume", "last")
    assert resumed.returncode == 0, resumed.stderr
    runs = _runs(cli)
    assert len(runs) == 1, f"the step ran {len(runs)} times: {runs}"
    live = items(cli.status())["p/live"]
    assert live["status"] == "succeeded"
    assert "recovered from the supervisor's record" in live["message"]
    assert (cli.cwd / "after.txt").read_text() == "after\n"


def test_executions_never_overlap_when_the_orphan_is_killed(cli: CLI) -> None:
    plan = _plan(cli, 30.0)
    _kill_engine_during_step(cli, plan)
    resumed = cli("resume", "last", "--kill-orphans")
    assert resumed.returncode == 0, resumed.stderr
    runs = _runs(cli)
    # Killed by the operator's word, the idempotent step re-ran, strictly after the first.
    assert len(runs) == 2, runs
    (_, first_end), (second_start, _) = runs
    assert second_start >= first_end, f"executions overlap: {runs}"
    status = cli.status()
    assert any("killed its process group" in w["message"] for w in status["warnings"]), status


def test_a_non_idempotent_killed_orphan_waits_for_a_human(cli: CLI) -> None:
    plan = _plan(cli, 30.0, idempotent=False)
    _kill_engine_during_step(cli, plan)
    resumed = cli("resume", "last", "--kill-orphans")
    assert resumed.returncode == 4, resumed.stderr  # paused: outcome unknown
    assert len(_runs(cli)) == 1
    assert items(cli.status())["p/live"]["status"] == "unknown"


def test_resume_refuses_while_the_orphan_runs_past_the_wait(cli: CLI) -> None:
    plan = _plan(cli, 30.0)
    _kill_engine_during_step(cli, plan)
    pgid = _live_pid(cli)
    try:
        resumed = cli("resume", "last", "--orphan-wait", "0.5")
        assert resumed.returncode != 0
        assert "still running in process group" in resumed.stderr
        assert "--kill-orphans" in resumed.stderr
        assert "Traceback" not in resumed.stderr
        # Nothing was started beside it, and the orphan was left alone.
        assert (cli.cwd / "times.txt").read_text().count("start") == 1
        assert proc_stat(pgid) is not None
        assert items(cli.status())["p/live"]["status"] == "running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def test_a_step_that_failed_while_the_engine_was_dead_is_failed_not_unknown(cli: CLI) -> None:
    plan = _plan(cli, 1.0, idempotent=False, exit=3)
    _kill_engine_during_step(cli, plan)
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stderr  # failed and rolled back
    assert len(_runs(cli)) == 1
    live = items(cli.status())["p/live"]
    assert live["status"] == "failed" and live["exit_code"] == 3, live
    assert not (cli.cwd / "after.txt").exists()


def test_the_supervisor_records_exit_status_and_is_found_by_its_status_file(
    tmp_path: Path,
) -> None:
    status_file = tmp_path / "s.1.status"
    argv = supervised(
        [sys.executable, "-c", "import time; time.sleep(0.5); raise SystemExit(5)"],
        str(status_file),
    )
    proc = subprocess.Popen(argv, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        found = find_supervisor(str(status_file))
        while found is None and time.monotonic() < deadline:
            time.sleep(0.01)
            found = find_supervisor(str(status_file))
        assert found == proc.pid
        assert read_status(status_file) is None  # not finished yet
    finally:
        code = proc.wait(timeout=10)
    assert code == 5
    record = read_status(status_file)
    assert record is not None and record.status == 5 and record.signal is None
    assert find_supervisor(str(status_file)) is None


@pytest.mark.parametrize("content", [b"", b"0", b"0 end", b"x end\n", b"0 en\n"])
def test_an_incomplete_status_record_is_no_record(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.status"
    path.write_bytes(content)
    assert read_status(path) is None


def test_a_step_killed_by_a_signal_reads_as_a_signal_through_the_supervisor(
    tmp_path: Path,
) -> None:
    status_file = tmp_path / "s.status"
    code = subprocess.run(supervised(["sh", "-c", "kill -TERM $$"], str(status_file))).returncode
    assert code == -signal.SIGTERM
    record = read_status(status_file)
    assert record is not None and record.signal == signal.SIGTERM
    assert SUPERVISOR_SCRIPT  # the script the process table shows


def test_a_choice_for_a_step_that_finished_meanwhile_is_dropped_not_refused(cli: CLI) -> None:
    plan = _plan(cli, 1.0, idempotent=False)
    _kill_engine_during_step(cli, plan)
    # The operator chose before looking; the step then finished while resume waited for it.
    resumed = cli("resume", "last", "--skip-step", "p/live")
    assert resumed.returncode == 0, resumed.stderr
    assert "p/live succeeded meanwhile" in resumed.stderr + resumed.stdout
    assert items(cli.status())["p/live"]["status"] == "succeeded"
    assert len(_runs(cli)) == 1


def test_resume_enforces_the_timeout_of_a_step_the_dead_engine_left_running(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: orphan-timeout
        phases:
          - id: p
            steps:
              - id: live
                timeout: 2s
                run: "echo start $(date +%s.%N) >> times.txt; sleep 30"
        """,
    )
    _kill_engine_during_step(cli, plan)
    started = time.monotonic()
    resumed = cli("resume", "last")
    # Its timeout ran out while it was waited for: ended as its engine would have, failed
    # (before: unknown, and the run paused for a human while the step slept on).
    assert resumed.returncode == 1, resumed.stderr
    assert time.monotonic() - started < 20
    live = items(cli.status())["p/live"]
    assert live["status"] == "failed"
    assert "timed out after 2s while phasegate was not running" in live["message"]
    assert (cli.cwd / "times.txt").read_text().count("start") == 1


def test_an_abort_while_resume_waits_for_the_orphan_ends_it_and_rolls_back(cli: CLI) -> None:
    plan = _plan(cli, 30.0, idempotent=False)
    _kill_engine_during_step(cli, plan)
    pgid = _live_pid(cli)
    resume = cli.spawn("resume", "last")
    try:
        deadline = time.monotonic() + 30
        while not any("waits up to" in w["message"] for w in cli.status()["warnings"]):
            assert time.monotonic() < deadline and resume.poll() is None
            time.sleep(0.05)
        aborted = cli("abort", "last", timeout=60)
        assert aborted.returncode == 0, aborted.stderr
        _, err = resume.communicate(timeout=60)
    finally:
        if resume.poll() is None:
            resume.kill()
            resume.communicate()
    assert resume.returncode == 1, err  # rolled back
    assert proc_stat(pgid) is None or proc_stat(pgid).state == "Z"  # type: ignore[union-attr]
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert any("abort requested while resume waited" in w["message"] for w in status["warnings"])
    assert not (cli.cwd / "after.txt").exists()


def test_a_timed_out_step_still_gets_its_grace_through_the_supervisor(cli: CLI) -> None:
    """The supervisor must not end before the step does: on the timeout's SIGTERM the step's
    own handler runs (within the kill grace) and its output still streams to the log."""
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: grace
        phases:
          - id: p
            steps:
              - id: slow
                timeout: 1s
                run: >-
                  trap 'sleep 0.3; echo cleaned > cleaned.txt; exit 143' TERM;
                  echo working; sleep 30 & wait
        """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 1
    assert (cli.cwd / "cleaned.txt").read_text() == "cleaned\n"
    slow = items(cli.status())["p/slow"]
    assert "timed out" in slow["message"], slow
    assert "working" in Path(slow["log"]).read_text()
