"""The run page shows post-rollout monitoring: its state, the checks done of how many, the
next due time while it goes on, and what failed; a monitoring run is active and offers abort
(which rolls back), not resume."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phasegate.server.dashboard.views import ACTIVE, operations
from phasegate.store.sqlite import SqliteStore
from tests.dashboard.conftest import make_app, phasegate_env

PLAN = """\
version: 1
name: watched
phases:
  - id: deploy
    steps:
      - {id: push, run: 'true'}
monitor:
  checks:
    - {id: alive, command: 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ne 1 ]'}
  schedule:
    - {every: 0.4s, for: 1.6s}
  on_failure: alert
"""


def test_the_run_page_shows_the_monitoring_of_a_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (tmp_path / "plan.yaml").write_text(PLAN)
    done = subprocess.run(
        [sys.executable, "-m", "phasegate", "run", "plan.yaml"],
        cwd=tmp_path,
        env=phasegate_env(state),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _, dashboard = make_app(state)
    store = SqliteStore(state, readonly=True)
    try:
        record = store.list_runs(limit=1)[0]
        html = dashboard.run_body(store, record.id)
    finally:
        store.close()
    # On a loaded machine a slot may be passed over (missed), never run late in a burst.
    done = record.summary["monitoring"]["evaluations"]
    assert done + record.summary["monitoring"]["missed"] == 4
    assert f'data-monitoring="completed" data-checks-done="{done}"' in html
    assert f"<strong>Monitoring</strong> (completed): {done} of 4 checks, 1 failed" in html
    assert "Last failing: alive." in html or "Last failing" not in html
    assert 'data-next-due=""' in html  # over: nothing is due
    assert "on failure: alert" in html


def test_a_monitoring_run_is_active_and_offers_abort_not_resume() -> None:
    doc = {"run": {"id": "r", "status": "monitoring"}, "phases": [], "rollback": None}
    assert "monitoring" in ACTIVE
    assert operations(doc) == ["abort"]
