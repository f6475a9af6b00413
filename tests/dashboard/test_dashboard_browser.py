"""The dashboard in real headless Chromium (Debian's, driven by Playwright): sign in, watch a
run progress live over SSE without reloading, approve a pause, watch a rollback; names with
HTML in them render as text. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import ARTIFACTS, Served, phasegate_env

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HOSTILE_PHASE = "<script>window.__xss = 1</script>Deploy"
HOSTILE_STEP = '<img src=x onerror="window.__xss = 2">wait'


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-deps.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
            yield page
        finally:
            browser.close()


def start_run(served: Served, tmp_path: Path, plan: str) -> subprocess.Popen[bytes]:
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(plan).lstrip())
    return subprocess.Popen(
        [sys.executable, "-m", "phasegate", "run", str(path)],
        env=phasegate_env(served.state, "token:alice"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )


def sign_in(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/ui/runs")
    assert "/ui/login" in page.url
    page.fill("input[name=token]", "op-secret")
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/ui/runs")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_watch_a_run_live_approve_its_pause_and_names_stay_text(
    served: Served, page: Any, tmp_path: Path
) -> None:
    proc = start_run(
        served,
        tmp_path,
        f"""
        version: 1
        name: web-release
        phases:
          - id: deploy
            name: '{HOSTILE_PHASE}'
            steps:
              - name: build
                run: sleep 1
              - name: '{HOSTILE_STEP}'
                pause: approve
              - name: finish
                run: echo done
        """,
    )
    try:
        sign_in(page, served)
        page.wait_for_selector("table.runs a", timeout=20_000)
        page.click("table.runs a")
        page.evaluate("window.__marker = 'no reload'")
        # The pause arrives over SSE: the page was never reloaded.
        page.wait_for_selector("[data-status=paused]", timeout=30_000)
        assert page.evaluate("window.__marker") == "no reload"
        shot(page, "01-paused")
        assert proc.wait(timeout=30) == 4  # the run's own process stopped, paused
        # A pause of a plan without traffic: Approve or Reject, but no Promote.
        actions = page.eval_on_selector_all(
            ".actions button", "els => els.map(e => e.dataset.action)"
        )
        assert actions == ["approve", "reject", "abort", "rollback"], actions
        phase_text = page.inner_text("[data-phase=deploy] h3")
        assert HOSTILE_PHASE in phase_text  # shown as text...
        assert page.evaluate("window.__xss") is None  # ...never run as code
        assert HOSTILE_STEP in page.inner_text("[data-phase=deploy] .items")
        page.click("button[data-action=approve]")
        page.wait_for_selector(".flash", timeout=10_000)
        assert "approve requested by alice" in page.inner_text(".flash")
        page.wait_for_selector("[data-status=succeeded]", timeout=30_000)
        shot(page, "02-approved-succeeded")
        assert page.evaluate("window.__xss") is None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    from phasegate.store.sqlite import SqliteStore

    store = SqliteStore(served.state)
    try:
        run_id = store.list_runs(limit=1)[0].id
        approvals = [d for _, _, e, d in store.events(run_id) if e == "approval.granted"]
    finally:
        store.close()
    assert [a["by"] for a in approvals] == ["token:alice"]  # who approved, in the journal


def test_watch_a_rollback_with_its_duration_against_the_budget(
    served: Served, page: Any, tmp_path: Path
) -> None:
    proc = start_run(
        served,
        tmp_path,
        """
        version: 1
        name: db-migration
        budget: {rollback: 30s}
        phases:
          - id: migrate
            steps:
              - name: apply
                run: sleep 2
                undo: echo undone
            gates:
              - command: "false"
                name: schema check
        """,
    )
    try:
        sign_in(page, served)
        page.goto(f"{served.url}/ui/runs")
        page.wait_for_selector("table.runs a", timeout=20_000)
        page.click("table.runs a")
        page.wait_for_selector("[data-status=rolled_back]", timeout=30_000)
        text = page.inner_text("section.rollback")
        assert "of a 30.0s budget" in text
        shot(page, "03-rolled-back")
        assert proc.wait(timeout=30) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
