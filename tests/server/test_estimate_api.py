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


STATES = """\
version: 1
name: states
budget:
  duration: 1h
  runway: [10m]
  resources:
    tokens: {{limit: 125, unit: tok, runway: [40, 20]}}
    usd: {{limit: 100, output: tokens, unit: USD, runway: [40, 20]}}
    gpu: {{limit: {gpu}, output: tokens, unit: min{guard}}}
phases:
  - id: work
    steps:
      - {{name: a, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}}
      - {{name: b, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}}
      - {{name: c, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}}
"""

SHARED = ("budget", "used", "projected_p50", "projected_p90", "low", "high", "remaining")


def test_the_api_and_the_runway_panel_say_the_same_states_and_intervals(api: Api, cli: CLI) -> None:
    """A run that used 90 tokens teaches the plan; the next is held before any step (its gpu
    budget's 125 % bound: ~90 projected > 87.5). The API answers each budget's state as the
    run journalled it — duration ok, tokens warning (35 left < 40), usd critical (10 left <
    20, the last threshold), gpu paused — and the projection's 90 % interval; the dashboard's
    runway panel shows the same for the same run; every role that reads runs reads it, and
    the endpoint refuses as ``GET /api/v1/runs/{id}`` does (real `phasegate run`)."""
    from phasegate.estimate import fitcache
    from phasegate.server.dashboard.runway import runway_panel

    taught = write_plan(cli.cwd, STATES.format(gpu=1000, guard=""), "a.yaml")
    assert cli("run", str(taught)).returncode == 0
    held = write_plan(cli.cwd, STATES.format(gpu=70, guard=", pause_above: 125%"), "b.yaml")
    assert cli("run", str(held)).returncode == 4
    run_id = cli.status()["run"]["id"]

    got = api.get(f"/api/v1/runs/{run_id}/estimate", who="viewer")
    assert got.status_code == 200, got.text
    data = got.json()
    states = {r["name"]: r["state"] for r in data["resources"]}
    assert states == {"tokens": "warning", "usd": "critical", "gpu": "paused"}
    assert data["runway"]["state"] == "ok" and data["runway"]["budget"] == 3600
    for r in data["resources"]:
        assert r["used"] == 0, r
        assert r["low"] <= r["projected_p50"] <= r["projected_p90"] <= r["high"], r
        assert r["low"] < 90 < r["high"] and 80 < r["projected_p50"] < 100, r
    tokens = data["resources"][0]
    assert tokens["remaining"] == round(125 - tokens["projected_p50"], 3)
    d = data["runway"]
    assert d["low"] <= d["projected_p50"] <= d["projected_p90"] <= d["high"]
    # Work so far plus the remaining time's interval (each rounded to the millisecond).
    assert abs(d["low"] - (d["used"] + data["remaining"]["low"])) < 0.002
    assert abs(d["high"] - (d["used"] + data["remaining"]["high"])) < 0.002

    # Every role that reads runs reads the same answer.
    for who in ("alice", "admin"):
        other = api.get(f"/api/v1/runs/{run_id}/estimate", who=who)
        assert other.status_code == 200, (who, other.text)
        assert other.json()["resources"] == data["resources"], who
        assert other.json()["runway"]["state"] == "ok"
    # Refused as the run's own document is.
    for path in (f"/api/v1/runs/{run_id}", f"/api/v1/runs/{run_id}/estimate"):
        assert api.client.get(path).status_code == 401
        bad = {"Authorization": "Bearer pg_not-a-token"}
        assert api.client.get(path, headers=bad).status_code == 401
    for path in ("/api/v1/runs/nope", "/api/v1/runs/nope/estimate"):
        assert api.get(path).status_code == 404

    # The panel, for the same run, from a cold cache and from a warm one.
    store = SqliteStore(cli.state_dir)
    try:
        for _ in range(2):
            panel = runway_panel(store, run_id)
            assert panel is not None
            rows = {r["name"]: r for r in panel["resources"]}
            assert list(rows) == ["tokens", "usd", "gpu"]
            for r in data["resources"]:
                row = rows[r["name"]]
                assert row["state"] == r["state"], r["name"]
                assert tuple(row[k] for k in SHARED) == tuple(r[k] for k in SHARED), r["name"]
            duration = panel["duration"]
            assert (duration["state"], duration["budget"]) == ("ok", 3600)
            # A held run's work time stands (its wait for the approval is not work).
            assert abs(duration["used"] - d["used"]) < 0.002
            # Fewer draws (2,000 against 10,000): the same interval to a few seconds.
            assert abs(duration["low"] - d["low"]) < 5 and abs(duration["high"] - d["high"]) < 5
        assert fitcache.stats()["hits"] >= 1
    finally:
        store.close()
