"""A run's lane priority given to the API's start (issue 14 §5; docs/lanes.md, "How slots are
granted"; docs/server.md): the same values and meaning as `phasegate run --priority`. Real
worker processes on real SQLite: a high-priority run overtakes a normal one queued shortly
before it, never one queued longer ago than its head start; bad values are 422s naming the
field; the viewer role still cannot start a run, with or without a priority."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from phasegate.lanes.model import PRIORITY_SECONDS
from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from tests.server.conftest import Api, make_tokens, wait_for
from tests.server.test_errors import envelope

# The first run holds the lane's one slot until the test lets it go.
HOLDER = """\
version: 1
name: {name}
lane: api
phases:
  - id: p
    steps:
      - run: 'for i in $(seq 2400); do [ -f {gate} ] && break; sleep 0.05; done; [ -f {gate} ]'
"""

QUICK = """\
version: 1
name: {name}
lane: api
phases:
  - id: p
    steps:
      - run: 'echo {name}'
"""


@pytest.fixture
def roomy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app with workers enough for three runs at once: a queued run keeps its worker
    (docs/lanes.md, "What is not there yet"); on SQLite or PostgreSQL (the param)."""
    state = tmp_path / "state"
    plans = tmp_path / "plans"
    plans.mkdir()
    store_url = None
    if getattr(request, "param", "sqlite") == "postgres":
        request.getfixturevalue("postgres_server")
        from tests.store.pg_cluster import database_url

        store_url = database_url(tmp_path / "db")
    tokens = make_tokens(state, store_url)
    config = ServerConfig(state_dir=state, store_url=store_url, plan_root=plans, workers=4)
    app = create_app(config)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens)
        assert app.state.pool.join(120), "workers still busy"


def _journal(api: Api) -> JournalStore:
    config = api.client.app.state.config  # type: ignore[attr-defined]
    return open_journal(config.state_dir, url=config.store_url)


def _events(api: Api, run_id: str, kind: str) -> list[dict[str, Any]]:
    rows = api.get(f"/api/v1/runs/{run_id}/events").json()["events"]
    return [e for e in rows if e["type"] == kind]


def _granted_at(api: Api, run_id: str) -> float:
    (dequeued,) = _events(api, run_id, "run.dequeued")
    assert dequeued["data"]["how"] == "granted"
    return float(dequeued["data"]["granted_at"])


@pytest.mark.parametrize("roomy", ["sqlite", "postgres"], indirect=True)
def test_a_high_priority_run_started_over_the_api_overtakes_by_the_rank_rule(
    roomy: Api, tmp_path: Path
) -> None:
    """Queue of lane `api` (cap 1) behind a running holder: `elder` (priority 0, queued 400 s
    ago), `normal` (priority 0, queued now), then `urgent` started with priority 5 (a 300 s
    head start). By rank (queued time - priority x 60 s) the order is elder, urgent, normal:
    urgent passes normal, queued a moment before it, but not elder, queued longer before it
    than its head start."""
    api = roomy
    gate = tmp_path / "go"
    try:
        _overtake(api, gate)
    finally:
        gate.touch()  # the holder ends whatever failed


