"""`phasegate status last` after a program names the program (the run the user started), not
its newest child; the child's own document still links back to it."""

from __future__ import annotations

from tests.conftest import CLI
from tests.programs.builders import program


def test_status_last_is_the_program_not_its_last_child(cli: CLI) -> None:
    plan = program(cli.cwd, children=2)
    assert cli("run", str(plan)).returncode == 0
    history = cli.json("history")
    parent = next(r for r in history if r["plan_name"] == "program")
    children = [r for r in history if r["plan_name"] != "program"]
    assert len(children) == 2
    # The children were created after the program: the newest run is a child.
    assert max(r["created_at"] for r in children) > parent["created_at"]
    last = cli.status("last")
    assert last["run"]["id"] == parent["id"]
    assert [c["phase"] for c in last["program"]["children"]] == ["c1", "c2"]
    text = cli("status", "last")
    assert text.returncode == 0 and parent["id"] in text.stdout
    # A child, asked by id, names its parent.
    child = cli.status(str(last["program"]["children"][-1]["run"]))
    assert child["program"]["parent"]["run"] == parent["id"]
