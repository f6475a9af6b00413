"""The dashboard in real headless Chromium (Debian's, driven by Playwright): sign in, watch a
run progress live over SSE without reloading, approve a pause, watch a rollback; names with
HTML in them render as text. The runway panel follows a working run live, its duration
budget and its resource budgets. Screenshots go to test-artifacts/dashboard/."""

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


def sign_in(page: Any, served: Served, token: str = "op-secret") -> None:
    page.goto(f"{served.url}/ui/runs")
    assert "/ui/login" in page.url
    page.fill("input[name=token]", token)
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


RUNWAY_PLAN = """
version: 1
name: budgeted
budget: {duration: 10s, runway: [3s]}
phases:
  - id: work
    steps:
      - name: slow
        run: "for i in $(seq 1200); do [ -f go ] && break; sleep 0.1; done; [ -f go ]"
        estimate: {p50: 1s, p90: 1200ms}
      - {name: last, run: "true", estimate: {p50: 1s, p90: 1200ms}}
"""


def _panel(page: Any) -> dict[str, str]:
    """The panel read in one task of the page: the live view swaps the panel in as the run
    moves, so a node found by one call may be detached by the next (``closest`` was null)."""
    handle = page.wait_for_function(
        """() => {
            const el = document.querySelector('.runway .runway-now');
            const box = el && el.closest('.runway');
            return el && box
                ? {used: el.dataset.used, passed: el.dataset.passed, text: box.innerText}
                : null;
        }""",
        timeout=20_000,
    )
    found: dict[str, str] = handle.json_value()
    return found


def test_a_viewer_watches_the_runway_panel_follow_a_working_run(
    served: Served, page: Any, tmp_path: Path
) -> None:
    """A step that works until the test lets it finish (a file), far longer than its hint:
    work time grows and the projection with it, so the 3 s runway threshold of the 10 s
    budget is passed (projected > 7 s) while it runs; all seen on one page load by a viewer,
    whose page offers no action."""
    proc = start_run(served, tmp_path, RUNWAY_PLAN)
    try:
        sign_in(page, served, "view-secret")
        page.wait_for_selector("table.runs a", timeout=20_000)
        page.click("table.runs a")
        page.wait_for_selector(".runway .runway-now", timeout=20_000)
        page.evaluate("window.__marker = 'no reload'")
        first = _panel(page)
        assert "Duration budget 10.0s" in first["text"]
        # Work time grows between events: the panel is projected again while the run works.
        page.wait_for_function(
            "() => parseFloat(document.querySelector('.runway .runway-now').dataset.used)"
            f" >= {float(first['used'])} + 1.0",
            timeout=60_000,
        )
        assert "while the run works" in _panel(page)["text"]
        # The threshold passed (a budget.runway event in the journal) reaches the open page.
        page.wait_for_function(
            "() => document.querySelector('.runway .runway-now').dataset.passed === '3.0'",
            timeout=60_000,
        )
        now = _panel(page)
        assert "passed: 3.0s" in now["text"] and "while the run works" in now["text"]
        assert float(now["used"]) > 5.0  # p90 of what is left ≤ 1.2 s each: > 7 s projected
        shot(page, "05-runway-live")
        assert page.evaluate("window.__marker") == "no reload"
        (tmp_path / "go").write_text("")
        assert proc.wait(timeout=60) == 0
        page.wait_for_selector("[data-status=succeeded]", timeout=30_000)
        page.wait_for_function(
            "() => !document.querySelector('.runway').innerText.includes('while the run works')",
            timeout=30_000,
        )
        last = _panel(page)
        assert float(last["used"]) >= float(now["used"]) and last["passed"] == "3.0"
        assert page.evaluate("window.__marker") == "no reload"
        buttons = page.query_selector_all(".actions button")
        assert not any(b.is_visible() for b in buttons)  # a viewer acts on nothing
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


RESOURCES_PLAN = """
version: 1
name: metered
budget:
  resources:
    tokens:
      limit: 1200
      runway: [400, 200]
      estimate: {work/b: {p50: 250, p90: 300}, work/c: {p50: 250, p90: 300}}
    calls: {limit: 10, unit: calls, runway: [2]}
    usd: {limit: 10, unit: USD, runway: [6, 1]}
    gpu: {limit: 10, output: gpu_min, unit: min, pause_above: 125%}
phases:
  - id: work
    steps:
      - name: a
        run: >-
          for i in $(seq 1200); do [ -f go ] && break; sleep 0.1; done; [ -f go ];
          printf 'tokens=700\\ncalls=1\\nusd=5\\ngpu_min=20\\n' >> "$PHASEGATE_OUTPUT"
      - {name: b, run: "true"}
      - {name: c, run: "true"}
"""

