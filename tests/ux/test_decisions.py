"""Go / no-go decisions on the CLI: `approve --comment`, `reject RUN [GATE] --comment`, and what
`status` says about them and about a run whose process died (issue 10 §3 CLI)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from phasegate import identity
from tests.conftest import CLI, items, write_plan
from tests.ux.helpers import events

GATED = """
version: 1
name: gonogo
on_failure: pause
phases:
  - id: p
    steps: [{id: ship, run: "touch deployed", undo: "rm deployed"}]
    gates:
      - {manual: "Go / no-go from the release manager", id: go, approvers: 2}
    rollback: [{run: "touch rolled-back"}]
  - id: after
    needs: [p]
    steps: [{run: "touch after"}]
"""


def me() -> str:
    return identity.actor()


def test_status_counts_approvals_now_and_names_who(cli: CLI) -> None:
    plan = write_plan(cli.cwd, GATED)
    assert cli("run", str(plan)).returncode == 4
    before = cli("status")
    line = next(x for x in before.stdout.splitlines() if "Go / no-go" in x)
    assert "0/2 approvals" in line and "(by" not in line
    # The gate is shown by its name, with the key the verbs take.
    assert "Go / no-go from the release manager [p/gate:go]" in line
    approved = cli("approve", "last", "--comment", "smoke tests green")
    assert approved.returncode == 0
    assert f"approved p/gate:go as {me()}; 1/2 approvals (by {me()})" in approved.stdout
    after = cli("status").stdout
    line = next(x for x in after.splitlines() if "Go / no-go" in x)
    assert f"1/2 approvals (by {me()})" in line, after
    assert f"approved p/gate:go by {me()} at " in after
    assert after.rstrip().endswith("smoke tests green") or ": smoke tests green" in after
    decisions = cli.status()["decisions"]
    assert [(d["key"], d["decision"], d["by"], d["comment"]) for d in decisions] == [
        ("p/gate:go", "approved", me(), "smoke tests green")
    ]
    report = cli("report", "last")
    assert "smoke tests green" in report.stdout
    assert "| approved |" in report.stdout


def test_reject_fails_the_gate_and_rolls_back_with_who_and_why(cli: CLI) -> None:
    plan = write_plan(cli.cwd, GATED)
    assert cli("run", str(plan)).returncode == 4
    assert (cli.cwd / "deployed").exists()
    rejected = cli("reject", "last", "go", "--comment", "error budget spent")
    # Rolled back as the operator asked: exit 0, like abort and rollback.
    assert rejected.returncode == 0, rejected.stderr
    assert "rolled_back" in rejected.stdout
    # on_failure: pause does not apply: a rejection is a no-go, the run rolls back.
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert not (cli.cwd / "deployed").exists()
    assert (cli.cwd / "rolled-back").exists()
    assert not (cli.cwd / "after").exists()
    gate = items(status)["p/gate:go"]
    assert gate["status"] == "failed"
    assert gate["message"] == f"rejected by {me()}: error budget spent"
    assert status["failure"]["reason"] == "rejected"
    assert status["failure"]["item"] == "p/gate:go"
    journal = events(cli)
    rejected_events = [d for e, d in journal if e == "approval.rejected"]
    assert len(rejected_events) == 1
    assert rejected_events[0]["by"] == me()
    assert rejected_events[0]["comment"] == "error budget spent"
    kinds = [e for e, _ in journal]
    assert kinds.index("approval.rejected") < kinds.index("rollback.started")
    assert status["decisions"][-1]["decision"] == "rejected"
    shown = cli("status").stdout
    assert f"rejected p/gate:go by {me()}" in shown and "error budget spent" in shown
    assert "error budget spent" in cli("report", "last").stdout
    assert cli("check").returncode == 0


def test_reject_needs_a_reason_and_a_waiting_run(cli: CLI) -> None:
    plan = write_plan(cli.cwd, GATED)
    assert cli("run", str(plan)).returncode == 4
    missing = cli("reject", "last")
    assert missing.returncode == 2 and "--comment" in missing.stderr
    empty = cli("reject", "last", "--comment", "  ")
    assert empty.returncode == 2 and "--comment is empty" in empty.stderr
    unknown = cli("reject", "last", "nope", "--comment", "x")
    assert unknown.returncode == 2 and "no manual check 'nope'" in unknown.stderr
    assert "Traceback" not in missing.stderr + empty.stderr + unknown.stderr
    assert cli.status()["run"]["status"] == "paused"  # nothing happened
    assert cli("reject", "last", "--comment", "no").returncode == 0
    again = cli("reject", "last", "--comment", "no")
    assert again.returncode != 0 and "has finished (rolled_back)" in again.stderr


def test_reject_reaches_a_run_executing_in_another_process(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: live
        phases:
          - id: slow
            steps:
              - id: work
                run: |
                  touch started
                  for i in $(seq 1200); do [ -f go ] && break; sleep 0.1; done
                  [ -f go ]
                undo: "touch undone"
          - id: gated
            needs: [slow]
            steps: [{run: "touch gated"}]
            gates: [{manual: "QA sign-off", id: qa}]
        """,
    )
    proc = cli.spawn("run", str(plan))
    try:
        _wait_for(cli.cwd / "started")
        # Rejected in advance, while another process executes the run; the step ends at once
        # after, so the run reaches the gate right after the rejection was delivered.
        rejected = cli("reject", "last", "qa", "--comment", "QA found a blocker")
        (cli.cwd / "go").touch()
        assert rejected.returncode == 0, rejected.stderr
        assert "the process executing it rolls it back" in rejected.stdout
        proc.communicate(timeout=60)
        assert proc.returncode == 1
    finally:
        (cli.cwd / "go").touch()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    _assert_rejected_and_rolled_back(cli)


