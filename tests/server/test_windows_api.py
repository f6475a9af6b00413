"""A run waiting for a change window through the API and the dashboard (issue 13 §1): the run
resource shows ``waiting`` with the rule and the next opening; ``approve`` with
``break_glass`` (and why) lets the held phase start, journalled with who and why; every
refusal answers the one error envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.server.conftest import Api
from tests.server.test_errors import envelope


def _frozen() -> tuple[str, float]:
    today = datetime.now(UTC).date()
    opens = datetime.combine(today + timedelta(days=2), datetime.min.time(), UTC).timestamp()
    plan = f"""\
version: 1
name: frozen
windows:
  timezone: UTC
  deny:
    - {{dates: ["{today}..{today + timedelta(days=1)}"], reason: holiday freeze}}
phases:
  - id: deploy
    risk: medium
    steps:
      - {{name: push, run: "echo pushed"}}
"""
    return plan, opens


def _run_page(state: Path, run_id: str) -> str:
    from phasegate.server.dashboard.routes import Dashboard
    from phasegate.store.sqlite import SqliteStore

    async def act(*_: Any) -> str:  # pragma: no cover - the page is only rendered
        return ""

    store = SqliteStore(state, readonly=True)
    try:
        return Dashboard(state, lambda _: None, act).run_body(store, run_id)
    finally:
        store.close()


def test_a_waiting_run_in_the_api_then_break_glass(api: Api, tmp_path: Path) -> None:
    plan, opens = _frozen()
    started = api.post("/api/v1/runs", json={"plan": plan})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    doc: dict[str, Any] = api.wait_status(run_id, "waiting")
    wait = doc["wait"]
    assert (wait["phase"], wait["risk"], wait["rule"], wait["reason"]) == (
        "deploy",
        "medium",
        "deny[0]",
        "holiday freeze",
    )
    assert wait["why"] == "deny[0] (holiday freeze) denies"
    assert wait["next_open"] == opens
    assert wait["next_open_utc"] == datetime.fromtimestamp(opens, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    listed = api.get("/api/v1/runs", params={"status": "waiting"}).json()["runs"]
    assert [r["id"] for r in listed] == [run_id]

    # The dashboard's run page says the same, with the break-glass action offered.
    page = _run_page(tmp_path / "state", run_id)
    assert 'data-wait-rule="deny[0]"' in page and f'data-next-open="{opens}"' in page
    assert "deny[0] (holiday freeze) denies" in page
    assert datetime.fromtimestamp(opens, UTC).strftime("%a %Y-%m-%d 00:00 UTC") in page
    assert 'data-action="break_glass"' in page and 'name="reason"' in page

    # Refusals, each in the one envelope, and nothing journalled by them.
    envelope(
        api.post(f"/api/v1/runs/{run_id}/approve", json={"break_glass": True}),
        422,
        "invalid_request",
    )
    envelope(
        api.post(
            f"/api/v1/runs/{run_id}/approve",
            json={"break_glass": True, "comment": "x", "check": "deploy"},
        ),
        422,
        "invalid_request",
    )
    envelope(
        api.post(f"/api/v1/runs/{run_id}/approve", "viewer", json={"break_glass": True}),
        403,
        "forbidden",
    )
    plain = api.post(f"/api/v1/runs/{run_id}/approve", json={})
    assert "waiting for a change window" in envelope(plain, 422, "invalid_request")["message"]
    assert api.get(f"/api/v1/runs/{run_id}").json()["decisions"] == []

    glass = api.post(
        f"/api/v1/runs/{run_id}/approve",
        "bob",
        json={"break_glass": True, "comment": "INC-9: customer outage fix"},
    )
    assert glass.status_code == 200, glass.text
    assert glass.json()["keys"] == ["window:deploy"]
    done = api.wait_status(run_id, "succeeded")
    assert done["wait"] is None
    assert [(d["key"], d["by"], d["comment"]) for d in done["decisions"]] == [
        ("window:deploy", "token:bob", "INC-9: customer outage fix")
    ]
    assert [(w["how"], w["by"]) for w in done["waits"]] == [("break_glass", "token:bob")]
    late = api.post(
        f"/api/v1/runs/{run_id}/approve", json={"break_glass": True, "comment": "again"}
    )
    envelope(late, 409, "run_state")
