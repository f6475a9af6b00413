"""A phase's background monitors (issue 11 §2): they run beside the phase's steps, their
output is logged, and they are ended with the phase however it ends (success, failure and
rollback, abort, kill -9 of the engine then resume). Real CLI processes, real monitor process
groups, real SQLite; "gone" means no live process is left in the journalled process group."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from phasegate.store.invariants import check_store
from phasegate.store.process import group_members
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan

# Appends "tick <time>" to ticks.txt every 0.1 s, and prints it, for ever.
TICKER = "while :; do t=$(date +%s.%N); echo tick $t; echo tick $t >> ticks.txt; sleep 0.1; done"
# The same, silent: a monitor that would not die of SIGPIPE once its engine is gone.
QUIET = "while :; do date +%s.%N >> quiet.txt; sleep 0.1; done"
STEP = "date +%s.%N > step-start; sleep 1; date +%s.%N > step-end"


def _plan(cli: CLI, step: str = STEP, *, monitor: str = TICKER, extra: str = "") -> Path:
    return write_plan(
        cli.cwd,
        f"""
        version: 1
        name: monitored
        phases:
          - id: deploy
            monitors:
              - name: ticker
                run: {json.dumps(monitor)}
            steps:
              - id: work
                idempotent: true
                run: {json.dumps(step)}
            rollback:
              - touch rolled-back
        {extra}
        """,
    )


def _monitors(cli: CLI) -> dict[str, dict[str, Any]]:
    return {m["key"]: m for m in cli.status()["monitors"]}


def _events(cli: CLI, prefix: str) -> list[dict[str, Any]]:
    run_id = cli.status()["run"]["id"]
    store = SqliteStore(cli.state_dir)
    events = [{"type": t, **data} for _, _, t, data in store.events(run_id) if t.startswith(prefix)]
    assert check_store(store)["ok"]  # the journal with monitor events replays as stored
    return events


def _gone(pgid: int) -> bool:
    """No live process left in the group (bounded wait: SIGKILL sweeps are asynchronous)."""
    deadline = time.monotonic() + 5
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not group_members(pgid)


def _ticks(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line.split()[-1]) for line in path.read_text().splitlines() if line.strip()]


def test_a_monitor_runs_beside_the_step_and_is_gone_when_the_phase_ends(cli: CLI) -> None:
    plan = _plan(cli, extra="  - {id: after, needs: [deploy], steps: [{run: touch after}]}")
    ran = cli("run", str(plan), "--no-output")
    assert ran.returncode == 0, ran.stderr
    start = float((cli.cwd / "step-start").read_text())
    end = float((cli.cwd / "step-end").read_text())
    during = [t for t in _ticks(cli.cwd / "ticks.txt") if start <= t <= end]
    # beside the step, not before or after it: it ticked while the 1 s step ran
    assert len(during) >= 3, during
    [monitor] = _monitors(cli).values()
    assert monitor["status"] == "stopped" and monitor["on"] == "phase succeeded"
    assert monitor["signals"][0] == "SIGTERM"
    assert monitor["process"]["pgid"] and _gone(monitor["process"]["pgid"])
    # it stays gone: nothing ticks after the run
    count = len(_ticks(cli.cwd / "ticks.txt"))
    time.sleep(0.4)
    assert len(_ticks(cli.cwd / "ticks.txt")) == count
    # its output is its log, reachable as a step's is
    logs = cli("logs", "last", "monitor:ticker")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.count("tick ") >= 3
    # journal: started, spawned, then stopped by phasegate, before the run's end
    types = [e["type"] for e in _events(cli, "monitor.")]
    assert types == ["monitor.started", "monitor.spawned", "monitor.finished"]
    shown = cli("status", "last")
    assert "monitor ticker" in shown.stdout and "stopped by phasegate" in shown.stdout


def test_a_failure_rolls_back_and_ends_the_monitor(cli: CLI) -> None:
    plan = _plan(cli, "sleep 0.5; exit 1")
    ran = cli("run", str(plan), "--no-output")
    assert ran.returncode == 1, ran.stderr
    assert (cli.cwd / "rolled-back").exists()
    [monitor] = _monitors(cli).values()
    assert monitor["status"] == "stopped"
    assert monitor["on"] in ("rollback", "phase failed")
    assert monitor["finished_at"] <= cli.status()["rollback"]["finished_at"]
    assert _gone(monitor["process"]["pgid"])
    assert len(_ticks(cli.cwd / "ticks.txt")) >= 2


def test_a_monitor_that_ends_by_itself_fails_nothing(cli: CLI) -> None:
    plan = _plan(cli, "sleep 0.5", monitor="echo looking; exit 3")
    ran = cli("run", str(plan), "--no-output")
    assert ran.returncode == 0, ran.stderr
    [monitor] = _monitors(cli).values()
    assert (monitor["status"], monitor["exit_code"]) == ("exited", 3)
    assert "looking" in cli("logs", "last", "monitor").stdout


def test_every_repeats_a_short_command_until_the_phase_ends(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: every
        phases:
          - id: p
            monitors:
              - {name: look, run: "date +%s.%N >> looks.txt", every: 0.2s}
            steps:
              - run: sleep 1
        """,
    )
    ran = cli("run", str(plan), "--no-output")
    assert ran.returncode == 0, ran.stderr
    looks = _ticks(cli.cwd / "looks.txt")
    assert 3 <= len(looks) <= 8, looks
    [monitor] = _monitors(cli).values()
    assert monitor["status"] == "stopped" and _gone(monitor["process"]["pgid"])
    preview = cli("plan", str(plan))
    assert "monitor look: date +%s.%N >> looks.txt  (again 200ms after it ends)" in preview.stdout