def _overtake(api: Api, gate: Path) -> None:
    admin = api.headers("admin")
    assert api.client.put("/api/v1/lanes/api", json={"max": 1}, headers=admin).status_code == 200
    holder = api.post("/api/v1/runs", json={"plan": HOLDER.format(name="holder", gate=gate)})
    assert holder.status_code == 201, holder.text
    holder_id = holder.json()["id"]
    api.wait_status(holder_id, "running")

    store = _journal(api)
    try:
        # A run of this (live) test process, queued 400 s ago: nobody reclaims its ticket.
        head_start = 5 * PRIORITY_SECONDS
        store.create_run(
            run_id="elder",
            plan_name="elder",
            plan_path="/plans/elder.yaml",
            plan_sha256="sha",
            plan_text="",
            lock_name="elder",
            idempotency_key=None,
            options={},
            phases=["p"],
            owner=Owner.me(),
            ts=time.time() - 400,
        )
        assert not store.lane_request("elder", "api", ts=time.time() - 400).granted

        normal_id = api.post("/api/v1/runs", json={"plan": QUICK.format(name="normal")}).json()[
            "id"
        ]
        api.wait_status(normal_id, "queued")
        urgent = api.post("/api/v1/runs", json={"plan": QUICK.format(name="urgent"), "priority": 5})
        assert urgent.status_code == 201, urgent.text
        urgent_id = urgent.json()["id"]
        queued = api.wait_status(urgent_id, "queued")["queue"]
        # Its place at once: behind elder, ahead of normal.
        assert (queued["lane"], queued["position"]) == ("api", 2)
        (normal_queued,) = _events(api, normal_id, "run.queued")
        assert normal_queued["data"]["position"] == 2  # behind elder when it queued

        tickets = {t.run_id: t for t in store.lane_tickets()}
        assert (tickets[urgent_id].priority, tickets[normal_id].priority) == (5, 0)
        assert tickets[urgent_id].enqueued_at >= tickets[normal_id].enqueued_at
        assert tickets[urgent_id].rank == tickets[urgent_id].enqueued_at - head_start
        assert tickets["elder"].rank < tickets[urgent_id].rank < tickets[normal_id].rank
        listed = [q["run_id"] for q in api.get("/api/v1/portfolio").json()["queued"]]
        assert set(listed) == {"elder", normal_id, urgent_id}

        gate.touch()
        api.wait_status(holder_id, "succeeded")

        # The freed slot goes to elder (queued longer ago than urgent's head start) ...
        def elder_granted() -> bool:
            place = store.lane_place("elder")
            return place is not None and place[0].granted

        wait_for(elder_granted, "elder's grant")
        for run_id in (normal_id, urgent_id):
            assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "queued"
        store.lane_release("elder")

        # ... then to urgent, and normal waits until urgent has finished (cap 1).
        api.wait_status(urgent_id, "succeeded")
        api.wait_status(normal_id, "succeeded")
        urgent_granted = _granted_at(api, urgent_id)
        normal_granted = _granted_at(api, normal_id)
        (urgent_done,) = _events(api, urgent_id, "run.finished")
        assert urgent_granted < normal_granted
        assert urgent_done["ts"] <= normal_granted
        # The priority is kept with the run (a resume keeps it), as `run --priority` does.
        assert store.get_run(urgent_id).options["priority"] == 5
        assert "priority" not in store.get_run(normal_id).options
    finally:
        store.close()


@pytest.mark.parametrize(
    "priority",
    [101, -101, 1000, "high", "5", 2.5, 1.0, True, None],
)
def test_a_bad_priority_is_a_422_naming_the_field_and_starts_nothing(
    api: Api, priority: Any
) -> None:
    body: dict[str, Any] = {"plan": QUICK.format(name="bad"), "priority": priority}
    if priority is None:  # null is "not given": the plan's priority, as the CLI's default
        answer = api.post("/api/v1/runs", json=body)
        assert answer.status_code == 201, answer.text
        api.wait_status(answer.json()["id"], "succeeded")
        return
    error = envelope(api.post("/api/v1/runs", json=body), 422, "invalid_request")
    assert [d["field"] for d in error["details"]] == ["body.priority"]
    assert api.get("/api/v1/runs").json()["runs"] == []


@pytest.mark.parametrize("who", ["viewer", "alice", "admin"])
def test_only_roles_that_start_runs_may_start_one_with_a_priority(api: Api, who: str) -> None:
    answer = api.post(
        "/api/v1/runs", who=who, json={"plan": QUICK.format(name="p"), "priority": -7}
    )
    runs = api.get("/api/v1/runs").json()["runs"]
    if who == "viewer":
        envelope(answer, 403, "forbidden")
        assert runs == []
        return
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]
    assert [r["id"] for r in runs] == [run_id]
    api.wait_status(run_id, "succeeded")
    store = _journal(api)
    try:
        record = store.get_run(run_id)
        assert record.options["priority"] == -7
        assert who in str(record.options["started_by"])
    finally:
        store.close()


def test_the_same_idempotency_key_with_another_priority_is_a_conflict(api: Api) -> None:
    """The priority is part of the request: a replay must ask for the same one."""
    plan = QUICK.format(name="idem")
    key = {"Idempotency-Key": "start-once"}
    first = api.post("/api/v1/runs", json={"plan": plan, "priority": 3}, headers=key)
    assert first.status_code == 201, first.text
    replay = api.post("/api/v1/runs", json={"plan": plan, "priority": 3}, headers=key)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    envelope(api.post("/api/v1/runs", json={"plan": plan}, headers=key), 409, "conflict")
    api.wait_status(first.json()["id"], "succeeded")
