"""The dashboard's action forms carry a run's secret variables (docs/dashboard.md,
"Operations"): a run started with a secret value that no process executes needs it again for
a worker to abort, roll back, resume, reject or promote it. Its forms ask for each secret in a
password field; only an operator or an admin may submit it (a viewer's post is refused, the
run unchanged); the value reaches the worker and never the journal, a page, the flash, the
server's log or the worker's log; a form cannot set any other variable of the run."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import unquote

import pytest

from phasegate.store.sqlite import SqliteStore
from tests.server.conftest import Api
from tests.server.test_secret_run_actions import SECRET, _paused


def _sign_in(api: Api, who: str) -> str:
    """A fresh session of ``who`` on the test client; the CSRF token of the run pages."""
    api.client.cookies.clear()
    login = api.client.post(
        "/ui/login", data={"token": api.tokens[who], "next": "/ui/runs"}, follow_redirects=False
    )
    assert login.status_code == 303, login.text
    page = api.client.get("/ui/runs").text
    return page.split('name="phasegate-csrf" content="', 1)[1].split('"', 1)[0]


def _post(api: Api, run_id: str, action: str, data: dict[str, str]) -> object:
    return api.client.post(
        f"/ui/runs/{run_id}/{action}",
        data=data,
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )


def _journal(api: Api, run_id: str) -> str:
    store = SqliteStore(api.client.app.state.config.state_dir)  # type: ignore[attr-defined]
    try:
        return json.dumps([data for *_, data in store.events(run_id)])
    finally:
        store.close()


@pytest.mark.parametrize(
    ("who", "action", "fields"),
    [
        ("viewer", "abort", {"reason": "stop"}),
        ("alice", "abort", {"reason": "stop"}),
        ("alice", "rollback", {}),
        ("admin", "reject", {"comment": "no-go"}),
    ],
)
def test_a_secret_given_in_the_form_lets_a_worker_act_by_role(
    api: Api, who: str, action: str, fields: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run_id = _paused(api)
    state_dir: Path = api.client.app.state.config.state_dir  # type: ignore[attr-defined]
    csrf = _sign_in(api, who)
    page = api.client.get(f"/ui/runs/{run_id}").text
    # Asked for by name in a password field of each action a worker would carry out.
    field = f'type="password" class="secret" id="secret-{action}-DEPLOY_KEY"'
    assert field in page and 'name="secret:DEPLOY_KEY"' in page
    assert SECRET not in page
    before = _journal(api, run_id)
    data = {
        "csrf": csrf,
        **fields,
        "secret:DEPLOY_KEY": SECRET,
        "secret:PATH": "/tmp/evil",  # not a secret of the run: never passed on
    }
    done = _post(api, run_id, action, data)
    if who == "viewer":
        assert done.status_code == 403  # type: ignore[attr-defined]
        assert SECRET not in done.text  # type: ignore[attr-defined]
        assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "paused"
        assert _journal(api, run_id) == before
        return
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    flash = unquote(done.headers["location"])  # type: ignore[attr-defined]
    assert "kind=info" in flash and f"{action}: queued" in flash and SECRET not in flash
    final = api.wait_status(run_id, "rolled_back")
    assert final["run"]["status"] == "rolled_back"
    pool = api.client.app.state.pool  # type: ignore[attr-defined]
    assert pool.settle(run_id, 60)
    # The worker had the value (the undo ran with it), and nothing kept it.
    journal = _journal(api, run_id)
    assert SECRET not in journal and "/tmp/evil" not in journal
    assert "token:" + {"alice": "alice", "admin": "admin"}[who] in journal
    log_file = state_dir / "runs" / run_id / "worker.log"
    assert SECRET not in log_file.read_text()
    assert SECRET not in api.client.get(f"/ui/runs/{run_id}").text
    assert SECRET not in api.client.get(f"/ui/runs/{run_id}/report").text
    assert SECRET not in caplog.text


def test_an_empty_secret_field_is_refused_naming_the_secret(api: Api) -> None:
    run_id = _paused(api)
    csrf = _sign_in(api, "alice")
    done = _post(api, run_id, "resume", {"csrf": csrf, "secret:DEPLOY_KEY": ""})
    assert done.status_code == 303  # type: ignore[attr-defined]
    flash = unquote(done.headers["location"])  # type: ignore[attr-defined]
    assert "kind=error" in flash and "needs the secret DEPLOY_KEY" in flash
    assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["status"] == "paused"


def test_no_secret_field_while_a_live_process_executes_the_run(api: Api, tmp_path: Path) -> None:
    """A run a worker executes takes an action as a request, with no secret needed: its
    forms ask for none."""
    gate = tmp_path / "go"
    plan = f"""\
version: 1
name: secret-live
vars:
  DEPLOY_KEY: {{secret: true}}
phases:
  - id: p
    steps:
      - run: 'while [ ! -e {gate} ]; do sleep 0.1; done'
"""
    started = api.post("/api/v1/runs", "alice", json={"plan": plan, "vars": {"DEPLOY_KEY": SECRET}})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    try:
        api.wait_status(run_id, "running")
        _sign_in(api, "alice")
        page = api.client.get(f"/ui/runs/{run_id}").text
        assert 'data-action="abort"' in page and 'name="secret:' not in page
    finally:
        gate.touch()
    api.wait_status(run_id, "succeeded")


def test_after_the_last_approval_resume_asks_for_the_secret(api: Api) -> None:
    """The approval is recorded where it is made; the server's automatic resume has no
    secret to give, so the run stays paused, and the Resume form offered then takes it."""
    run_id = _paused(api)
    csrf = _sign_in(api, "alice")
    done = _post(api, run_id, "approve", {"csrf": csrf, "check": "p/gate:go"})
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    pool = api.client.app.state.pool  # type: ignore[attr-defined]
    assert pool.settle(run_id, 60)  # the automatic resume tried, without the value
    doc = api.get(f"/api/v1/runs/{run_id}").json()
    assert doc["run"]["status"] == "paused" and doc["approvals"]
    page = api.client.get(f"/ui/runs/{run_id}").text
    assert 'id="secret-resume-DEPLOY_KEY"' in page
    done = _post(api, run_id, "resume", {"csrf": csrf, "secret:DEPLOY_KEY": SECRET})
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    assert "resume: queued" in unquote(done.headers["location"])  # type: ignore[attr-defined]
    assert api.wait_status(run_id, "succeeded")["run"]["status"] == "succeeded"
    assert SECRET not in _journal(api, run_id)
