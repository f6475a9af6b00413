"""The journal records what readers need of the plan (issue 12 §1): run.created holds the plan's
outline (phase ids, names, risk, needs; each phase's items in execution order with their kind,
name, check kind and required approvals), and status, report, dashboard and metrics read that
instead of re-loading the plan, so a run's views stay right after its plan file changed or went.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate.engine.outline import outline
from phasegate.plan.loader import load_plan
from phasegate.report import data as report_data
from phasegate.report.data import build
from phasegate.report.render import render
from phasegate.run.events import RunCreated, from_stored
from phasegate.server.digest import RunDigest
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.copy import copy_journal
from phasegate.store.memory import MemoryStore

from .helpers import Project

PLAN = """\
version: 1
name: outlined
phases:
  - id: prepare
    name: Prepare the hosts
    risk: low
    steps:
      - {name: fetch, run: "true"}
      - {name: unpack, run: "true"}
    gates:
      - command: "true"
      - file: plan.yaml
  - id: cutover
    name: Cut over
    risk: high
    needs: [prepare]
    steps:
      - {name: switch, run: "true"}
    gates:
      - manual: "Confirm traffic looks right"
        approvers: 2
  - id: cleanup
    name: Clean up
    needs: [cutover]
    steps:
      - {name: prune, run: "true"}
"""

# Another plan at the same path: other names, other order. A view that re-read the plan
# file would show these.
IMPOSTOR = """\
version: 1
name: outlined
phases:
  - id: cleanup
    name: IMPOSTOR cleanup
    steps:
      - {name: impostor, run: "true"}
