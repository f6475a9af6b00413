"""`abort` ends the running step (SIGTERM, SIGKILL after --grace) and rolls back at once
(issue 10 §2.1): real `phasegate run` and `phasegate abort` processes, timings read from the
journal."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, items, write_plan

# The long step records its pid, then sleeps in the foreground of its own process group.
PLAN = """
    version: 1
    name: abortable
    phases:
      - id: p
        steps:
          - {id: mark, run: "touch marked", undo: "echo undone >> undo.log; rm -f marked"}
          - id: long
            run: "{long}"
"""
PLAIN = "echo $$ > long.pid; sleep 60"
# Ignores SIGTERM: only the SIGKILL after the grace period ends it.
STUBBORN = "trap '' TERM; echo $$ > long.pid; sleep 60 & wait; sleep 60"


def _wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _events(cli: CLI, run_id: str) -> list[tuple[float, str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir)
    try:
        return [(ts, etype, data) for _, ts, etype, data in store.events(run_id)]
    finally:
        store.db.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of a process that exited is dead too.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2] != "Z"


def _start(cli: CLI, command: str) -> tuple[Any, int, str]:
    plan = write_plan(cli.cwd, PLAN.replace("{long}", command))
    runner = cli.spawn("run", str(plan))
    pid_file = cli.cwd / "long.pid"
    _wait_for(lambda: pid_file.exists() and pid_file.read_text().strip())
    run_id = cli.json("history")[0]["id"]
    return runner, int(pid_file.read_text()), run_id


def _requested_at(cli: CLI, run_id: str) -> float:
    """When `abort` wrote its request (its own start-up, ~0.5-1 s of imports on a busy
    machine, comes before)."""
    store = SqliteStore(cli.state_dir)
    try:
        row = store.db.execute(
            "SELECT created_at FROM requests WHERE run_id = ? AND kind = 'abort'", (run_id,)
        ).fetchone()
        return float(row[0])
    finally:
        store.db.close()


def _first_undo_start(events: list[tuple[float, str, dict[str, Any]]]) -> float:
    return next(
        ts for ts, etype, data in events if etype == "item.started" and data["kind"] == "undo"
    )


def test_abort_ends_the_running_step_and_rolls_back_within_the_grace(cli: CLI) -> None:
    runner, pid, run_id = _start(cli, PLAIN)
    try:
        asked = time.time()
        result = cli("abort", run_id, "--grace", "3s", "--reason", "bad canary")
        assert result.returncode == 0, result.stderr
        # What abort says is what its owner acknowledged: it names the step it ends.
        assert f"its owner (pid {runner.pid}) is ending p/long" in result.stdout
        assert "SIGTERM, SIGKILL after 3s" in result.stdout
        runner.communicate(timeout=30)
        assert runner.returncode == 1
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    events = _events(cli, run_id)
    # The rollback's first undo starts within grace + 1 s of the abort (the step ends on
    # SIGTERM, so well before), not after the 60 s step.
    assert _first_undo_start(events) - _requested_at(cli, run_id) < 3 + 1
    assert _first_undo_start(events) - asked < 3 + 10  # with CLI start-up (loaded machine)
    assert not _alive(pid)
    long = items(cli.status(run_id))["p/long"]
    assert long["status"] == "failed"
    assert "killed by phasegate on abort (SIGTERM)" in long["message"]
    finished = [d for _, e, d in events if e == "item.finished" and d["key"] == "p/long"]
    assert finished[-1]["killed"] == {"by": "phasegate", "on": "abort", "signals": ["SIGTERM"]}
    assert (cli.cwd / "undo.log").read_text() == "undone\n"
    assert cli.status(run_id)["run"]["status"] == "rolled_back"


def test_a_step_that_ignores_sigterm_is_killed_after_the_grace(cli: CLI) -> None:
    runner, pid, run_id = _start(cli, STUBBORN)
    try:
        asked = time.time()
        result = cli("abort", run_id, "--grace", "2s")
        assert result.returncode == 0, result.stderr
        runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    events = _events(cli, run_id)
    undo_at = _first_undo_start(events)
    # It survived SIGTERM; SIGKILL came at the grace, and the rollback right after.
    assert 2 <= undo_at - _requested_at(cli, run_id) < 2 + 1
    assert undo_at - asked < 2 + 10  # with CLI start-up (loaded machine)
    assert not _alive(pid)
    finished = [d for _, e, d in events if e == "item.finished" and d["key"] == "p/long"]
    assert finished[-1]["killed"]["signals"] == ["SIGTERM", "SIGKILL"]
    assert "SIGTERM, then SIGKILL" in finished[-1]["message"]
    assert cli.status(run_id)["run"]["status"] == "rolled_back"


def test_abort_force_kills_at_once(cli: CLI) -> None:
    runner, pid, run_id = _start(cli, STUBBORN)
    try:
        asked = time.time()
        result = cli("abort", run_id, "--force")
        assert result.returncode == 0, result.stderr
        assert "is ending p/long (SIGKILL)" in result.stdout
        runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    events = _events(cli, run_id)
    assert _first_undo_start(events) - _requested_at(cli, run_id) < 0 + 1
    assert _first_undo_start(events) - asked < 0 + 10  # with CLI start-up (loaded machine)
    assert not _alive(pid)
    finished = [d for _, e, d in events if e == "item.finished" and d["key"] == "p/long"]
    assert finished[-1]["killed"]["signals"] == ["SIGKILL"]


def test_abort_of_a_run_without_a_live_owner_says_it_rolls_back_here(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: paused
        phases:
          - id: p
            steps: [{id: mark, run: "touch marked", undo: "rm -f marked"}]
            gates: [{manual: "looks good?"}]
        """,
    )
    assert cli("run", str(plan)).returncode == 4
    result = cli("abort", "last")
    assert result.returncode == 0, result.stderr
    assert "no live owner, rolling back here" in result.stdout + result.stderr
    assert not (cli.cwd / "marked").exists()


def test_abort_of_a_crashed_run_ends_the_step_its_dead_owner_left_running(cli: CLI) -> None:
    runner, pid, run_id = _start(cli, PLAIN)
    runner.send_signal(signal.SIGKILL)  # the engine dies; its step goes on
    runner.communicate(timeout=30)
    assert _alive(pid)
    result = cli("abort", run_id)
    assert result.returncode == 0, result.stderr
    assert "no live owner, rolling back here" in result.stdout + result.stderr
    assert not _alive(pid)
    assert cli.status(run_id)["run"]["status"] == "rolled_back"
    assert (cli.cwd / "undo.log").read_text() == "undone\n"
