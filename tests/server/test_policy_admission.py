"""`serve --policies DIR`: a start whose plan breaks the pack is refused with 422
``policy_violation`` in the one error envelope, each violation located; nothing is created.
A plan that satisfies the pack starts as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from tests.policy.conftest import CATALOGUE, STARTER
from tests.server.conftest import Api, Served, TestClient, make_tokens, plan_text
from tests.server.test_errors import envelope
from tests.server.test_serve import token


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Api]:
    state = tmp_path / "state"
    plans = tmp_path / "plans"
    plans.mkdir()
    tokens = make_tokens(state)
    config = ServerConfig(state_dir=state, plan_root=plans, workers=1, policies=STARTER)
    app = create_app(config)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens)
        assert app.state.pool.join(120), "workers still busy"


def test_a_violating_start_is_refused_with_the_envelope(guarded: Api) -> None:
    text = (CATALOGUE / "18-everything-wrong.yaml").read_text()
    response = guarded.post("/api/v1/runs", json={"plan": text})
    error = envelope(response, 422, "policy_violation")
    assert error["message"].startswith("refused by policy (2 hard violations")
    found = {(d["policy"], d["level"], d["field"], d["line"]) for d in error["details"]}
    assert ("no-literal-secrets", "hard", "vars.API_KEY", 10) in found
    assert ("production-rollback-budget", "hard", "metadata.environment", 8) in found
    assert all(d["column"] for d in error["details"])
    assert {d["file"] for d in error["details"]} == {"<plan>"}  # not the server's copy
    assert "abcdef0123456789" not in response.text  # the literal secret is never echoed
    assert guarded.get("/api/v1/runs").json()["runs"] == []


def test_a_soft_violation_is_refused_and_a_clean_plan_runs(guarded: Api) -> None:
    risky = plan_text(command="true || curl -s http://127.0.0.1:9/x | sh")
    error = envelope(guarded.post("/api/v1/runs", json={"plan": risky}), 422, "policy_violation")
    assert [d["policy"] for d in error["details"]] == ["risky-commands-approved"]
    assert error["details"][0]["field"] == "phases[0].steps[0].run"
    started = guarded.post("/api/v1/runs", json={"plan": plan_text()})
    assert started.status_code == 201, started.text
    guarded.wait_status(started.json()["id"], "succeeded")


def test_a_real_server_refuses_a_violating_start(served: Served) -> None:
    served.serve_args = ["--policies", str(STARTER)]
    alice = token(served, "alice", "operator")
    served.start()
    text = (CATALOGUE / "10-literal-token.yaml").read_text()
    response = httpx.post(
        served.url + "/api/v1/runs",
        json={"plan": text},
        headers={"Authorization": f"Bearer {alice}"},
        timeout=30,
    )
    error = envelope(response, 422, "policy_violation")
    assert error["details"][0]["policy"] == "no-literal-secrets"
    assert error["details"][0]["line"] == 5


# -- overriding a soft policy over the API (issue 14 §6) ---------------------------------------
RISKY = "true || curl -s http://127.0.0.1:9/x | sh"


def _events(api: Api, run_id: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = api.get(f"/api/v1/runs/{run_id}/events").json()["events"]
    return events


def test_an_operator_cannot_override_a_policy(guarded: Api) -> None:
    body = {
        "plan": plan_text(command=RISKY),
        "override_policies": ["risky-commands-approved"],
        "override_reason": "the download is our own mirror",
    }
    error = envelope(guarded.post("/api/v1/runs", json=body, who="alice"), 403, "forbidden")
    assert "admin" in error["message"]
    assert guarded.get("/api/v1/runs").json()["runs"] == []  # nothing created


def test_an_admin_override_runs_and_is_journalled_with_who_and_why(guarded: Api) -> None:
    body = {
        "plan": plan_text(command=RISKY),
        "override_policies": ["risky-commands-approved"],
        "override_reason": "the download is our own mirror",
    }
    started = guarded.post("/api/v1/runs", json=body, who="admin")
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    guarded.wait_status(run_id, "succeeded")
    events = _events(guarded, run_id)
    types = [e["type"] for e in events]
    overridden = [e for e in events if e["type"] == "policy.overridden"]
    assert len(overridden) == 1
    data = overridden[0]["data"]
    assert isinstance(data, dict)
    assert data["policy"] == "risky-commands-approved"
    assert data["by"] == "token:admin"
    assert data["reason"] == "the download is our own mirror"
    assert len(data["violations"]) == 1
    # journalled before the run started: nothing of the plan ran before the override was on record
    assert types.index("policy.overridden") < types.index("run.started")
    document = guarded.get(f"/api/v1/runs/{run_id}").json()
    assert any("overridden by token:admin" in str(w) for w in document["warnings"])


@pytest.mark.parametrize(
    ("extra", "status", "code", "says"),
    [
        ({"override_reason": ""}, 422, "invalid_request", "reason"),
        ({"override_policies": ["no-such-policy"]}, 422, "invalid_request", "no-such-policy"),
        # a hard policy is refused whoever asks and whatever the reason
        ({"override_policies": ["no-literal-secrets"]}, 422, "policy_violation", "hard"),
    ],
)
def test_an_override_that_does_not_hold_is_refused(
    guarded: Api, extra: dict[str, object], status: int, code: str, says: str
) -> None:
    plan = (
        (CATALOGUE / "18-everything-wrong.yaml").read_text()
        if code == "policy_violation"
        else plan_text(command=RISKY)
    )
    body = {
        "plan": plan,
        "override_policies": ["risky-commands-approved"],
        "override_reason": "our mirror",
        **extra,
    }
    error = envelope(guarded.post("/api/v1/runs", json=body, who="admin"), status, code)
    assert says in error["message"]
    assert guarded.get("/api/v1/runs").json()["runs"] == []


def test_an_override_without_a_pack_is_refused(api: Api) -> None:
    body = {"plan": plan_text(), "override_policies": ["x"], "override_reason": "y"}
    error = envelope(api.post("/api/v1/runs", json=body, who="admin"), 422, "invalid_request")
    assert "no policy pack" in error["message"]


RUNTIME_PACK = """\
level: soft
rules:
  - each: run
    deny: run.phase.id == 'second' && run.phases.first == 'succeeded'
    message: the second phase waits for a person at run time
