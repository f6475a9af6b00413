"""The engine needs nothing but the contract: a real plan (real shell commands) runs, fails a
gate and rolls back the same way on every back end, and an operator request reaches it."""

from __future__ import annotations

import io
from pathlib import Path

from phasegate.engine import operator, session
from phasegate.plan.loader import load_plan
from phasegate.store.contract import JournalStore
from tests.conftest import write_plan

PLAN = """
    version: 1
    name: everywhere
    vars: {LEDGER: ./ledger, HEALTHY: "yes"}
    phases:
      - id: build
        steps:
          - {id: compile, run: "echo compile >> ${LEDGER}", undo: "echo uncompile >> ${LEDGER}"}
      - id: deploy
        needs: [build]
        steps:
          - {id: push, run: "echo push >> ${LEDGER}", undo: "echo unpush >> ${LEDGER}"}
        gates:
          - command: "test \\"${HEALTHY}\\" = yes"
"""


def _start(store: JournalStore, tmp_path: Path, healthy: str) -> tuple[str, str, Path]:
    ledger = tmp_path / f"ledger-{healthy}"
    plan = write_plan(tmp_path, PLAN)
    options = session.RunOptions(
        overrides={"LEDGER": str(ledger), "HEALTHY": healthy},
        console_stream=io.StringIO(),
        quiet=True,
    )
    run_id, status, created = session.start(store, load_plan(plan), options)
    assert created
    return run_id, status, ledger


def test_a_run_succeeds_through_the_contract(store: JournalStore, tmp_path: Path) -> None:
    run_id, status, ledger = _start(store, tmp_path, "yes")
    assert status == "succeeded"
    assert ledger.read_text().split() == ["compile", "push"]
    record = store.get_run(run_id)
    assert (record.status, record.last_seq) == ("succeeded", len(store.events(run_id)))
    assert record.owner is None  # released when it ended
    assert store.lock_holder("everywhere") is None
    types = [e.type for e in store.events(run_id)]
    assert types[:2] == ["run.created", "run.started"] and types[-1] == "run.finished"
    finished = [e.data["key"] for e in store.events(run_id) if e.type == "item.finished"]
    assert finished.index("build/compile") < finished.index("deploy/push")
    assert store.load_state(run_id).status == "succeeded"


def test_a_failed_gate_rolls_back_newest_first(store: JournalStore, tmp_path: Path) -> None:
    run_id, status, ledger = _start(store, tmp_path, "no")
    assert status == "rolled_back"
    assert ledger.read_text().split() == ["compile", "push", "unpush", "uncompile"]
    assert store.get_run(run_id).status == "rolled_back"
    assert {e.type for e in store.events(run_id)} >= {"rollback.started", "rollback.finished"}


MANUAL = """
    version: 1
    name: approved
    vars: {LEDGER: ./ledger}
    phases:
      - id: ship
        steps: [{id: push, run: "echo push >> ${LEDGER}"}]
        gates: [{manual: "Go from the release manager", id: go}]
      - id: after
        needs: [ship]
        steps: [{id: tell, run: "echo tell >> ${LEDGER}"}]
"""


def test_a_pause_is_approved_and_resumed(store: JournalStore, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    plan = write_plan(tmp_path, MANUAL)
    options = session.RunOptions(
        overrides={"LEDGER": str(ledger)}, console_stream=io.StringIO(), quiet=True
    )
    run_id, status, _ = session.start(store, load_plan(plan), options)
    assert status == "paused" and ledger.read_text().split() == ["push"]
    assert store.get_run(run_id).owner is None
    operator.approve(store, run_id, check="go", by="release-manager@elsewhere")
    assert operator.resume(store, run_id, options, retry=[], skip=[], mark_done=[]) == (
        run_id,
        "succeeded",
    )
    assert ledger.read_text().split() == ["push", "tell"]
    granted = [e.data for e in store.events(run_id) if e.type == "approval.granted"]
    assert [(g["key"], g["by"]) for g in granted] == [("ship/gate:go", "release-manager@elsewhere")]
