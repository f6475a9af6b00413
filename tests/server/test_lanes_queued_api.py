"""Decisions over the API for a run queued for a phase's lane slot (issue 14 §5; docs/lanes.md,
"Decisions while queued"), with a real worker process and each role: a viewer's approval or
abort is refused (403) and changes nothing; an operator's approval is journalled while the
run still waits and counted once when the slot comes; an admin's abort ends the wait and
rolls back without the slot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Api, wait_for
from tests.server.test_errors import envelope

STORES = ("sqlite", "postgres")

PLAN = """\
version: 1
name: queued-decisions
phases:
  - id: ask
    steps:
      - run: touch {tmp}/asked
        undo: touch {tmp}/undone
    gates:
      - id: go
        manual: "release manager go"
  - id: after-ask
    needs: [ask]
    steps:
      - run: touch {tmp}/after-ask-ran
  - id: deploy
    lane: deploy
    steps:
      - run: touch {tmp}/deploy-ran
"""


def _queued_with_the_gate_waiting(api: Api, tmp_path: Path) -> str:
    admin = api.headers("admin")
    assert api.client.put("/api/v1/lanes/deploy", json={"max": 0}, headers=admin).status_code == 200
    started = api.post("/api/v1/runs", json={"plan": PLAN.format(tmp=tmp_path)})
    assert started.status_code == 201, started.text
    run_id: str = started.json()["id"]

    def ready() -> bool:
        doc = api.get(f"/api/v1/runs/{run_id}").json()
        gate = [i for p in doc["phases"] for i in p["items"] if i["key"] == "ask/gate:go"]
        return doc["run"]["status"] == "queued" and gate[0]["status"] == "awaiting_approval"

    wait_for(ready, "the run queued for deploy with its gate waiting")
    return run_id


def _events(api: Api, run_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.get(f"/api/v1/runs/{run_id}/events").json()["events"]
    return rows


@pytest.mark.parametrize("who", ["viewer", "alice", "admin"])
def test_an_approval_over_the_api_while_queued_is_recorded_at_once_by_role(
    api: Api, tmp_path: Path, who: str
) -> None:
    run_id = _queued_with_the_gate_waiting(api, tmp_path)
    answer = api.post(f"/api/v1/runs/{run_id}/approve", who=who, json={"comment": "go"})
    if who == "viewer":
        envelope(answer, 403, "forbidden")
        doc = api.get(f"/api/v1/runs/{run_id}").json()
        assert doc["run"]["status"] == "queued" and doc["approvals"] == {}
        assert "approval.granted" not in [e["type"] for e in _events(api, run_id)]
        abort = api.post(f"/api/v1/runs/{run_id}/abort", json={"reason": "cleanup"}, who="admin")
        assert abort.status_code == 202, abort.text
        assert api.wait_status(run_id, "rolled_back")["run"]["status"] == "rolled_back"
        return
    assert answer.status_code == 200, answer.text
    assert answer.json()["keys"] == ["ask/gate:go"]
    # Journalled while the deploy lane is still closed; the rest of the run goes on.
    wait_for((tmp_path / "after-ask-ran").exists, "after-ask to run")
    doc = api.wait_status(run_id, "queued")
    assert doc["queue"]["phase"] == "deploy"
    assert doc["approvals"]["ask/gate:go"] == [f"token:{who}"]
    assert not (tmp_path / "deploy-ran").exists()
    types = [e["type"] for e in _events(api, run_id)]
    assert types.count("approval.granted") == 1 and "lane.granted" not in types

    api.client.put("/api/v1/lanes/deploy", json={"max": 1}, headers=api.headers("admin"))
    done = api.wait_status(run_id, "succeeded")
    assert (tmp_path / "deploy-ran").exists()
    found = _events(api, run_id)
    (approval,) = [e for e in found if e["type"] == "approval.granted"]
    assert (approval["data"]["by"], approval["data"]["comment"]) == (f"token:{who}", "go")
    grant = next(e for e in found if e["type"] == "run.dequeued" and e["data"]["how"] == "granted")
    assert approval["seq"] < grant["seq"]
    assert [d["by"] for d in done["decisions"]] == [f"token:{who}"]


@pytest.mark.parametrize("who", ["viewer", "alice"])
def test_an_abort_over_the_api_while_queued_rolls_back_without_the_slot(
    api: Api, tmp_path: Path, who: str
) -> None:
    run_id = _queued_with_the_gate_waiting(api, tmp_path)
    answer = api.post(f"/api/v1/runs/{run_id}/abort", who=who, json={"reason": "not today"})
    if who == "viewer":
        envelope(answer, 403, "forbidden")
        assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "queued"
        api.post(f"/api/v1/runs/{run_id}/abort", who="admin", json={"reason": "cleanup"})
        api.wait_status(run_id, "rolled_back")
        return
    assert answer.status_code == 202, answer.text
    assert answer.json()["outcome"] == "requested"  # the live worker was asked
    api.wait_status(run_id, "rolled_back")
    assert (tmp_path / "undone").exists() and not (tmp_path / "deploy-ran").exists()
    found = _events(api, run_id)
    (out,) = [e["data"] for e in found if e["type"] == "run.dequeued"]
    assert (out["how"], out["phase"]) == ("abort", "deploy")
    (requested,) = [e["data"] for e in found if e["type"] == "run.abort_requested"]
    assert (requested["by"], requested["reason"]) == (f"token:{who}", "not today")
    assert api.get("/api/v1/portfolio").json()["queued"] == []
