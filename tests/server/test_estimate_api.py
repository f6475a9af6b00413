"""`GET /api/v1/runs/{id}/estimate`: a run's remaining time with its 90 % interval, learned
from the finished runs of the same plan; a viewer may read it (issue 13 §4)."""

from __future__ import annotations

from pathlib import Path

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.estimate.journals import Timeline, write_run
from tests.server.conftest import Api

PLAN = """\
version: 1
name: web
phases:
  - id: build
    steps:
      - {id: compile, run: make}
  - id: ship
    needs: [build]
    steps:
      - {id: upload, run: ./upload}
"""


def test_a_viewer_reads_a_runs_estimate(api: Api, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state")
    try:
        t = 1_000_000.0
        for n in range(12):
            steps = {"build": [("compile", 60.0 + n)], "ship": [("upload", 30.0)]}
            t = write_run(store, "web", PLAN, Timeline(f"r{n:02}", t + 1, steps))
        last = Timeline(
            "waited",
            t + 1,
            {"build": [("compile", 65.0)], "ship": [("upload", 30.0)]},
            approval_wait=900.0,
        )
        write_run(store, "web", PLAN, last)
    finally:
        store.close()
    got = api.get("/api/v1/runs/waited/estimate", who="viewer")
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["run_id"] == "waited" and data["status"] == "succeeded"
    assert data["admitted"] == 12  # its own run is not history for itself
    assert data["remaining"]["p50"] == 0.0
    assert data["phases"] == {"build": "done", "ship": "done"}
    assert data["elapsed"] == 95.0 and data["waited"] == 900.0
    total = data["total"]
    assert total["low"] < total["p50"] < total["high"] and 85 < total["p50"] < 110
    assert total["source"] == "phases"
    assert api.client.get("/api/v1/runs/waited/estimate").status_code == 401
    missing = api.get("/api/v1/runs/nope/estimate")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


TOKENS = """\
version: 1
name: tokens
budget: {{resources: {{tokens: {{limit: {limit}, unit: tok, runway: [40, 20]{guard}}}}}}}
phases:
  - id: work
    steps:
      - {{name: a, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}}
      - {{name: b, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}}
      - {{name: c, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}}
"""


def test_resource_budgets_runways_are_in_the_estimate(api: Api, cli: CLI) -> None:
    """A run that used 90 tokens teaches the plan; the next, with 70 and a 125 % bound, is held
    before any step: the API shows nothing used, ~90 projected, both thresholds passed and the
    hold awaiting an approval (real `phasegate run`, the same state directory)."""
    first = cli("run", str(write_plan(cli.cwd, TOKENS.format(limit=100, guard=""), "a.yaml")))
    assert first.returncode == 0, first.stderr
    run1 = cli.status()["run"]["id"]
    bound = ", pause_above: 125%"
    held = cli("run", str(write_plan(cli.cwd, TOKENS.format(limit=70, guard=bound), "b.yaml")))
    assert held.returncode == 4, held.stderr
    run2 = cli.status()["run"]["id"]
    done = api.get(f"/api/v1/runs/{run1}/estimate", who="viewer").json()
    [used] = done["resources"]
    assert (used["name"], used["unit"], used["budget"], used["used"]) == ("tokens", "tok", 100, 90)
    assert used["projected_p50"] == used["projected_p90"] == 90  # finished: nothing left
    assert (used["remaining"], used["passed"], used["hold"], used["over"]) == (
        10,
        [40, 20],
        None,
        False,
    )
    assert done["runway"] is None  # no duration budget
    got = api.get(f"/api/v1/runs/{run2}/estimate", who="viewer")
    assert got.status_code == 200, got.text
    [tokens] = got.json()["resources"]
    assert tokens["used"] == 0 and tokens["thresholds"] == [40, 20]
    assert 80 < tokens["projected_p50"] < 100 and tokens["projected_p90"] >= tokens["projected_p50"]
    assert tokens["remaining"] == round(70 - tokens["projected_p50"], 3)  # basis p50
    assert tokens["passed"] == [40, 20] and tokens["pause_above"] == 1.25
    assert tokens["hold"] == "awaiting_approval" and tokens["unprojected"] == []
