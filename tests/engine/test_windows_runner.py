"""The real runner (real shell steps, real SQLite journal) waits for a change window through
its clock seam (``RunOptions.clock``), so a window hours away opens in a second: the run
journals the wait, keeps asking, and proceeds by itself the moment its clock reaches the
opening (issue 13 §1)."""

from __future__ import annotations

import asyncio
import io
import sys
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from phasegate.engine import session
from phasegate.plan.loader import load_plan
from phasegate.store.backends import open_journal
from tests.conftest import write_plan

PLAN = """
    version: 1
    name: windowed
    vars: {LEDGER: ./ledger}
    windows:
      timezone: Europe/Berlin
      deny:
        - {hours: "09:00-10:00", reason: release meeting}
    phases:
      - id: deploy
        risk: low
        steps:
          - {id: push, run: "echo pushed >> ${LEDGER}"}
"""


@pytest.fixture
def default_child_watcher() -> Iterator[None]:
    """An in-process run installs a pidfd child watcher on Python 3.11 (session.drive); put
    the default back, so later tests of this process that start subprocesses from another
    thread's loop find an active watcher."""
    yield
    if sys.version_info < (3, 12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_child_watcher(None)  # the next use creates the default again


@pytest.mark.usefixtures("default_child_watcher")
def test_the_runner_waits_on_its_clock_and_proceeds_when_the_window_opens(
    tmp_path: Path,
) -> None:
    closed = datetime.fromisoformat("2026-12-07T09:58:00+01:00").timestamp()
    opens = datetime.fromisoformat("2026-12-07T10:00:00+01:00").timestamp()
    asked: list[float] = []

    def clock() -> float:
        # A minute per question: the window is closed for the first asks, then opens.
        now = closed + 60 * min(len(asked), 4)
        asked.append(now)
        return now

    ledger = tmp_path / "ledger"
    store = open_journal(tmp_path / "state")
    options = session.RunOptions(
        overrides={"LEDGER": str(ledger)}, console_stream=io.StringIO(), clock=clock
    )
    run_id, status, _ = session.start(store, load_plan(write_plan(tmp_path, PLAN)), options)
    assert status == "succeeded"
    assert ledger.read_text() == "pushed\n"
    events = [(e.type, e.data) for e in store.events(run_id)]
    types = [t for t, _ in events]
    assert types.index("run.waiting") < types.index("run.wait_ended") < types.index("phase.started")
    waiting = dict(events)["run.waiting"]
    assert waiting["rule"] == "deny[0]" and waiting["reason"] == "release meeting"
    assert waiting["next_open"] == opens and waiting["admission"] is True
    assert dict(events)["run.wait_ended"] == {"how": "opened"}
    # The step ran only once the clock said the window was open, and the clock was asked
    # while waiting (no sleep until the opening: the runner re-checks every poll).
    assert [t for t in asked if t < opens] and max(asked) >= opens
    state = store.load_state(run_id)
    assert state.waits[0]["how"] == "opened" and state.wait is None
