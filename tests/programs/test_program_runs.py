"""Programs end to end through the real CLI: child runs are real `phasegate` processes with
their own journals in the same SQLite store; a ledger file records every child step and undo."""

from __future__ import annotations

from tests.conftest import CLI, items
from tests.programs.builders import ledger, program


def _runs(cli: CLI) -> dict[str, dict[str, object]]:
    return {r["id"]: r for r in cli.json("history", "--limit", "50")}


def test_child_three_fails_children_two_and_one_roll_back_once_newest_first(cli: CLI) -> None:
    plan = program(cli.cwd, children=4, failing=3)
    result = cli("run", str(plan))
    assert result.returncode == 1, result.stderr

    assert ledger(cli.cwd) == [
        "child-1-step-1", "child-1-step-2",
        "child-2-step-1", "child-2-step-2",
        "child-3-step-1", "child-3-step-2",
        # child 3 rolls itself back (its own on_failure), then the program: 2, then 1
        "child-3-undo-2", "child-3-undo-1",
        "child-2-undo-2", "child-2-undo-1",
        "child-1-undo-2", "child-1-undo-1",
    ]  # fmt: skip
    parents = [r for r in cli.json("history", "--limit", "50") if r["plan_name"] == "program"]
    assert len(parents) == 1
    parent = cli.status(str(parents[0]["id"]))
    assert parent["run"]["status"] == "rolled_back"
    children = {c["phase"]: c for c in parent["program"]["children"]}
    assert sorted(children) == ["c1", "c2", "c3"]  # child 4 never started
    order = [a["key"] for a in parent["rollback"]["actions"]]
    assert order == ["rollback:c3/1", "rollback:c2/1", "rollback:c1/1"]
    assert all(a["status"] == "succeeded" for a in parent["rollback"]["actions"])
    found = items(parent)
    assert found["c4/child"]["status"] == "not_run"
    for phase, child in children.items():
        own = cli.status(str(child["run"]))
        assert own["run"]["status"] == "rolled_back", phase
        assert own["program"]["parent"]["run"] == parent["run"]["id"]
        assert own["program"]["parent"]["phase"] == phase
        report = cli("report", str(child["run"]), "--format", "md")
        assert "rolled_back" in report.stdout
        assert parent["run"]["id"] in report.stdout
    # The child journals say who rolled them back: the program, once each.
    for phase in ("c1", "c2"):
        own = cli.status(str(children[phase]["run"]))
        assert own["rollback"]["by"].startswith(f"program {parent['run']['id']}")
    # The parent's own report lists its children.
    report = cli("report", parent["run"]["id"], "--format", "md").stdout
    for child in children.values():
        assert str(child["run"]) in report


def test_program_succeeds_and_rollback_of_finished_program_undoes_children_once(cli: CLI) -> None:
    plan = program(cli.cwd, children=2)
    assert cli("run", str(plan)).returncode == 0
    parent = next(r for r in cli.json("history") if r["plan_name"] == "program")
    status = cli.status(str(parent["id"]))
    assert status["run"]["status"] == "succeeded"
    assert [c["status"] for c in status["program"]["children"]] == ["succeeded", "succeeded"]
    assert cli("rollback", str(parent["id"])).returncode == 0
    assert ledger(cli.cwd)[-4:] == [
        "child-2-undo-2", "child-2-undo-1", "child-1-undo-2", "child-1-undo-1"
    ]  # fmt: skip
    # A child already rolled back is not rolled back again by anyone.
    child = status["program"]["children"][0]["run"]
    again = cli("rollback", str(child))
    assert again.returncode != 0 and "already rolled back" in again.stderr
    assert ledger(cli.cwd).count("child-1-undo-1") == 1


def test_rollback_children_narrows_which_children_roll_back(cli: CLI) -> None:
    plan = program(cli.cwd, children=3, failing=3, extra="rollback_children: [c1]\n")
    assert cli("run", str(plan)).returncode == 1
    undone = [line for line in ledger(cli.cwd) if "undo" in line]
    # child 3 rolled itself back; of the others only c1 is the program's to roll back
    assert undone == ["child-3-undo-2", "child-3-undo-1", "child-1-undo-2", "child-1-undo-1"]
