"""A run started with a secret variable's value cannot be continued by a worker without that
value again (the journal never stores it). An action that would queue such a job (abort,
rollback, resume, reject, promote of a paused run) is refused at once, naming the secret and
how to give it, instead of answering "queued" and never happening (found by the route x role
matrix: the dashboard's Abort on such a run said "queued" and the run stayed paused)."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from phasegate.store.sqlite import SqliteStore
from tests.server.conftest import Api

PAUSED_WITH_A_SECRET = """\
version: 1
name: secret-given
vars:
  DEPLOY_KEY: {secret: true}
phases:
  - id: p
    steps:
      - {id: ship, run: 'test -n "${DEPLOY_KEY}" && touch shipped', undo: 'rm -f shipped'}
    gates:
      - {manual: "Go / no-go", id: go}
"""
SECRET = "s3cr3t-deploy-key-value"


def _paused(api: Api) -> str:
    started = api.post(
        "/api/v1/runs", "alice", json={"plan": PAUSED_WITH_A_SECRET, "vars": {"DEPLOY_KEY": SECRET}}
    )
    assert started.status_code == 201, started.text
    run_id: str = started.json()["id"]
    api.wait_status(run_id, "paused")
    # and its worker gone (it exits after journalling the pause): nobody executes the run
    pool = api.client.app.state.pool  # type: ignore[attr-defined]
    assert pool.settle(run_id, 60)
    return run_id


def _events(api: Api, run_id: str) -> int:
    return len(api.get(f"/api/v1/runs/{run_id}/events").json()["events"])


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("abort", {"reason": "stop"}),
        ("rollback", {}),
        ("resume", {}),
        ("reject", {"comment": "no-go"}),
        ("promote", {"full": True}),
    ],
)
def test_an_action_that_needs_the_secret_again_is_refused_naming_it(
    api: Api, action: str, body: dict[str, object]
) -> None:
    run_id = _paused(api)
    before = _events(api, run_id)
    refused = api.post(f"/api/v1/runs/{run_id}/{action}", "alice", json=body)
    assert refused.status_code == 422, refused.text  # a usage error: the request lacks vars
    error = refused.json()["error"]
    assert "DEPLOY_KEY" in error["message"] and "vars" in error["hint"]
    assert SECRET not in refused.text
    # Nothing changed and nothing was queued: the run is still paused, its journal as it was.
    assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "paused"
    assert _events(api, run_id) == before


def test_given_the_secret_again_the_abort_rolls_the_run_back(api: Api) -> None:
    run_id = _paused(api)
    done = api.post(
        f"/api/v1/runs/{run_id}/abort",
        "alice",
        json={"reason": "stop", "vars": {"DEPLOY_KEY": SECRET}},
    )
    assert done.status_code == 202, done.text
    assert done.json()["outcome"] == "queued"
    final = api.wait_status(run_id, "rolled_back")
    assert final["run"]["status"] == "rolled_back"


def test_the_dashboards_abort_says_why_instead_of_queued(api: Api) -> None:
    run_id = _paused(api)
    client = api.client
    login = client.post(
        "/ui/login",
        data={"token": api.tokens["alice"], "next": "/ui/runs"},
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text
    page = client.get(f"/ui/runs/{run_id}").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    done = client.post(
        f"/ui/runs/{run_id}/abort",
        data={"csrf": csrf, "reason": "stop"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    flash = unquote(done.headers["location"])
    assert "kind=error" in flash and "DEPLOY_KEY" in flash and "queued" not in flash
    assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "paused"
    # The secret never reached the journal on the way.
    store = SqliteStore(api.client.app.state.config.state_dir)  # type: ignore[attr-defined]
    assert all(SECRET not in json.dumps(data) for *_, data in store.events(run_id))
