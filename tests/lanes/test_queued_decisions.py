"""Decisions given while a run is ``queued`` for a phase's lane slot (issue 14 §5; docs/lanes.md,
"Decisions while queued"), through the real CLI: the run is a real process waiting for a lane
whose cap is 0, while another phase of it awaits a manual approval.

- An approval is journalled when it is given (not when the slot comes), counted once per
  approver; a partial one leaves the run queued; the one that completes the gate lets the
  rest of the run go on while the laned phase keeps its place in the queue, and the run
  queues again when nothing else is left. Nothing is applied twice when the slot is granted.
- An abort while queued ends the wait at once and rolls back what ran.
- A reject (no-go) while queued is acted on at once: the run rolls back without the slot.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from phasegate.engine import operator
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.lanes.test_lanes_cli import events, gated_plan, run_of
from tests.lanes.test_lanes_cli import wait_for as _wait_for


def wait_for(what: Any) -> Any:
    return _wait_for(what, timeout=180.0)


def decision_plan(cli: CLI, approvers: int = 1) -> None:
    """``ask`` (a step with an undo, then a manual gate), ``after-ask`` (needs ask) and
    ``deploy`` (lane ``deploy``, independent of both)."""
    write_plan(
        cli.cwd,
        f"""
        version: 1
        name: decide
        phases:
          - id: ask
            steps:
              - run: touch asked
                undo: touch undone
            gates:
              - id: go
                manual: "release manager go"
                approvers: {approvers}
          - id: after-ask
            needs: [ask]
            steps:
              - run: touch after-ask-ran
          - id: deploy
            lane: deploy
            steps:
              - run: touch deploy-ran
        """,
        name="decide.yaml",
    )


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def _queued_with_the_gate_waiting(cli: CLI) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        found = run_of(cli, "decide")
        if found is None or found["run"]["status"] != "queued":
            return None
        gate = next(
            (i for p in found["phases"] for i in p["items"] if i["key"] == "ask/gate:go"), None
        )
        return found if gate is not None and gate["status"] == "awaiting_approval" else None

    found: dict[str, Any] = wait_for(ready)
    assert found["queue"]["phase"] == "deploy" and found["queue"]["lane"] == "deploy"
    return found


def _types(cli: CLI, run_id: str) -> list[str]:
    return [t for _, t, _ in events(cli, run_id)]


def test_approvals_while_queued_are_recorded_at_once_and_let_the_rest_go_on(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    assert cli("lane", "set", "deploy", "--max", "0").returncode == 0
    decision_plan(cli, approvers=2)
    proc = cli.spawn("run", "decide.yaml")
    procs.append(proc)
    run_id = _queued_with_the_gate_waiting(cli)["run"]["id"]

    # The first of two approvals: journalled while the run waits, which stays queued.
    approved = cli("approve", run_id)
    assert approved.returncode == 0, approved.stderr
    assert f"sent to the process executing the run (pid {proc.pid})" in approved.stdout
    assert "phasegate resume" not in approved.stdout  # nothing to resume: it is live
    wait_for(lambda: "approval.granted" in _types(cli, run_id))
    status = cli.status(run_id)
    assert status["run"]["status"] == "queued"
    assert len(status["approvals"]["ask/gate:go"]) == 1
    types = _types(cli, run_id)
    assert types.count("run.queued") == 1 and "run.dequeued" not in types
    assert not (cli.cwd / "after-ask-ran").exists()

    # The second, by another approver: the gate passes and after-ask runs, though the
    # deploy lane is still closed; then the run queues again for deploy.
    store = SqliteStore(cli.state_dir)
    try:
        (ticket,) = store.lane_tickets()
        operator.approve(store, run_id, check=None, by="bob@elsewhere")
    finally:
        store.close()
    wait_for((cli.cwd / "after-ask-ran").exists)
    requeued = wait_for(
        lambda: (
            (r := cli.status(run_id))["run"]["status"] == "queued"
            and _types(cli, run_id).count("run.queued") == 2
            and r
        )
    )
    assert requeued["queue"]["phase"] == "deploy"
    assert not (cli.cwd / "deploy-ran").exists()
    found = events(cli, run_id)
    out = [d for _, t, d in found if t == "run.dequeued"]
    assert [(d["how"], d["phase"]) for d in out] == [("decision", "deploy")]
    granted = [d for _, t, d in found if t == "approval.granted"]
    assert [d["by"] for d in granted][1] == "bob@elsewhere" and len(granted) == 2
    # The place in the queue is kept: the same ticket, queued at the same time.
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        (kept,) = store.lane_tickets()
        assert (kept.run_id, kept.phase, kept.enqueued_at) == (run_id, "deploy", ticket.enqueued_at)
        assert kept.granted_at is None
    finally:
        store.close()

    # The slot: deploy runs, and nothing decided before is applied again.
    assert cli("lane", "set", "deploy", "--max", "1").returncode == 0
    assert proc.wait(timeout=120) == 0
    assert (cli.cwd / "deploy-ran").exists()
    found = events(cli, run_id)
    types = [t for _, t, _ in found]
    assert types.count("approval.granted") == 2
    last = [d for _, t, d in found if t == "run.dequeued"][-1]
    assert (last["how"], last["phase"]) == ("granted", "deploy")
    # Both approvals came before the grant, each stamped when it was given.
    stamps = [ts for ts, t, _ in found if t == "approval.granted"]
    granted_at = next(ts for ts, t, d in found if t == "run.dequeued" and d["how"] == "granted")
    assert max(stamps) < granted_at
    done = cli.status(run_id)
    assert done["run"]["status"] == "succeeded"
    assert sorted(done["approvals"]["ask/gate:go"]) == sorted({granted[0]["by"], "bob@elsewhere"})
    assert len(done["decisions"]) == 2
    assert cli.json("lane", "list")[0]["queued"] == 0


def test_an_abort_while_queued_for_a_phase_rolls_back_at_once(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    assert cli("lane", "set", "deploy", "--max", "0").returncode == 0
    decision_plan(cli)
    proc = cli.spawn("run", "decide.yaml")
    procs.append(proc)
    run_id = _queued_with_the_gate_waiting(cli)["run"]["id"]
    aborted = cli("abort", run_id, "--reason", "not today", timeout=120)
    assert aborted.returncode == 0, aborted.stderr
    assert proc.wait(timeout=120) == 1  # failed (aborted) and rolled back cleanly
    status = cli.status(run_id)
    assert status["run"]["status"] == "rolled_back"
    assert (cli.cwd / "undone").exists()
    assert not (cli.cwd / "deploy-ran").exists() and not (cli.cwd / "after-ask-ran").exists()
    found = events(cli, run_id)
    (out,) = [d for _, t, d in found if t == "run.dequeued"]
    assert (out["how"], out["phase"]) == ("abort", "deploy")
    assert [t for _, t, _ in found].count("run.abort_requested") == 1
    assert cli.json("lane", "list")[0]["queued"] == 0


def test_a_reject_while_queued_for_a_phase_is_acted_on_without_the_slot(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    assert cli("lane", "set", "deploy", "--max", "0").returncode == 0
    decision_plan(cli)
    proc = cli.spawn("run", "decide.yaml")
    procs.append(proc)
    run_id = _queued_with_the_gate_waiting(cli)["run"]["id"]
    rejected = cli("reject", run_id, "--comment", "error budget spent", timeout=120)
    assert rejected.returncode == 0, rejected.stderr
    assert proc.wait(timeout=120) == 1
    status = cli.status(run_id)
    assert status["run"]["status"] == "rolled_back"
    assert (cli.cwd / "undone").exists() and not (cli.cwd / "deploy-ran").exists()
    found = events(cli, run_id)
    (no_go,) = [d for _, t, d in found if t == "approval.rejected"]
    assert (no_go["key"], no_go["comment"]) == ("ask/gate:go", "error budget spent")
    # It stepped out of the queue for the decision: the deploy slot never came.
    assert [d["how"] for _, t, d in found if t == "run.dequeued"] == ["decision"]
    assert "lane.granted" not in [t for _, t, _ in found]
    assert cli.json("lane", "list")[0]["queued"] == 0


def test_an_approval_while_queued_for_the_plans_lane_is_recorded_and_honoured_at_the_grant(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    """A run resumed after a pause waits for its plan's lane (nothing of it may execute before
    the slot): the last approval, given while it waits, is journalled at once, the run stays
    queued, and the pause passes once the slot comes, approved once per approver."""
    assert cli("lane", "set", "api", "--max", "1").returncode == 0
    write_plan(
        cli.cwd,
        """
        version: 1
        name: paused
        lane: api
        phases:
          - id: work
            steps:
              - {id: hold, pause: {until: approve, approvers: 2}}
              - run: touch after-hold
        """,
        name="paused.yaml",
    )
    gated_plan(cli, "other")
    assert cli("run", "paused.yaml").returncode == 4  # paused for the approvals, slot freed
    paused = run_of(cli, "paused")
    assert paused is not None
    run_id = paused["run"]["id"]
    assert cli("approve", run_id).returncode == 0  # 1 of 2, journalled here (no owner)
    procs.append(cli.spawn("run", "other.yaml"))
    wait_for(lambda: (r := run_of(cli, "other")) and r["lane"])
    procs.append(cli.spawn("resume", run_id))
    wait_for(lambda: cli.status(run_id)["run"]["status"] == "queued")

    store = SqliteStore(cli.state_dir)
    try:
        operator.approve(store, run_id, check=None, by="bob@elsewhere")
    finally:
        store.close()
    wait_for(lambda: _types(cli, run_id).count("approval.granted") == 2)
    waiting = cli.status(run_id)
    assert waiting["run"]["status"] == "queued" and waiting["queue"]["phase"] is None
    assert not (cli.cwd / "after-hold").exists()  # nothing executes before the slot

    (cli.cwd / "go-other").touch()
    assert procs[0].wait(timeout=120) == 0
    assert procs[1].wait(timeout=120) == 0
    assert (cli.cwd / "after-hold").exists()
    found = events(cli, run_id)
    types = [t for _, t, _ in found]
    assert types.count("approval.granted") == 2
    assert [d["how"] for _, t, d in found if t == "run.dequeued"] == ["granted"]
    second = max(ts for ts, t, _ in found if t == "approval.granted")
    granted = next(ts for ts, t, _ in found if t == "run.dequeued")
    assert second < granted
    assert cli.status(run_id)["run"]["status"] == "succeeded"
