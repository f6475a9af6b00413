"""The whole service in a real browser: `phasegate serve` under uvicorn on 127.0.0.1, a token
from the CLI, Debian's Chromium through Playwright. Sign in, start a run from the dashboard,
watch it progress live, approve its pause, then start one that fails and watch it roll back.
Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from phasegate.store.sqlite import SqliteStore
from tests.dashboard.test_dashboard_browser import CHROMIUM, FLAGS, shot
from tests.server.conftest import Served
from tests.server.test_serve import token

APPROVAL_PLAN = """\
version: 1
name: web-release
phases:
  - id: deploy
    name: "<b>Deploy</b> & verify"
    steps:
      - name: build
        run: sleep 1
      - id: go-no-go
        name: go / no-go
        pause: approve
      - name: switch
        run: echo switched
"""
FAILING_PLAN = """\
version: 1
name: db-migration
budget: {rollback: 1m}
phases:
  - id: migrate
    steps:
      - name: apply
        run: sleep 1
        undo: echo undone
    gates:
      - command: "false"
        name: schema check
"""


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-deps.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        finally:
            browser.close()


def start_from_dashboard(page: Any, served: Served, plan: str) -> str:
    page.goto(f"{served.url}/ui/runs")
    page.click("details.start summary")
    page.fill("textarea[name=plan]", plan)
    page.click("button[data-action=start]")
    page.wait_for_url(f"{served.url}/ui/runs/*")
    return str(page.url.rsplit("/", 1)[1])


def test_sign_in_start_watch_approve_and_see_a_rollback(served: Served, browser_page: Any) -> None:
    page = browser_page
    served.start()
    secret = token(served, "alice", "operator")
    page.goto(f"{served.url}/")
    page.wait_for_selector("input[name=token]")  # / leads to the runs, which need a session
    assert "/ui/login" in page.url
    page.fill("input[name=token]", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/ui/runs")

    run_id = start_from_dashboard(page, served, APPROVAL_PLAN)
    page.evaluate("window.__marker = 'no reload'")
    page.wait_for_selector("[data-status=paused]", timeout=60_000)  # live, over SSE
    assert page.evaluate("window.__marker") == "no reload"
    assert "<b>Deploy</b> & verify" in page.inner_text("[data-phase=deploy] h3")
    shot(page, "serve-01-paused")
    page.click("button[data-action=approve]")
    page.wait_for_selector("[data-status=succeeded]", timeout=60_000)
    shot(page, "serve-02-succeeded")

    failing = start_from_dashboard(page, served, FAILING_PLAN)
    page.wait_for_selector("[data-status=rolled_back]", timeout=60_000)
    assert "of a 1m00s budget" in page.inner_text("section.rollback")
    shot(page, "serve-03-rolled-back")

    store = SqliteStore(served.state_dir)
    try:
        events = [(e, d) for _, _, e, d in store.events(run_id)]
        rolled = store.get_run(failing).status
    finally:
        store.close()
    started = next(d for e, d in events if e == "run.started")
    approvals = [d["by"] for e, d in events if e == "approval.granted"]
    assert approvals == ["token:alice"]  # who approved, from the dashboard session
    assert "alice" in str(started)
    assert rolled == "rolled_back"