"""

EXPECTED_ITEMS = {
    "prepare": [
        ("prepare/fetch", "step", "fetch"),
        ("prepare/unpack", "step", "unpack"),
        ("prepare/gate:gate-1", "gate", "true"),
        ("prepare/gate:gate-2", "gate", "file plan.yaml"),
    ],
    "cutover": [
        ("cutover/switch", "step", "switch"),
        ("cutover/gate:gate-1", "gate", "Confirm traffic looks right"),
    ],
    "cleanup": [("cleanup/prune", "step", "prune")],
}


@pytest.fixture(scope="module")
def paused(new_project: Callable[[str], Project]) -> Iterator[tuple[Project, str]]:
    """A run paused at the two-approver manual gate, then its plan file replaced."""
    project = new_project("outline")
    assert project.run(PLAN) == 4
    store = open_journal(project.state, readonly=True)
    try:
        run_id = store.list_runs(limit=1)[0].id
    finally:
        store.close()
    (project.root / "plan.yaml").write_text(IMPOSTOR, encoding="utf-8")
    yield project, run_id


def _created(project: Project, run_id: str) -> RunCreated:
    store = open_journal(project.state, readonly=True)
    try:
        first = store.events(run_id)[0]
    finally:
        store.close()
    assert first.type == "run.created"
    event = RunCreated.model_validate(first.data)
    assert event.outline is not None
    return event


def test_run_created_records_the_outline(paused: tuple[Project, str]) -> None:
    project, run_id = paused
    recorded = _created(project, run_id).outline
    assert recorded is not None
    assert [(p.id, p.name, p.risk, p.needs) for p in recorded.phases] == [
        ("prepare", "Prepare the hosts", "low", ()),
        ("cutover", "Cut over", "high", ("prepare",)),
        ("cleanup", "Clean up", None, ("cutover",)),
    ]
    for phase in recorded.phases:
        assert [(i.key, i.kind, i.name) for i in phase.items] == EXPECTED_ITEMS[phase.id]
    assert recorded.check_kinds() == {
        "prepare/gate:gate-1": "command",
        "prepare/gate:gate-2": "file",
        "cutover/gate:gate-1": "manual",
    }
    manual = recorded.phases[1].items[1]
    assert manual.approvals == 2
    assert [i.approvals for i in recorded.phases[0].items] == [None] * 4


def test_the_recorded_outline_is_what_the_plan_gives(tmp_path: Path) -> None:
    """The outline the engine records and the one a reader of an old journal derives from the
    stored plan text are one function of the plan: both paths show the same thing."""
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN, encoding="utf-8")
    derived = outline(load_plan(plan_file).plan)
    assert RunCreated.model_validate({"outline": derived.to_json()}).outline == derived


def _doc(project: Project, run_id: str) -> dict[str, Any]:
    store = open_journal(project.state, readonly=True)
    try:
        return build(store, run_id)
    finally:
        store.close()


def test_views_read_the_journal_not_the_plan(
    paused: tuple[Project, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, run_id = paused

    def refuse(*_: object) -> None:
        pytest.fail("a view re-loaded the plan of a run whose journal has its outline")

    monkeypatch.setattr(report_data, "reload_plan", refuse)
    doc = _doc(project, run_id)
    # Every phase in plan order, with the names and needs the run had.
    assert [(p["id"], p["name"], p["needs"], p["status"]) for p in doc["phases"]] == [
        ("prepare", "Prepare the hosts", [], "succeeded"),
        ("cutover", "Cut over", ["prepare"], "running"),
        ("cleanup", "Clean up", ["cutover"], "pending"),
    ]
    for phase in doc["phases"]:
        assert [(i["key"], i["kind"], i["name"]) for i in phase["items"]] == EXPECTED_ITEMS[
            phase["id"]
        ]
    statuses = [i["status"] for p in doc["phases"] for i in p["items"]]
    # Not-run items too: the outline knows them before they start.
    assert statuses == [
        *("succeeded", "succeeded", "passed", "passed"),
        *("succeeded", "awaiting_approval"),
        "not_run",
    ]
    gate = doc["phases"][1]["items"][1]
    assert gate["approvals"] == {"by": [], "required": 2}
    md = render(doc, "md")
    assert "Prepare the hosts" in md and "IMPOSTOR" not in md


def test_status_and_report_after_the_plan_file_is_gone(paused: tuple[Project, str]) -> None:
    project, run_id = paused
    (project.root / "plan.yaml").unlink(missing_ok=True)
    result = project.cli("status", run_id, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [p["name"] for p in doc["phases"]] == ["Prepare the hosts", "Cut over", "Clean up"]
    assert [i["key"] for i in doc["phases"][0]["items"]] == [
        k for k, _, _ in EXPECTED_ITEMS["prepare"]
    ]
    report = project.cli("report", run_id, "--format", "md")
    assert report.returncode == 0, report.stderr
    assert report.stdout.index("prepare/unpack") < report.stdout.index("prepare/gate:gate-2")
    assert "Confirm traffic looks right" in report.stdout


def test_the_metrics_digest_takes_check_kinds_from_the_journal(
    paused: tuple[Project, str],
) -> None:
    project, run_id = paused
    store = open_journal(project.state, readonly=True)
    try:
        digest = RunDigest(run_id, "outlined")
        for event in store.events(run_id):
            digest.fold(event.seq, from_stored(event.type, event.data))
    finally:
        store.close()
    assert digest.kinds == {
        "prepare/gate:gate-1": "command",
        "prepare/gate:gate-2": "file",
        "cutover/gate:gate-1": "manual",
    }
    assert not digest.needs_plan()


def test_store_copy_keeps_the_outline(paused: tuple[Project, str], tmp_path: Path) -> None:
    project, run_id = paused
    src = open_journal(project.state, readonly=True)
    dst: JournalStore = MemoryStore(tmp_path)
    try:
        copy_journal(src, dst)
        assert dst.events(run_id)[0].data == src.events(run_id)[0].data
        assert (
            _created(project, run_id).outline
            == RunCreated.model_validate(dst.events(run_id)[0].data).outline
        )
    finally:
        src.close()
        dst.close()
