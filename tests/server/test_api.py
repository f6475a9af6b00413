"""The API in-process: real worker processes and a real journal, an ASGI test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from phasegate.store.sqlite import SqliteStore
from tests.server.conftest import Api, plan_text

GATED = """\
version: 1
name: gated
phases:
  - id: p
    steps:
      - {name: a, run: echo a, undo: echo undo-a}
    gates:
      - manual: "release manager says go"
        id: go
        prevent_self_review: true
        approvers: 2
"""


def start(api: Api, body: dict[str, Any], who: str = "alice", **kw: Any) -> dict[str, Any]:
    response = api.post("/api/v1/runs", who, json=body, **kw)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/v1/runs/{run['id']}"
    return run


def test_me_and_roles(api: Api) -> None:
    assert api.get("/api/v1/me", "alice").json() == {
        "name": "alice",
        "role": "operator",
        "actor": "token:alice",
    }
    assert api.get("/api/v1/me", "viewer").json()["role"] == "viewer"


def test_a_run_started_over_http_is_attributed_to_the_token(api: Api) -> None:
    run = start(api, {"plan": plan_text()})
    assert run["status"] == "pending"
    assert run["started_by"] == "token:alice"
    doc = api.wait_status(run["id"], "succeeded")
    assert doc["run"]["user"] == "token:alice"
    logs = api.get(f"/api/v1/runs/{run['id']}/logs").json()
    assert logs[0]["key"] == "p/say" and "hello" in logs[0]["text"]
    events = api.get(f"/api/v1/runs/{run['id']}/events").json()
    types = [e["type"] for e in events["events"]]
    assert types[0] == "run.created" and "run.started" in types
    later = api.get(f"/api/v1/runs/{run['id']}/events", params={"after": 2}).json()
    assert [e["seq"] for e in later["events"]] == [e["seq"] for e in events["events"][2:]]
    assert later["last_seq"] == events["last_seq"]


def test_validate_and_preview(api: Api) -> None:
    ok = api.post("/api/v1/plans/validate", "viewer", json={"plan": plan_text()}).json()
    assert ok["valid"] and ok["executable"] and ok["steps"] == 1
    bad = api.post(
        "/api/v1/plans/validate", "viewer", json={"plan": "version: 1\nname: x\nphases: 3\n"}
    ).json()
    assert not bad["valid"]
    assert bad["problems"][0]["line"] == 3


def test_preview_masks_secrets(api: Api) -> None:
    plan = """\
version: 1
name: secretive
vars:
  API_KEY: {secret: true, value: s3cr3t-literal}
  PASSWORD: {secret: true}
phases:
  - id: p
    steps:
      - {name: use, run: 'curl -H "k: ${API_KEY}" -u "u:${PASSWORD}" x'}
