"""A resume that read the run just before its owner finished it (a queued job delivered as
the run ended: issue 12's chaos run found ``lock 'chaos-18' held by a finished run``) must
neither drive the finished run on nor take the plan's lock back for it: the lock would stay
held by a finished run until the plan's next run took it over, and ``phasegate check``
reports it. A rollback of a finished run, whose caller saw it finished, still takes the
lock."""

from __future__ import annotations

import dataclasses

import pytest

from phasegate.engine.session import RunOptions, attach
from phasegate.errors import RunStateError
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan

PLAN = """
version: 1
name: finishes
phases:
  - id: p
    steps:
      - {id: s, run: "true"}
"""


def test_a_resume_of_a_run_finished_meanwhile_takes_nothing(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan)).returncode == 0
    store = SqliteStore(cli.state_dir)
    try:
        record = store.get_run("last")
        assert record.status == "succeeded" and store.lock_holder("finishes") is None
        events = len(store.events(record.id))
        stale = dataclasses.replace(record, status="running")  # what the resume had read
        with pytest.raises(RunStateError, match="has finished \\(succeeded\\) meanwhile"):
            attach(store, stale, RunOptions())
        assert store.lock_holder("finishes") is None
        after = store.get_run(record.id)
        assert after.owner is None and after.status == "succeeded"
        assert len(store.events(record.id)) == events  # nothing journalled
    finally:
        store.close()
    checked = cli("check", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_rollback_of_a_finished_run_still_takes_the_lock(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan)).returncode == 0
    store = SqliteStore(cli.state_dir)
    try:
        record = store.get_run("last")
        _runner, owner = attach(store, record, RunOptions())
        holder = store.lock_holder("finishes")
        assert holder is not None and holder[0] == record.id
        store.release(record.id, owner=owner)
    finally:
        store.close()
