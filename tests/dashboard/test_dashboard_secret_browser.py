"""In Debian's Chromium against a real `phasegate serve`: a paused run started over the API
with a secret variable, its worker gone. The operator's Abort form asks for the secret in a
password field; typed and submitted, the run rolls back through a worker that had it (its
undo step checks the value); the secret is never in the page (before or after, live updates
included), the journal, the worker's log or a process's command line. Screenshot:
test-artifacts/dashboard/."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import httpx

from phasegate.store.sqlite import SqliteStore
from tests.dashboard.test_dashboard_browser import shot
from tests.server.conftest import Served, served, wait_for  # noqa: F401  (the real server)
from tests.server.test_dashboard_e2e import browser_page  # noqa: F401
from tests.server.test_serve import token

SECRET = "brw-s3cr3t-deploy-key-0815"
PLAN = """\
version: 1
name: secret-abort
vars:
  DEPLOY_KEY: {secret: true}
phases:
  - id: p
    steps:
      - id: ship
        run: '%(check)s && touch %(marks)s/shipped'
        undo: '%(check)s && rm %(marks)s/shipped && touch %(marks)s/undone'
    gates:
      - {manual: "Go / no-go", id: go}
"""


# The steps check the value by its hash: the plan (journalled) never holds the value itself.
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()
CHECK = f'test "$(printf %s "$DEPLOY_KEY" | sha256sum | cut -c1-64)" = "{DIGEST}"'


def _cmdlines() -> str:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
            except OSError:
                continue
    return "\n".join(found)


def test_an_operator_types_the_secret_into_the_abort_form(
    served: Served,  # noqa: F811  (the real server's fixture, imported above)
    browser_page: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    marks = tmp_path
    secret = token(served, "alice", "operator")
    served.start()
    headers = {"Authorization": f"Bearer {secret}"}
    started = httpx.post(
        f"{served.url}/api/v1/runs",
        json={"plan": PLAN % {"check": CHECK, "marks": marks}, "vars": {"DEPLOY_KEY": SECRET}},
        headers=headers,
        timeout=60,
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    store = SqliteStore(served.state_dir, readonly=True)
    try:
        wait_for(
            lambda: (
                store.get_run(run_id).status == "paused" and store.get_run(run_id).owner is None
            ),
            "the run paused, its worker gone",
        )
    finally:
        store.close()
    assert (marks / "shipped").exists()

    page = browser_page
    page.goto(f"{served.url}/ui/login")
    page.fill("input[name=token]", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/ui/runs")
    page.goto(f"{served.url}/ui/runs/{run_id}")
    field = page.wait_for_selector("form input[name='secret:DEPLOY_KEY'][id^=secret-abort]")
    assert field.get_attribute("type") == "password"
    page.fill("#abort-reason", "stop the release")
    page.fill("#secret-abort-DEPLOY_KEY", SECRET)
    assert SECRET not in page.content()  # a password field's value is no attribute
    shot(page, "secret-abort-form")
    page.click("button[data-action=abort]")
    page.wait_for_selector(".flash", timeout=20_000)
    assert "abort: queued" in page.inner_text(".flash")
    page.wait_for_selector("[data-status=rolled_back]", timeout=60_000)
    assert SECRET not in page.content()
    assert SECRET not in _cmdlines()
    assert (marks / "undone").exists()  # the worker had the value

    store = SqliteStore(served.state_dir, readonly=True)
    try:
        events = store.events(run_id)
    finally:
        store.close()
    assert SECRET not in json.dumps([data for *_, data in events])
    assert SECRET not in (served.state_dir / "runs" / run_id / "worker.log").read_text()
    resumed = [e for e in events if e.type == "run.resumed"]
    assert resumed and resumed[-1].data.get("for") == "abort"