def _wait_for(path: Path, engine: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while len(_ticks(path)) < 3:
        assert time.monotonic() < deadline, f"{what} never started"
        assert engine.poll() is None, engine.communicate()
        time.sleep(0.05)


def test_abort_ends_the_monitor_with_the_step(cli: CLI) -> None:
    plan = _plan(cli, "sleep 30")
    engine = cli.spawn("run", str(plan), "--no-output")
    _wait_for(cli.cwd / "ticks.txt", engine, "the monitor")
    aborted = cli("abort", "last", "--grace", "1")
    assert aborted.returncode == 0, aborted.stderr
    engine.communicate(timeout=60)
    assert engine.returncode == 1
    assert (cli.cwd / "rolled-back").exists()
    [monitor] = _monitors(cli).values()
    # ended when the aborted phase stopped (or the rollback began), before the rollback ended
    assert monitor["status"] == "stopped" and monitor["on"] in ("phase stopped", "rollback")
    assert monitor["finished_at"] <= cli.status()["rollback"]["finished_at"]
    assert _gone(monitor["process"]["pgid"])


def _crash_mid_phase(cli: CLI, monitor: str) -> int:
    """Run a plan whose step lasts until the test says `go`, kill -9 its engine while the
    monitor runs; the monitor's process group."""
    plan = _plan(cli, "while [ ! -e go ]; do sleep 0.05; done; touch step-done", monitor=monitor)
    engine = cli.spawn("run", str(plan), "--no-output")
    try:
        _wait_for(cli.cwd / "quiet.txt", engine, "the monitor")
        # monitor.spawned is a deferred journal write (an observation, flushed within a poll of
        # the engine loop): wait for it rather than race it.
        deadline = time.monotonic() + 30
        while "process" not in _monitors(cli)["deploy/monitor:ticker"]:
            assert time.monotonic() < deadline, "monitor.spawned never reached the journal"
            assert engine.poll() is None, engine.communicate()
            time.sleep(0.05)
        pgid = int(_monitors(cli)["deploy/monitor:ticker"]["process"]["pgid"])
    except BaseException:
        (cli.cwd / "go").touch()  # a failed test leaves no step waiting forever
        engine.kill()
        engine.communicate()
        raise
    engine.send_signal(signal.SIGKILL)
    engine.communicate()
    return pgid


def _resume_restarts_and_ends_it(cli: CLI, first: int) -> list[dict[str, Any]]:
    (cli.cwd / "go").touch()  # the orphaned step ends; resume takes its supervisor's record
    resumed = cli("resume", "last", "--no-output")
    assert resumed.returncode == 0, resumed.stderr
    assert _gone(first)
    [monitor] = _monitors(cli).values()
    # settled at takeover, started again for the rest of the phase, ended with the phase
    assert monitor["attempt"] == 2 and monitor["status"] == "stopped"
    assert monitor["process"]["pgid"] != first and _gone(monitor["process"]["pgid"])
    ends = _events(cli, "monitor.finished")
    assert [e["on"] for e in ends] == ["takeover", "phase succeeded"]
    count = len(_ticks(cli.cwd / "quiet.txt"))
    time.sleep(0.4)
    assert len(_ticks(cli.cwd / "quiet.txt")) == count, "something still writes"
    return ends


def test_kill_9_of_the_engine_a_monitor_ends_by_itself_within_seconds(cli: CLI) -> None:
    # Silent, so no SIGPIPE ends it: its watchdog does, with nobody resuming the run.
    first = _crash_mid_phase(cli, QUIET)
    assert _gone(first), "the monitor outlived its dead engine"
    ends = _resume_restarts_and_ends_it(cli, first)
    assert ends[0]["signals"] == []  # nothing was left for the takeover to end


def test_kill_9_then_resume_ends_a_monitor_that_ignores_sigterm(cli: CLI) -> None:
    # It shrugs off its watchdog's SIGTERM and lives on: resume ends it (SIGKILL after grace).
    first = _crash_mid_phase(cli, "trap '' TERM; " + QUIET)
    time.sleep(2.5)  # the watchdog has had its go
    assert group_members(first), "the monitor died; the test proves nothing"
    ends = _resume_restarts_and_ends_it(cli, first)
    assert ends[0]["signals"] == ["SIGTERM", "SIGKILL"]


def test_sigterm_to_the_engine_ends_the_monitor_and_resume_restarts_it(cli: CLI) -> None:
    plan = _plan(cli, "[ -e once ] && exit 0; touch once; sleep 30")
    engine = cli.spawn("run", str(plan), "--no-output", "--grace", "0")
    _wait_for(cli.cwd / "ticks.txt", engine, "the monitor")
    engine.send_signal(signal.SIGTERM)
    engine.communicate(timeout=60)
    assert engine.returncode == 130
    [monitor] = _monitors(cli).values()
    assert monitor["status"] == "stopped" and monitor["on"] == "SIGTERM"
    assert _gone(monitor["process"]["pgid"])
    resumed = cli("resume", "last", "--no-output")
    assert resumed.returncode == 0, resumed.stderr
    [monitor] = _monitors(cli).values()
    assert (monitor["attempt"], monitor["status"]) == (2, "stopped")
    assert monitor["on"] == "phase succeeded"
    assert _gone(monitor["process"]["pgid"])


def test_monitor_names_are_distinct_within_a_phase(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: twice
        phases:
          - id: p
            monitors:
              - {name: a, run: "true"}
              - {name: a, run: "true"}
            steps: [{run: "true"}]
        """,
    )
    checked = cli("validate", str(plan))
    assert checked.returncode == 2
    assert "monitor names must be distinct within a phase: a" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_no_monitor_process_survives_its_test() -> None:
    # A sweep over /proc for the commands these tests start: none may be left running.
    leftovers = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ticks.txt" in cmdline or b"quiet.txt" in cmdline or b"looks.txt" in cmdline:
            leftovers.append(name)
    assert leftovers == []


def test_a_monitor_sees_the_shell_session_of_the_steps_before_its_phase(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: session
        shell_session: true
        phases:
          - id: setup
            steps:
              - run: export NS=prod-eu; cd "$RUN_DIR"
          - id: watch
            needs: [setup]
            monitors:
              - name: pods
                run: 'echo "$NS $(pwd)" > seen.txt; exec sleep 600'
            steps:
              - run: 'while [ ! -s seen.txt ]; do sleep 0.05; done'
        """,
    )
    ran = cli("run", str(plan), "--no-output")
    assert ran.returncode == 0, ran.stderr
    run_dir = Path(cli.status()["vars"]["RUN_DIR"])
    assert (run_dir / "seen.txt").read_text().split() == ["prod-eu", str(run_dir)]
    [monitor] = _monitors(cli).values()
    assert monitor["status"] == "stopped" and _gone(monitor["process"]["pgid"])
