"""SIGTERM/SIGINT to `phasegate run` stop it like a Temporal worker (issue 10 §2.4): nothing
new starts, the running step gets the grace period to finish and its outcome is journalled,
and `resume` continues without asking about it."""

from __future__ import annotations

import signal
import time
from typing import Any

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, items, write_plan

PLAN = """
    version: 1
    name: graceful
    phases:
      - id: p
        steps:
          - id: slow
            run: "touch began; sleep 3; printf 'complete\\n' > effect"
          - {id: after, run: "echo after >> ledger"}
"""


def _wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _events(cli: CLI, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir)
    try:
        return [(etype, data) for _, _, etype, data in store.events(run_id)]
    finally:
        store.db.close()


def test_sigterm_lets_the_running_step_finish_and_resume_does_not_ask(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    proc = cli.spawn("run", str(plan), "--grace", "10s")
    _wait_for((cli.cwd / "began").exists)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    # The step ran to its end: its side effect is complete, and the journal says it succeeded.
    assert (cli.cwd / "effect").read_text() == "complete\n"
    status = cli.status()
    assert status["run"]["status"] == "interrupted"
    found = items(status)
    assert found["p/slow"]["status"] == "succeeded"
    # Nothing new started after the signal.
    assert found["p/after"]["status"] == "not_run"
    assert not (cli.cwd / "ledger").exists()
    run_id = status["run"]["id"]
    interrupted = [d for e, d in _events(cli, run_id) if e == "run.interrupted"]
    assert interrupted == [
        {"signal": int(signal.SIGTERM), "name": "SIGTERM", "grace": 10.0, "killed": []}
    ]
    # resume continues at once: no unknown, no question, the finished step is not repeated.
    result = cli("resume", run_id)
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "ledger").read_text() == "after\n"
    assert not any(e == "item.unknown" for e, _ in _events(cli, run_id))
    starts = [d["key"] for e, d in _events(cli, run_id) if e == "item.started"]
    assert starts.count("p/slow") == 1


def test_a_step_longer_than_the_grace_is_killed_and_resume_reruns_it(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN.replace("sleep 3", "[ -f quick ] || sleep 60"))
    proc = cli.spawn("run", str(plan), "--grace", "1s")
    _wait_for((cli.cwd / "began").exists)
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - signalled < 1 + 2 + 2  # grace, then SIGTERM..SIGKILL at most
    run_id = cli.status()["run"]["id"]
    slow = items(cli.status())["p/slow"]
    assert slow["status"] == "interrupted"
    assert "killed by phasegate at SIGTERM" in slow["message"]
    finished = [d for e, d in _events(cli, run_id) if e == "item.finished" and d["key"] == "p/slow"]
    assert finished[-1]["killed"] == {"by": "phasegate", "on": "SIGTERM", "signals": ["SIGTERM"]}
    assert [d["killed"] for e, d in _events(cli, run_id) if e == "run.interrupted"] == [["p/slow"]]
    # resume knows the outcome (killed, not succeeded): it re-runs the step, asking nothing.
    (cli.cwd / "quick").touch()
    result = cli("resume", run_id)
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "effect").read_text() == "complete\n"
    assert not any(e == "item.unknown" for e, _ in _events(cli, run_id))


def test_sigterm_during_the_rollback_interrupts_the_undo_and_resume_finishes_it(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: rollback-interrupted
        phases:
          - id: p
            steps:
              - id: change
                run: "touch changed"
                undo: "touch undoing; [ -f quick ] || sleep 60; rm changed; echo undone >> ledger"
              - {id: broken, run: "exit 3"}
        """,
    )
    proc = cli.spawn("run", str(plan), "--grace", "1s")
    _wait_for((cli.cwd / "undoing").exists)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    status = cli.status()
    assert status["run"]["status"] == "interrupted"
    assert items(status)["undo:p/change"]["status"] == "interrupted"
    assert (cli.cwd / "changed").exists()
    (cli.cwd / "quick").touch()
    result = cli("resume", "last")
    assert result.returncode == 1, result.stderr  # failed, and rolled back cleanly
    assert cli.status()["run"]["status"] == "rolled_back"
    assert (cli.cwd / "ledger").read_text() == "undone\n"
    assert not (cli.cwd / "changed").exists()


def test_a_step_that_fails_by_itself_within_the_grace_keeps_its_real_outcome(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: fails-in-grace
        phases:
          - id: p
            steps:
              - {id: mark, run: "touch marked", undo: "rm -f marked"}
              - {id: flaky, run: "touch began; sleep 1; exit 4"}
        """,
    )
    proc = cli.spawn("run", str(plan), "--grace", "10s")
    _wait_for((cli.cwd / "began").exists)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    flaky = items(cli.status())["p/flaky"]
    assert (flaky["status"], flaky["message"]) == ("failed", "exit 4")
    result = cli("resume", "last")  # a failed step: the normal rules, here a rollback
    assert result.returncode == 1, result.stderr
    assert cli.status()["run"]["status"] == "rolled_back"
    assert not (cli.cwd / "marked").exists()