ROW = (
    "el => ({state: el.dataset.state, used: +el.dataset.used, p50: +el.dataset.p50,"
    " p90: +el.dataset.p90, low: +el.dataset.low, high: +el.dataset.high,"
    " budget: +el.dataset.budget, passed: el.dataset.passed, hold: el.dataset.hold,"
    " text: el.innerText})"
)


def _rows(page: Any) -> dict[str, dict[str, Any]]:
    found: list[dict[str, Any]] = page.eval_on_selector_all(
        ".runway tr.resource", f"els => els.map(el => ({{name: el.dataset.name, ...({ROW})(el)}}))"
    )
    return {row.pop("name"): row for row in found}


def test_the_runway_panel_shows_each_resource_budget_live(
    served: Served, page: Any, tmp_path: Path
) -> None:
    """Four resource budgets (no duration budget): before the first step reports, all ok with
    nothing used; when it reports (tokens 700, 1 call, 5 USD, 20 GPU minutes) the open page
    shows, without a reload, tokens critical (both thresholds passed: 700 used + ~500 hinted
    for the steps left), calls ok, usd warning (the first threshold) and gpu paused (used
    over 125 % of its limit: held for an approval, the run pauses); the numbers are those
    GET …/estimate answers."""
    from phasegate.server.api.runs import run_estimate
    from phasegate.store.sqlite import SqliteStore

    proc = start_run(served, tmp_path, RESOURCES_PLAN)
    try:
        sign_in(page, served, "view-secret")
        page.wait_for_selector("table.runs a", timeout=20_000)
        page.click("table.runs a")
        page.wait_for_selector(".runway tr.resource", timeout=20_000)
        page.evaluate("window.__marker = 'no reload'")
        before = _rows(page)
        assert list(before) == ["tokens", "calls", "usd", "gpu"]  # plan order
        assert {name: row["state"] for name, row in before.items()} == dict.fromkeys(before, "ok")
        assert [before[n]["budget"] for n in before] == [1200, 10, 10, 10]
        assert all(row["used"] == 0 for row in before.values())
        tokens = before["tokens"]  # b and c projected from their hints, a from nothing
        assert 450 < tokens["p50"] < 600 and tokens["p50"] <= tokens["p90"] <= tokens["high"]
        assert tokens["low"] <= tokens["p50"]
        assert before["calls"]["p50"] == before["calls"]["high"] == 0  # nothing to project

        (tmp_path / "go").write_text("")
        page.wait_for_selector("tr.resource[data-name=gpu][data-state=paused]", timeout=60_000)
        assert proc.wait(timeout=60) == 4  # held by the gpu budget's pause bound
        page.wait_for_function(
            "() => !document.querySelector('.runway').innerText.includes('while the run works')",
            timeout=30_000,
        )
        after = _rows(page)
        assert page.evaluate("window.__marker") == "no reload"
        assert {name: row["state"] for name, row in after.items()} == {
            "tokens": "critical",
            "calls": "ok",
            "usd": "warning",
            "gpu": "paused",
        }, after
        assert [after[n]["used"] for n in after] == [700, 1, 5, 20]
        assert after["tokens"]["passed"] == "400.0,200.0"
        assert after["usd"]["passed"] == "6.0" and after["calls"]["passed"] == ""
        assert after["gpu"]["hold"] == "awaiting_approval"
        assert 1150 < after["tokens"]["p50"] < 1300  # 700 used + ~500 for b and c
        assert "700 tokens" in after["tokens"]["text"] and "1,200 tokens" in after["tokens"]["text"]
        assert "OVER BUDGET" in after["gpu"]["text"] and "20 min" in after["gpu"]["text"]
        assert "held, awaiting an approval" in after["gpu"]["text"]
        shot(page, "06-runway-resources")

        store = SqliteStore(served.state)
        try:
            api = run_estimate(store, store.list_runs(limit=1)[0]).resources
        finally:
            store.close()
        assert [r.name for r in api] == list(after)
        for r in api:
            row = after[r.name]
            assert (row["used"], row["p50"], row["p90"], row["budget"]) == (
                r.used,
                r.projected_p50,
                r.projected_p90,
                r.budget,
            ), r.name
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
