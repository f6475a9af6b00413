"""A program on the PostgreSQL store (``run --store postgresql://…``): its children are runs
in the same database (their journals, the parent <-> child links), none in the state
directory's SQLite file; a failing child rolls the earlier ones back, newest first, once each."""

from __future__ import annotations

import json

import pytest

from phasegate.store.postgres import PostgresStore
from tests.conftest import CLI
from tests.programs.builders import ledger, program
from tests.store.pg_cluster import database_url


@pytest.fixture
def pg_url(postgres_server: str, cli: CLI) -> str:
    return database_url(cli.state_dir)


def test_children_of_a_program_on_postgresql_journal_and_roll_back_there(
    cli: CLI, pg_url: str
) -> None:
    plan = program(cli.cwd, children=3, failing=3)
    result = cli("--store", pg_url, "run", str(plan))
    assert result.returncode == 1, result.stderr
    assert ledger(cli.cwd) == [
        "child-1-step-1", "child-1-step-2",
        "child-2-step-1", "child-2-step-2",
        "child-3-step-1", "child-3-step-2",
        "child-3-undo-2", "child-3-undo-1",
        "child-2-undo-2", "child-2-undo-1",
        "child-1-undo-2", "child-1-undo-1",
    ]  # fmt: skip
    assert not (cli.state_dir / "phasegate.db").exists()  # nothing went to SQLite

    store = PostgresStore(pg_url, state_dir=cli.state_dir)
    try:
        records = {r.plan_name: r for r in store.list_runs(limit=20)}
        assert sorted(records) == ["child-1", "child-2", "child-3", "program"]
        parent = records["program"]
        assert parent.status == "rolled_back"
        assert all(records[f"child-{n}"].status == "rolled_back" for n in (1, 2, 3))
    finally:
        store.close()
    shown = cli("--store", pg_url, "status", parent.id, "--json")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    children = {c["phase"]: str(c["run"]) for c in status["program"]["children"]}
    assert children == {f"c{n}": records[f"child-{n}"].id for n in (1, 2, 3)}
    order = [a["key"] for a in status["rollback"]["actions"]]
    assert order == ["rollback:c3/1", "rollback:c2/1", "rollback:c1/1"]
    for phase, child_id in children.items():
        own = json.loads(cli("--store", pg_url, "status", child_id, "--json").stdout)
        assert own["program"]["parent"] == {**own["program"]["parent"], "run": parent.id}
        assert own["program"]["parent"]["phase"] == phase
    for phase in ("c1", "c2"):
        own = json.loads(cli("--store", pg_url, "status", children[phase], "--json").stdout)
        assert own["rollback"]["by"].startswith(f"program {parent.id}")
