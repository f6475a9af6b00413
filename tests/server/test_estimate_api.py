"""`GET /api/v1/runs/{id}/estimate`: a run's remaining time with its 90 % interval, learned
from the finished runs of the same plan; a viewer may read it (issue 13 §4)."""

from __future__ import annotations

from pathlib import Path

from phasegate.store.sqlite import SqliteStore
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
