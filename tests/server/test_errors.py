"""Every error path answers the one envelope: {"error": {code, message, hint, details}}."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from tests.server.conftest import Api, TestClient, make_tokens, plan_text

CODES = {
    "not_found",
    "unauthorized",
    "forbidden",
    "conflict",
    "invalid_plan",
    "policy_violation",
    "invalid_request",
    "run_state",
    "internal",
}


def envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "hint", "details"}
    assert error["code"] == code and error["code"] in CODES
    assert error["message"]
    assert "Traceback" not in response.text
    return error


def test_unauthorized(api: Api) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer pg_0123456789ab_" + "x" * 43},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer nonsense"},
    ):
        response = api.client.get("/api/v1/runs", headers=headers)
        envelope(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_refused_at_once(api: Api, tmp_path: Path) -> None:
    from phasegate.server.tokens import TokenStore
    from phasegate.store.server_db import ServerDb

    assert api.get("/api/v1/me", "bob").status_code == 200
    TokenStore(ServerDb(tmp_path / "state")).revoke("bob")
    envelope(api.get("/api/v1/me", "bob"), 401, "unauthorized")


def test_forbidden(api: Api) -> None:
    for path in (
        "/api/v1/runs",
        "/api/v1/runs/x/approve",
        "/api/v1/runs/x/abort",
        "/api/v1/runs/x/rollback",
        "/api/v1/runs/x/resume",
    ):
        envelope(api.post(path, "viewer", json={}), 403, "forbidden")


def test_not_found(api: Api) -> None:
    for path in (
        "/api/v1/runs/nope",
        "/api/v1/runs/nope/events",
        "/api/v1/runs/nope/logs",
        "/api/v1/nothing-here",
        "/no-such-page",  # (`/` leads to the dashboard)
    ):
        envelope(api.get(path), 404, "not_found")
    envelope(api.post("/api/v1/runs/nope/abort", json={}), 404, "not_found")
    envelope(api.post("/api/v1/runs", json={"plan_path": "missing.yaml"}), 404, "not_found")


def test_method_not_allowed(api: Api) -> None:
    response = api.client.delete("/api/v1/runs", headers=api.headers("admin"))
    envelope(response, 405, "invalid_request")


def test_invalid_request(api: Api) -> None:
    cases: list[Any] = [
        {"plan": plan_text(), "unknown": 1},
        {"plan": plan_text(), "plan_path": "x.yaml"},
        {},
        {"plan": plan_text(), "max_parallel": 0},
        "not json",
    ]
    for body in cases:
        response = api.post("/api/v1/runs", json=body)
        error = envelope(response, 422, "invalid_request")
        assert isinstance(error["details"], list)
    bad_json = api.post("/api/v1/runs", content=b"{", headers={"content-type": "application/json"})
    envelope(bad_json, 422, "invalid_request")
    envelope(api.get("/api/v1/runs", params={"cursor": "!!"}), 422, "invalid_request")
    envelope(api.get("/api/v1/runs", params={"limit": 0}), 422, "invalid_request")


def test_secret_values_in_a_bad_request_are_not_echoed(api: Api) -> None:
    response = api.post("/api/v1/runs", json={"plan": plan_text(), "vars": {"K": 12345678}})
    envelope(response, 422, "invalid_request")
    assert "12345678" not in response.text


def test_invalid_plan_lists_problems_with_locations(api: Api) -> None:
    response = api.post("/api/v1/runs", json={"plan": "version: 1\nname: x\nphases:\n  - id: 3\n"})
    error = envelope(response, 422, "invalid_plan")
    assert error["details"] and error["details"][0]["line"] == 4
    assert {"message", "file", "line", "column", "hint"} <= set(error["details"][0])


def test_conflicts_and_run_state(api: Api, tmp_path: Path) -> None:
    go = tmp_path / "go"
    slow = plan_text(
        command=f"for i in $(seq 2400); do [ -f {go} ] && break; sleep 0.05; done; [ -f {go} ]"
    )
    first = api.post("/api/v1/runs", json={"plan": slow}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201
    run_id = first.json()["id"]
    # Same plan (same lock) while it runs: conflict.
    envelope(api.post("/api/v1/runs", json={"plan": slow}), 409, "conflict")
    # Same key, another body.
    other = api.post("/api/v1/runs", json={"plan": plan_text()}, headers={"Idempotency-Key": "k1"})
    envelope(other, 409, "conflict")
    envelope(api.post(f"/api/v1/runs/{run_id}/rollback"), 409, "run_state")
    envelope(api.post(f"/api/v1/runs/{run_id}/resume"), 409, "run_state")
    envelope(api.post(f"/api/v1/runs/{run_id}/approve"), 422, "invalid_request")
    go.write_text("")
    api.wait_status(run_id, "succeeded")
    envelope(api.post(f"/api/v1/runs/{run_id}/abort"), 409, "run_state")


def test_internal_error_hides_the_exception(tmp_path: Path) -> None:
    app = create_app(ServerConfig(state_dir=tmp_path / "state", plan_root=tmp_path))
    tokens = make_tokens(tmp_path / "state")

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret-in-exception")

    with TestClient(app, raise_server_exceptions=False) as client:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        response = client.get("/api/v1/boom", headers=admin)
        error = envelope(response, 500, "internal")
        assert "secret-in-exception" not in response.text
        assert error["hint"]


@pytest.mark.parametrize("free", [10**18])
def test_unhealthy_is_503_with_the_checks(tmp_path: Path, free: int) -> None:
    app = create_app(ServerConfig(state_dir=tmp_path / "state", min_free_bytes=free))
    with TestClient(app, raise_server_exceptions=False) as client:
        error = envelope(client.get("/healthz"), 503, "internal")
        checks = {d["check"]: d["ok"] for d in error["details"]}
        assert checks == {"store": True, "filesystem": True, "disk": False}
