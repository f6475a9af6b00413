"""The API's promote, reject, report, live logs and event stream (issue 10 §3 API): each one
for every role (viewer, operator, admin, nobody), with the JSON error envelope, in the
OpenAPI document, and what it does to the run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from phasegate.store.backends import open_journal
from tests.server.conftest import Api, plan_text, wait_for

# Every test here runs on the SQLite journal and on the PostgreSQL store (conftest.py).
STORES = ("sqlite", "postgres")

PAUSING = """\
version: 1
name: canary
phases:
  - id: deploy
    steps:
      - {id: ship, run: "echo shipped", undo: "echo undone"}
      - {id: hold, pause: approve}
      - {id: after, run: "echo after"}
"""

GATED = """\
version: 1
name: gated
on_failure: pause
phases:
  - id: p
    steps:
      - {id: ship, run: "echo shipped", undo: "echo undone"}
    gates:
      - {manual: "release manager says go", id: go}
"""

SECRETIVE = """\
version: 1
name: secretive
vars:
  TOKEN: {value: hunter2-secret-value, secret: true}
phases:
  - id: p
    steps:
      - {id: say, run: 'echo "token is ${TOKEN}"'}
"""

ROLES = ("viewer", "alice", "admin")  # viewer, operator, admin (tests/server/conftest.py)


def start(api: Api, plan: str) -> str:
    response = api.post("/api/v1/runs", "alice", json={"plan": plan})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def nobody(api: Api, method: str, path: str, **kw: Any) -> Any:
    return api.client.request(method, path, **kw)


def test_promote_roles_and_effect(api: Api) -> None:
    run_id = start(api, PAUSING)
    api.wait_status(run_id, "paused")
    path = f"/api/v1/runs/{run_id}/promote"
    refused(nobody(api, "POST", path, json={}), 401, "unauthorized")
    refused(api.post(path, "viewer", json={}), 403, "forbidden")
    assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "paused"
    done = api.post(path, "alice", json={"full": False})
    assert done.status_code == 202, done.text
    # queued for a worker, or requested of the worker still exiting after the pause
    assert done.json()["action"] == "promote"
    assert done.json()["outcome"] in ("queued", "requested")
    doc = api.wait_status(run_id, "succeeded")
    hold = next(i for i in doc["phases"][0]["items"] if i["key"] == "deploy/hold")
    assert hold["status"] == "succeeded" and "token:alice" in hold["message"]
    # A finished run: 409 with the envelope, for an admin too.
    refused(api.post(path, "admin", json={"full": True}), 409, "run_state")
    refused(api.post(path, "alice", json={"full": "maybe"}), 422, "invalid_request")


def test_promote_full_by_an_admin_skips_the_canary_steps(api: Api) -> None:
    run_id = start(api, PAUSING)
    api.wait_status(run_id, "paused")
    done = api.post(f"/api/v1/runs/{run_id}/promote", "admin", json={"full": True})
    assert done.status_code == 202, done.text
    doc = api.wait_status(run_id, "succeeded")
    items = {i["key"]: i for i in doc["phases"][0]["items"]}
    assert items["deploy/hold"]["status"] == "skipped"
    assert items["deploy/after"]["status"] == "succeeded"


def test_promote_of_a_run_not_at_a_canary_pause_is_refused(api: Api) -> None:
    run_id = start(api, GATED)
    api.wait_status(run_id, "paused")
    # The gate waits for an approval: promote (not full) approves what waits, like the CLI.
    refused(api.post("/api/v1/runs/nope/promote", "alice", json={}), 404, "not_found")


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_reject_rolls_back_with_who_and_why(api: Api, who: str) -> None:
    run_id = start(api, GATED)
    api.wait_status(run_id, "paused")
    path = f"/api/v1/runs/{run_id}/reject"
    refused(nobody(api, "POST", path, json={"comment": "no"}), 401, "unauthorized")
    refused(api.post(path, "viewer", json={"comment": "no"}), 403, "forbidden")
    refused(api.post(path, who, json={}), 422, "invalid_request")  # a reason is required
    refused(api.post(path, who, json={"comment": ""}), 422, "invalid_request")
    refused(api.post(path, who, json={"comment": "x", "check": "nope"}), 422, "invalid_request")
    assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "paused"
    done = api.post(path, who, json={"comment": "error budget spent", "check": "go"})
    assert done.status_code == 202, done.text
    assert done.json()["keys"] == ["p/gate:go"] and done.json()["action"] == "reject"
    doc = api.wait_status(run_id, "rolled_back")
    gate = next(i for i in doc["phases"][0]["items"] if i["key"] == "p/gate:go")
    assert gate["status"] == "failed"
    assert gate["message"] == f"rejected by token:{who}: error budget spent"
    assert doc["failure"]["reason"] == "rejected"
    assert doc["decisions"][-1]["by"] == f"token:{who}"
    assert doc["decisions"][-1]["comment"] == "error budget spent"
    undo = doc["rollback"]["actions"][0]
    assert undo["key"] == "undo:p/ship" and undo["status"] == "succeeded"
    refused(api.post(path, who, json={"comment": "again"}), 409, "run_state")


def test_report_for_every_role_and_format_with_secrets_masked(api: Api) -> None:
    run_id = start(api, SECRETIVE)
    api.wait_status(run_id, "succeeded")
    path = f"/api/v1/runs/{run_id}/report"
    refused(nobody(api, "GET", path), 401, "unauthorized")
    for who in ROLES:
        as_json = api.get(path, who)
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith(
            "application/json"
        )
        assert as_json.json()["run"]["id"] == run_id
        md = api.get(path, who, params={"format": "md"})
        assert md.headers["content-type"].startswith("text/markdown")
        assert run_id in md.text and "## Approvals" in md.text
        html = api.get(path, who, params={"format": "html"})
        assert html.headers["content-type"].startswith("text/html")
        assert "<html" in html.text.lower()
        for response in (as_json, md, html):
            assert "hunter2-secret-value" not in response.text
    refused(api.get(path, params={"format": "pdf"}), 422, "invalid_request")
    refused(api.get("/api/v1/runs/nope/report"), 404, "not_found")


def test_logs_of_a_running_step_show_what_it_printed_so_far(api: Api, tmp_path: Any) -> None:
    release = tmp_path / "release"
    run_id = start(
        api,
        plan_text(
            "slow",
            "echo first line; echo second line; "
            f"for i in $(seq 1200); do [ -f {release} ] && break; sleep 0.1; done; "
            f"[ -f {release} ]",
        ),
    )

    def live_text() -> str | None:
        entries = api.get(f"/api/v1/runs/{run_id}/logs").json()
        if entries and "second line" in entries[0]["text"]:
            return str(entries[0]["text"])
        return None

    text = wait_for(live_text, "the running step's log lines")
    assert "first line" in text
    doc = api.get(f"/api/v1/runs/{run_id}").json()
    assert doc["phases"][0]["items"][0]["status"] == "running"
    assert doc["run"]["owner"]["alive"] is True  # a worker process executes it
    release.touch()
    api.wait_status(run_id, "succeeded")


def _sse(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            if name in ("id", "event", "data"):
                fields[name] = value.lstrip(" ")
        if fields:
            events.append(fields)
    return events


def test_event_stream_roles_and_resume(api: Api) -> None:
    run_id = start(api, plan_text())
    api.wait_status(run_id, "succeeded")
    path = f"/api/v1/runs/{run_id}/events/stream"
    refused(nobody(api, "GET", path), 401, "unauthorized")
    store_events = api.get(f"/api/v1/runs/{run_id}/events").json()["events"]
    for who in ROLES:
        with api.client.stream("GET", path, headers=api.headers(who)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            body = "".join(response.iter_text())
        events = _sse(body)
        sent = [e for e in events if e.get("event") != "end"]
        assert [int(e["id"]) for e in sent] == [e["seq"] for e in store_events]
        assert [e["event"] for e in sent] == [e["type"] for e in store_events]
        assert json.loads(sent[0]["data"])["type"] == "run.created"
        assert events[-1]["event"] == "end"
        assert json.loads(events[-1]["data"])["status"] == "succeeded"
    # Last-Event-ID resumes after that event: nothing repeated, nothing missed.
    headers = {**api.headers("viewer"), "Last-Event-ID": "3"}
    with api.client.stream("GET", path, headers=headers) as response:
        resumed = [e for e in _sse("".join(response.iter_text())) if e.get("event") != "end"]
    assert [int(e["id"]) for e in resumed] == [e["seq"] for e in store_events if e["seq"] > 3]
    bad = api.client.get(path, headers={**api.headers("viewer"), "Last-Event-ID": "yesterday"})
    refused(bad, 422, "invalid_request")
    refused(api.get("/api/v1/runs/nope/events/stream"), 404, "not_found")


def test_new_endpoints_are_in_the_openapi_document(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/runs/{run_id}/promote"]
    assert "post" in paths["/api/v1/runs/{run_id}/reject"]
    report = paths["/api/v1/runs/{run_id}/report"]["get"]
    assert {"application/json", "text/markdown", "text/html"} <= set(
        report["responses"]["200"]["content"]
    )
    stream = paths["/api/v1/runs/{run_id}/events/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    for path in ("promote", "reject", "report", "events/stream"):
        operation = next(iter(paths[f"/api/v1/runs/{{run_id}}/{path}"].values()))
        assert "401" in operation["responses"] and "403" in operation["responses"]


def test_store_is_consistent_after_reject(api: Api) -> None:
    run_id = start(api, GATED)
    api.wait_status(run_id, "paused")
    assert (
        api.post(f"/api/v1/runs/{run_id}/reject", "alice", json={"comment": "no"}).status_code
        == 202
    )
    api.wait_status(run_id, "rolled_back")
    from phasegate.store.invariants import check_store
    from phasegate.store.postgres.check import check_postgres
    from phasegate.store.postgres.store import PostgresStore
    from phasegate.store.sqlite import SqliteStore

    config = api.client.app.state.config  # type: ignore[attr-defined]
    store = open_journal(config.state_dir, url=config.store_url)
    try:
        if isinstance(store, PostgresStore):
            assert check_postgres(store)["ok"]
        else:
            assert isinstance(store, SqliteStore)
            assert check_store(store)["ok"]
    finally:
        store.close()


def test_an_api_approval_journals_its_comment(api: Api) -> None:
    run_id = start(api, GATED)
    api.wait_status(run_id, "paused")
    refused(api.post(f"/api/v1/runs/{run_id}/approve", "viewer", json={}), 403, "forbidden")
    done = api.post(f"/api/v1/runs/{run_id}/approve", "bob", json={"comment": "QA signed off"})
    assert done.status_code == 200, done.text
    doc = api.wait_status(run_id, "succeeded")
    assert [(d["decision"], d["by"], d["comment"]) for d in doc["decisions"]] == [
        ("approved", "token:bob", "QA signed off")
    ]


def test_a_revoked_token_stops_its_event_stream(api: Api, tmp_path: Any) -> None:
    import time

    release = tmp_path / "release"
    run_id = start(
        api,
        plan_text(
            "waits",
            f"for i in $(seq 1200); do [ -f {release} ] && break; sleep 0.1; done; "
            f"[ -f {release} ]",
        ),
    )
    api.wait_status(run_id, "running")
    path = f"/api/v1/runs/{run_id}/events/stream"
    try:
        with api.client.stream("GET", path, headers=api.headers("viewer")) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert any(line.startswith("id:") for line in (next(lines) for _ in range(3)))
            api.client.app.state.tokens.revoke("viewer")  # type: ignore[attr-defined]
            began = time.monotonic()
            for _ in lines:  # the server ends the stream at its next token check
                pass
            assert time.monotonic() - began < 15
        assert api.get(f"/api/v1/runs/{run_id}").status_code == 401
    finally:
        release.touch()
    wait_for(
        lambda: api.get(f"/api/v1/runs/{run_id}", "alice").json()["run"]["status"] == "succeeded",
        "the run to finish",
    )


# Last in this module: the `served` fixture's teardown ends every descendant of the test
# process, the in-process API's forkserver (the plan sandbox) included.
def test_event_stream_over_a_real_server_is_live_and_resumable(served: Any) -> None:
    """Against `phasegate serve` in its own process: events arrive while the run executes,
    and a reconnect with Last-Event-ID continues exactly after the last one received."""
    import httpx

    from tests.server.test_serve import token

    served.start()
    viewer = {"Authorization": f"Bearer {token(served, 'watcher', 'viewer')}"}
    operator = {"Authorization": f"Bearer {token(served, 'ops', 'operator')}"}
    release = served.cwd / "release"
    plan = plan_text(
        "streamed",
        f"echo started; for i in $(seq 1200); do [ -f {release} ] && break; sleep 0.1; done; "
        f"[ -f {release} ]; echo done",
    )
    with httpx.Client(base_url=served.url, timeout=30) as client:
        created = client.post("/api/v1/runs", json={"plan": plan}, headers=operator)
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        path = f"/api/v1/runs/{run_id}/events/stream"
        assert client.get(path).status_code == 401
        first: list[dict[str, str]] = []
        with client.stream("GET", path, headers=viewer) as response:
            assert response.status_code == 200
            block: dict[str, str] = {}
            for line in response.iter_lines():
                if not line:
                    if block:
                        first.append(block)
                    block = {}
                    if first and first[-1].get("event") == "item.started":
                        break  # the step is running now; drop the connection
                    continue
                name, _, value = line.partition(":")
                block[name] = value.lstrip(" ")
        # The step is still running (it waits for `release`): these events came live.
        doc = client.get(f"/api/v1/runs/{run_id}", headers=viewer).json()
        assert doc["run"]["status"] == "running"
        last = int(first[-1]["id"])
        release.touch()
        resumed_headers = {**viewer, "Last-Event-ID": str(last)}
        with client.stream("GET", path, headers=resumed_headers) as response:
            rest = _sse("".join(response.iter_text()))
        journal = client.get(f"/api/v1/runs/{run_id}/events", headers=viewer).json()["events"]
    ids = [int(e["id"]) for e in first + rest if "id" in e]
    assert ids == [e["seq"] for e in journal], "every event once, in order, across reconnects"
    assert rest[-1]["event"] == "end"
    assert json.loads(rest[-1]["data"])["status"] == "succeeded"
