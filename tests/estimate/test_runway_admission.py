"""Budget runway at admission, in the API and on the dashboard (issue 13 §5): a run whose
plan's history already projects it over its duration budget says so before its first phase
(a warning, journalled and printed) and, over `pause_above`, is held for an approval before
anything runs. `GET /api/v1/runs/{id}/estimate` (a real `phasegate serve`) carries the runway
for every role and refuses without a token; the dashboard's run page shows it. The approval
wait is not the run's duration in the report (work time; the wall time beside it)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from phasegate.store.sqlite import SqliteStore
from tests.estimate.journals import Timeline, write_run
from tests.server import conftest as server_fixtures
from tests.server.conftest import Served, make_tokens

served = server_fixtures.served  # a real `phasegate serve` (tests/server/conftest.py)

PLAN = """\
version: 1
name: guarded
budget: {duration: 60s, runway: [20s, 10s], pause_above: 125%}
phases:
  - id: build
    steps:
      - {id: compile, run: "true"}
  - id: ship
    needs: [build]
    steps:
      - {id: upload, run: "echo shipped > shipped"}
"""


def _history(state: Path) -> None:
    """Twelve finished runs of the plan: ~95 s of work each (60-71 s + 30 s)."""
    store = SqliteStore(state)
    try:
        t = time.time() - 100_000
        for n in range(12):
            steps = {"build": [("compile", 60.0 + n)], "ship": [("upload", 30.0)]}
            t = write_run(store, "guarded", PLAN, Timeline(f"old{n:02}", t + 1, steps))
    finally:
        store.close()


def test_a_run_projected_over_its_budget_is_held_at_admission_and_every_role_sees_the_runway(
    served: Served,
) -> None:
    _history(served.state_dir)
    (served.cwd / "plan.yaml").write_text(PLAN)
    first = served.cli("run", "plan.yaml")
    # Held before its first phase: exit 4 (paused for an approval), nothing ran.
    assert first.returncode == 4, first.stderr
    assert "at admission: the run's projected p90 is over its duration budget" in first.stderr
    assert "over the pause bound of 125%" in first.stderr
    assert not (served.cwd / "shipped").exists()
    status = served.cli("status", "last", "--json")
    doc = json.loads(status.stdout)
    run_id = doc["run"]["id"]
    assert doc["run"]["status"] == "paused" and doc["pause"]["items"] == ["budget:duration"]
    assert all(p["started_at"] is None for p in doc["phases"])
    assert doc["budgets"]["duration"]["crossed"] == [20.0, 10.0]
    assert any(w["message"].startswith("at admission:") for w in doc["warnings"])

    tokens = make_tokens(served.state_dir)
    served.start()
    url = f"{served.url}/api/v1/runs/{run_id}/estimate"
    for who in ("viewer", "alice", "admin"):
        got = httpx.get(url, headers={"Authorization": f"Bearer {tokens[who]}"}, timeout=30)
        assert got.status_code == 200, (who, got.text)
        runway = got.json()["runway"]
        assert runway["budget"] == 60.0 and runway["used"] < 5.0
        assert runway["projected_p90"] > runway["projected_p50"] > 75.0  # over 125 % of 60 s
        assert runway["remaining"] == round(60.0 - runway["projected_p50"], 3) < 0
        assert runway["basis"] == "p50" and runway["pause_above"] == 1.25
        assert runway["thresholds"] == [20.0, 10.0] and runway["passed"] == [20.0, 10.0]
        assert runway["hold"] == "awaiting_approval" and runway["over"] is False
    assert httpx.get(url, timeout=30).status_code == 401
    bad = httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert bad.status_code == 401

    with httpx.Client(base_url=served.url, timeout=30) as ui:
        signed = ui.post("/ui/login", data={"token": tokens["viewer"], "next": "/ui/runs"})
        assert signed.status_code == 303, signed.text
        page = ui.get(f"/ui/runs/{run_id}")
        assert page.status_code == 200
        html = page.text
        assert '<section class="runway"' in html and 'data-budget="60.0"' in html
        assert 'data-passed="20.0,10.0"' in html and 'data-hold="awaiting_approval"' in html
        assert "<strong>Duration budget</strong> 1m00s" in html
        assert "Pauses above 125%: held, awaiting an approval" in html
    served.stop()

    time.sleep(1.5)  # the approval wait: a human's, not the run's work
    approved = served.cli("approve", run_id)
    assert approved.returncode == 0, approved.stderr
    resumed = served.cli("resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert (served.cwd / "shipped").read_text() == "shipped\n"
    final = json.loads(served.cli("status", run_id, "--json").stdout)
    assert final["run"]["status"] == "succeeded"
    run = final["run"]
    assert run["waited"] >= 1.5
    assert run["duration"] == pytest.approx(run["wall_time"] - run["waited"], abs=1e-5)
    assert run["duration"] < run["wall_time"] - 1.5