"""
TWO_PHASES = """\
version: 1
name: two
phases:
  - id: first
    steps: [{run: "true"}]
  - id: second
    needs: [first]
    steps: [{run: "true"}]
"""


def test_a_servers_worker_asks_the_pack_before_each_phase(tmp_path: Path) -> None:
    """issue 14 §6 through the server: the pack given to `serve` holds a phase at run time;
    an operator's approval with a comment overrides it, journalled with who and why."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "second.cel.yaml").write_text(RUNTIME_PACK)
    state = tmp_path / "state"
    plans = tmp_path / "plans"
    plans.mkdir()
    tokens = make_tokens(state)
    app = create_app(ServerConfig(state_dir=state, plan_root=plans, workers=1, policies=pack))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        started = api.post("/api/v1/runs", json={"plan": TWO_PHASES})
        assert started.status_code == 201, started.text  # admission: nothing to say
        run_id = started.json()["id"]
        paused = api.wait_status(run_id, "paused")
        held = [i for p in paused["phases"] for i in p["items"] if i["key"] == "second/policy"]
        assert held and held[0]["status"] == "awaiting_approval"
        assert [p["status"] for p in paused["phases"]] == ["succeeded", "pending"]
        viewer = api.client.post(
            f"/api/v1/runs/{run_id}/approve",
            headers=api.headers("viewer"),
            json={"check": "second/policy", "comment": "x"},
        )
        assert viewer.status_code == 403
        approved = api.post(
            f"/api/v1/runs/{run_id}/approve",
            json={"check": "second/policy", "comment": "change CHG-7 approved"},
        )
        assert approved.status_code in (200, 202), approved.text
        api.wait_status(run_id, "succeeded")
        events = api.get(f"/api/v1/runs/{run_id}/events").json()["events"]
        overridden = [e["data"] for e in events if e["type"] == "policy.overridden"]
        assert len(overridden) == 1
        assert overridden[0]["by"] == "token:alice"
        assert overridden[0]["reason"] == "change CHG-7 approved"
        assert app.state.pool.join(120), "workers still busy"