"""
    response = api.post(
        "/api/v1/plans/preview",
        "viewer",
        json={"plan": plan, "vars": {"PASSWORD": "hunter22-given"}},
    )
    assert response.status_code == 200, response.text
    assert "s3cr3t-literal" not in response.text
    assert "hunter22-given" not in response.text
    assert response.json()["vars"]["PASSWORD"] == "***"


def test_list_runs_paginates_stably_and_filters(api: Api) -> None:
    ids = []
    for n in range(5):
        run = start(api, {"plan": plan_text(f"plan{n}")})
        api.wait_status(run["id"], "succeeded")
        ids.append(run["id"])
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/runs", params=params).json()
        seen += [r["id"] for r in page["runs"]]
        if cursor is None:
            # A run started between pages shifts nothing.
            extra = start(api, {"plan": plan_text("late")})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    api.wait_status(extra["id"], "succeeded")
    only = api.get("/api/v1/runs", params={"plan": "plan3"}).json()["runs"]
    assert [r["id"] for r in only] == [ids[3]]
    assert api.get("/api/v1/runs", params={"status": "failed"}).json()["runs"] == []


def test_idempotency_key_replays_and_conflicts(api: Api) -> None:
    key = {"Idempotency-Key": "deploy-42"}
    first = start(api, {"plan": plan_text()}, headers=key)
    replay = api.post("/api/v1/runs", json={"plan": plan_text()}, headers=key)
    assert replay.status_code == 200
    assert replay.headers["idempotent-replay"] == "true"
    assert replay.json()["id"] == first["id"]
    other = api.post("/api/v1/runs", json={"plan": plan_text(), "max_parallel": 2}, headers=key)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    api.wait_status(first["id"], "succeeded")


def test_approvals_need_distinct_approvers_and_refuse_the_starter(api: Api) -> None:
    run = start(api, {"plan": GATED})
    api.wait_status(run["id"], "paused")
    own = api.post(f"/api/v1/runs/{run['id']}/approve", "alice", json={})
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "forbidden"
    assert "prevent_self_review" in own.json()["error"]["message"]
    first = api.post(f"/api/v1/runs/{run['id']}/approve", "bob", json={"check": "go"})
    assert first.status_code == 200, first.text
    assert first.json()["keys"] == ["p/gate:go"]
    again = api.post(f"/api/v1/runs/{run['id']}/approve", "bob", json={"check": "go"})
    assert again.status_code == 200  # the same approver twice still counts once
    assert api.get(f"/api/v1/runs/{run['id']}").json()["run"]["status"] == "paused"
    last = api.post(f"/api/v1/runs/{run['id']}/approve", "admin")
    assert last.status_code == 200, last.text
    doc = api.wait_status(run["id"], "succeeded")
    assert doc["approvals"]["p/gate:go"] == ["token:bob", "token:admin"]


def test_abort_of_a_paused_run_rolls_it_back_attributed(api: Api) -> None:
    run = start(api, {"plan": GATED})
    api.wait_status(run["id"], "paused")
    response = api.post(f"/api/v1/runs/{run['id']}/abort", "bob", json={"reason": "no-go"})
    assert response.status_code == 202, response.text
    # "requested" when the worker that paused it is still exiting: the pool settles it.
    assert response.json()["outcome"] in ("queued", "requested")
    doc = api.wait_status(run["id"], "rolled_back")
    assert doc["failure"]["message"] == "aborted by token:bob: no-go"


def test_rollback_of_a_succeeded_run_and_resume_refused_when_finished(api: Api) -> None:
    run = start(api, {"plan": plan_text(command="echo hi")})
    api.wait_status(run["id"], "succeeded")
    response = api.post(f"/api/v1/runs/{run['id']}/rollback", "bob")
    assert response.status_code == 202, response.text
    doc = api.wait_status(run["id"], "rolled_back")
    assert doc["rollback"]["by"] == "token:bob"
    again = api.post(f"/api/v1/runs/{run['id']}/resume", "bob")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "run_state"


def test_plan_path_under_the_plan_root(api: Api, tmp_path: Any) -> None:
    (tmp_path / "plans" / "hello.yaml").write_text(plan_text(), encoding="utf-8")
    run = start(api, {"plan_path": "hello.yaml"})
    api.wait_status(run["id"], "succeeded")
    outside = api.post("/api/v1/runs", json={"plan_path": "../state/server.db"})
    assert outside.status_code == 403


def test_tokens_are_stored_hashed(api: Api, tmp_path: Any) -> None:
    raw = (tmp_path / "state" / "server.db").read_bytes()
    for token in api.tokens.values():
        assert token.encode() not in raw
        assert token.split("_", 2)[2].encode() not in raw


def test_healthz_needs_no_token(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert set(response.json()["checks"]) == {"store", "filesystem", "disk"}


def test_journal_replays_after_server_runs(api: Api, tmp_path: Any) -> None:
    run = start(api, {"plan": GATED})
    api.wait_status(run["id"], "paused")
    api.post(f"/api/v1/runs/{run['id']}/abort", "bob")
    api.wait_status(run["id"], "rolled_back")
    from phasegate.store.invariants import check_store

    assert check_store(SqliteStore(tmp_path / "state"))["ok"]


def test_seed_003_demo_1_idempotent_start(api: Api) -> None:
    """Seed 003, Day 0, demo 1: first call submits a run; the same key again is a replay of
    that run (Idempotent-Replay: true); a new key submits a new run."""
    body = {"plan": plan_text("demo-1")}
    first = api.post("/api/v1/runs", json=body, headers={"Idempotency-Key": "demo-1-a"})
    assert first.status_code == 201 and "idempotent-replay" not in first.headers
    second = api.post("/api/v1/runs", json=body, headers={"Idempotency-Key": "demo-1-a"})
    assert second.status_code == 200 and second.headers["idempotent-replay"] == "true"
    assert second.json()["id"] == first.json()["id"]
    api.wait_status(first.json()["id"], "succeeded")
    third = api.post("/api/v1/runs", json=body, headers={"Idempotency-Key": "demo-1-b"})
    assert third.status_code == 201 and third.json()["id"] != first.json()["id"]
    api.wait_status(third.json()["id"], "succeeded")


def test_validate_of_a_markdown_document_agrees_with_the_import_verdict(
    api: Api, tmp_path: Path
) -> None:
    """A document the import says runs nothing (only a checklist) is valid but not
    executable as written, over the API as with `phasegate validate DOC.md`; a document
    with a real step is executable. Both named by plan_path under the plan root."""
    plans = tmp_path / "plans"
    (plans / "checklist.md").write_text(
        "# Release\n\n## Phase 1: Prepare\n\n- [ ] Backups verified\n", encoding="utf-8"
    )
    (plans / "deploy.md").write_text(
        "# Release\n\n## Phase 1: Deploy\n\n```bash\necho deployed\n```\n", encoding="utf-8"
    )
    seen = api.post("/api/v1/plans/validate", "viewer", json={"plan_path": "checklist.md"}).json()
    assert seen["valid"] is True and seen["executable"] is False, seen
    assert any("runs nothing" in r for r in seen["not_executable"]), seen
    ok = api.post("/api/v1/plans/validate", "viewer", json={"plan_path": "deploy.md"}).json()
    assert ok["valid"] is True and ok["executable"] is True and ok["not_executable"] == [], ok
