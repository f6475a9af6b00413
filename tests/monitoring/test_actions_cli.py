"""What a failing monitor does, for real (`phasegate` subprocesses, real SQLite): `pause`
stops for a human and `resume` continues the schedule; `alert` warns once per failing streak
and monitoring goes on; with `lock: release` a failing monitor never rolls back beneath a
newer run of the plan (it pauses instead)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan


def _runs(cli: CLI) -> list[Any]:
    if not (cli.state_dir / "phasegate.db").exists():
        return []
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        return store.list_runs(limit=10)
    finally:
        store.close()


def _events(cli: CLI, run_id: str, etype: str) -> list[dict[str, Any]]:
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        return [e.data for e in store.events(run_id) if e.type == etype]
    finally:
        store.close()


def _until(what: str, fn: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fn()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _monitoring(cli: CLI, checks: int = 0, index: int = 0) -> Any:
    runs = _runs(cli)
    if len(runs) <= index or runs[index].status != "monitoring":
        return None
    done = (runs[index].summary.get("monitoring") or {}).get("evaluations", 0)
    return runs[index] if done >= checks else None


def _plan(cli: CLI, check: str, tail: str, *, step: str = "echo v2 > release") -> Path:
    return write_plan(
        cli.cwd,
        f"""
        version: 1
        name: web
        vars:
          SLEEP: "0"
        phases:
          - id: deploy
            steps:
              - id: push
                run: {step}
                undo: rm -f release
        monitor:
          checks:
            - id: health
              command: {check}
        {tail}
        """,
    )


def test_pause_stops_for_a_human_and_resume_continues_the_schedule(cli: CLI) -> None:
    plan = _plan(
        cli,
        "test ! -f broken",
        """  schedule: [{every: 0.3s, for: 6s}]
          on_failure: pause""",
    )
    proc = cli.spawn("run", str(plan))
    try:
        _until("two checks", lambda: _monitoring(cli, checks=2))
        (cli.cwd / "broken").touch()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 4, err  # paused for a human
    doc = cli.status()
    run_id = doc["run"]["id"]
    assert doc["run"]["status"] == "paused" and doc["pause"]["reason"] == "monitor"
    assert "health" in doc["pause"]["message"] and "resume" in doc["pause"]["message"]
    assert doc["failure"] is None and (cli.cwd / "release").exists()  # nothing undone
    assert doc["monitoring"]["state"] == "paused"
    paused_at = doc["monitoring"]["slot"]
    (cli.cwd / "broken").unlink()  # the human fixed it

    resumed = cli("resume", run_id, timeout=60)

    assert resumed.returncode == 0, resumed.stderr
    checked = _events(cli, run_id, "monitoring.checked")
    slots = [c["slot"] for c in checked]
    assert slots == sorted(set(slots)) and slots[-1] == 20
    after = [c for c in checked if c["slot"] > paused_at]
    assert after and all(c["status"] == "passed" for c in after)
    assert [c["action"] for c in checked if c["action"]] == ["pause"]
    doc = cli.status(run_id)
    assert doc["run"]["status"] == "succeeded" and doc["monitoring"]["state"] == "completed"
    assert cli("check").returncode == 0


def test_alert_warns_once_per_failing_streak_and_monitoring_goes_on(cli: CLI) -> None:
    # Evaluations 3 to 6 fail, the others pass: one streak of four failures.
    check = (
        "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; "
        "[ $n -lt 3 ] || [ $n -gt 6 ]"
    )
    plan = _plan(
        cli,
        f"'{check}'",
        """  schedule: [{every: 0.2s, for: 2.4s}]
          on_failure: alert
          fail_after: 2""",
    )
    result = cli("run", str(plan), timeout=60)
    assert result.returncode == 0, result.stderr
    doc = cli.status()
    run_id = doc["run"]["id"]
    checked = _events(cli, run_id, "monitoring.checked")
    outcomes = [(c["status"], c["consecutive"], c["action"]) for c in checked]
    failing = [o for o in outcomes if o[0] == "failed"]
    assert [o[1] for o in failing] == [1, 2, 3, 4]
    # The action at the second failure in a row, and only there.
    assert [o[2] for o in failing] == [None, "alert", None, None]
    assert all(o[2] is None for o in outcomes if o[0] == "passed")
    assert doc["run"]["status"] == "succeeded" and doc["failure"] is None
    assert (cli.cwd / "release").exists()  # nothing rolled back
    assert [w["item"] for w in doc["warnings"]] == ["monitor"]
    assert doc["monitoring"]["failures"] == 4
    assert int((cli.cwd / "count").read_text()) == len(checked)


def test_with_lock_release_a_failing_monitor_never_rolls_back_beneath_a_newer_run(
    cli: CLI,
) -> None:
    plan = _plan(
        cli,
        "test ! -f broken",
        """  schedule: [{every: 0.3s, for: 60s}]
          lock: release""",
        step='"sleep ${SLEEP}; echo v2 > release"',
    )
    first = cli.spawn("run", str(plan))
    second = None
    try:
        older = _until("the first run to monitor", lambda: _monitoring(cli))
        second = cli.spawn("run", str(plan), "--var", "SLEEP=60")
        _until("the second run", lambda: len(_runs(cli)) == 2 and _runs(cli)[0].status == "running")
        (cli.cwd / "broken").touch()
        _, err = first.communicate(timeout=60)
        assert first.returncode == 4, err  # paused: the newer run holds the lock
        newer = _runs(cli)[0].id
        assert "monitor cannot roll back" in err and newer in err
        doc = cli.status(older.id)
        assert doc["run"]["status"] == "paused" and doc["pause"]["reason"] == "monitor"
        assert "beneath a newer run" in doc["pause"]["message"]
        assert doc["failure"]["reason"] == "monitor"  # the failure stands: nothing forgotten
        assert doc["rollback"] is None and (cli.cwd / "release").exists()
        assert [c["action"] for c in _events(cli, older.id, "monitoring.checked")][-1] == (
            "rollback"
        )
        # An operator's rollback is refused too while the newer run holds the lock.
        refused = cli("rollback", older.id)
        assert refused.returncode == 2 and newer in refused.stderr
        assert cli.status(older.id)["run"]["status"] == "paused"
        os.kill(second.pid, signal.SIGINT)
        second.communicate(timeout=60)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_abort_while_monitoring_rolls_back_at_once_without_waiting_for_a_check(
    cli: CLI,
) -> None:
    # A check that would take 10 minutes: the abort must not wait for its verdict.
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: web
        phases:
          - id: deploy
            steps:
              - {id: push, run: echo v2 > release, undo: rm -f release}
        monitor:
          checks:
            - {id: slow, command: "touch evaluating; sleep 600", timeout: 10m}
          schedule: [{every: 0.2s, for: 1h}]
        """,
    )
    proc = cli.spawn("run", str(plan))
    try:
        _until("the first evaluation", (cli.cwd / "evaluating").exists)
        run = _runs(cli)[0]
        assert run.status == "monitoring"
        # Nothing to promote after the rollout: refused, and the run goes on monitoring.
        promoted = cli("promote", run.id, "--full")
        assert promoted.returncode == 2 and "is monitoring" in promoted.stderr
        aborted = cli("abort", run.id, "--reason", "bad release")
        assert aborted.returncode == 0, aborted.stderr
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    doc = cli.status(run.id)
    assert doc["run"]["status"] == "rolled_back"
    assert doc["failure"]["reason"] == "aborted" and "bad release" in doc["failure"]["message"]
    assert not (cli.cwd / "release").exists()
    assert _events(cli, run.id, "monitoring.checked") == []  # cancelled, never journalled
    assert doc["monitoring"]["state"] == "rolled_back"