def test_a_rejection_arriving_just_before_the_gate_is_acted_on_not_left_pending(
    cli: CLI,
) -> None:
    """The request is queued by the step itself as its last act: the engine reaches the gate
    within milliseconds, before its next periodic poll. It must act on the rejection (roll
    back) rather than pause at the gate with the rejection left pending."""
    (cli.cwd / "queue.py").write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from phasegate.store.sqlite import SqliteStore\n"
        "store = SqliteStore(Path(sys.argv[1]))\n"
        "run = store.list_runs()[0]\n"
        "decision = {'key': 'gated/gate:qa', 'by': 'tester', 'comment': 'QA found a blocker',\n"
        "            'kind': 'gate', 'phase': 'gated', 'name': 'manual: QA sign-off'}\n"
        "store.add_request(run.id, 'reject', {'decisions': [decision]})\n"
    )
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: live
        phases:
          - id: slow
            steps:
              - id: work
                run: "{sys.executable} queue.py {cli.state_dir}"
                undo: "touch undone"
          - id: gated
            needs: [slow]
            gates: [{{manual: "QA sign-off", id: qa}}]
          - id: after
            needs: [gated]
            steps: [{{run: "touch gated"}}]
        """,
    )
    ran = cli("run", str(plan), timeout=60)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back", ran.stderr
    assert (cli.cwd / "undone").exists(), ran.stderr
    assert not (cli.cwd / "gated").exists()
    assert status["failure"]["message"] == "rejected by tester: QA found a blocker"


def _assert_rejected_and_rolled_back(cli: CLI) -> None:
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert (cli.cwd / "undone").exists() and not (cli.cwd / "gated").exists()
    assert items(status)["gated/gate:qa"]["status"] in ("failed", "not_run")
    assert status["failure"]["message"] == f"rejected by {me()}: QA found a blocker"


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists()


def test_status_of_a_crashed_run_says_owner_dead_resumable(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: crashy
        phases:
          - id: p
            steps: [{id: long, run: "echo $$ > step.pid; sleep 60"}]
        """,
    )
    proc = cli.spawn("run", str(plan))
    step_pid = 0
    try:
        _wait_for(cli.cwd / "step.pid")
        live = cli("status").stdout.splitlines()[0]
        assert live.endswith(f"RUNNING (pid {proc.pid})"), live
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        step_pid = int((cli.cwd / "step.pid").read_text())
        shown = cli("status").stdout.splitlines()[0]
        run_id = cli.status()["run"]["id"]
        assert shown.endswith(f"RUNNING (owner dead — resumable: `phasegate resume {run_id}`)"), (
            shown
        )
        listed = cli("history").stdout
        assert f"{run_id}  crashy" in listed and "running (owner dead — resumable)" in listed
        owner = cli.status()["run"]["owner"]
        assert owner["pid"] == proc.pid and owner["alive"] is False
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        if step_pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(step_pid, signal.SIGKILL)


def test_approve_takes_the_gate_as_an_argument_like_reject(cli: CLI) -> None:
    plan = write_plan(cli.cwd, GATED.replace("approvers: 2", "approvers: 1"))
    assert cli("run", str(plan)).returncode == 4
    both = cli("approve", "last", "go", "--check", "other")
    assert both.returncode == 2 and "name different checks" in both.stderr
    done = cli("approve", "last", "go", "--comment", "ship it")
    assert done.returncode == 0, done.stderr
    assert f"approved p/gate:go as {me()}" in done.stdout
    assert cli("resume", "last").returncode == 0
    assert cli.status()["decisions"][0]["comment"] == "ship it"
