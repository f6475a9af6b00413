"""What an operator sees and may do on a run's page, in Debian's Chromium against a real
`phasegate serve` (its own process, its worker pool, a token from the CLI) and runs started
through its API: observed values as labelled fields (no raw JSON in the phase cards), one
colour per outcome, approvals counted from the journal with who gave them, the running step's
log arriving live, bake countdowns, operations offered only when valid (Promote only on a
canary pause or bake), the weight chart's axes and markers, the DAG's edges, and links to the
report and to the plan with its secret masked. Screenshots: test-artifacts/dashboard/."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx

from tests.dashboard.test_dashboard_browser import shot
from tests.server.conftest import Served, served  # noqa: F401  (the real server)
from tests.server.test_dashboard_e2e import browser_page  # noqa: F401
from tests.server.test_serve import token

SECRET = "tok-dash-s3cr3t-4711"
ROUTER = '#!/bin/sh\necho "$WEIGHT" >> "$(dirname "$0")/weights.log"\necho "$WEIGHT"\n'


def router(tmp_path: Path) -> Path:
    path = tmp_path / "router.sh"
    path.write_text(ROUTER)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def canary_plan(tmp_path: Path, holds: str, after: str = "") -> str:
    return f"""\
version: 1
name: canary-dash-{os.urandom(3).hex()}
vars:
  TOKEN: {{value: "{SECRET}", secret: true}}
traffic:
  backends: [stable, canary]
  router: {{command: "{router(tmp_path)}"}}
phases:
  - id: prepare
    steps:
      - id: build
        name: build
        run: |
          echo building
          echo built
    gates:
      - id: smoke
        command: "true"
        name: smoke
  - id: canary
    needs: [prepare]
    steps:
{holds}
      - promote: true
{after}"""


def start(server: Served, who: str, plan: str) -> str:
    response = httpx.post(
        f"{server.url}/api/v1/runs",
        json={"plan": plan},
        headers={"Authorization": f"Bearer {who}"},
        timeout=30,
    )
    assert response.status_code in (200, 201, 202), response.text
    return str(response.json()["id"])


def sign_in(page: Any, server: Served, secret: str, run_id: str) -> None:
    page.goto(f"{server.url}/ui/login")
    page.fill("input[name=token]", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/ui/runs")
    page.goto(f"{server.url}/ui/runs/{run_id}")


def offered(page: Any) -> list[str]:
    """The operations shown, read in one evaluation in the page: the live fragment is swapped
    every second, and elements read one by one may belong to two different versions."""
    found = page.eval_on_selector_all(
        ".actions button[data-action]",
        "els => els.filter(e => e.offsetParent !== null).map(e => e.dataset.action)",
    )
    return [str(action) for action in found]


def no_json_in_cards(page: Any) -> None:
    cards = page.eval_on_selector_all(
        "article.phase", "els => els.map(e => [e.innerText, e.textContent])"
    )
    assert cards
    for seen, text in cards:
        # What a reader sees, and what is folded into <details> too.
        assert '{"' not in seen, seen
        assert '{"' not in text, text
        assert "\\u003c" not in text


def colour(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => getComputedStyle(el).backgroundColor"))


def test_approvals_promote_on_a_canary_pause_chart_links_and_masking(
    served: Served,  # noqa: F811  (the real server's fixture, imported above)
    browser_page: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = browser_page
    served.start()
    starter = token(served, "starter", "operator")
    alice = token(served, "alice", "operator")
    holds = """\
      - set_weight: 20
      - id: hold
        name: hold for two reviewers
        pause: {until: approve, approvers: 2}
      - set_weight: 60"""
    run_id = start(served, starter, canary_plan(tmp_path, holds))
    sign_in(page, served, alice, run_id)
    page.wait_for_selector("[data-run-status=paused]", timeout=60_000)
    item = "[data-key='canary/hold']"
    assert "0/2 approvals" in page.inner_text(item)
    # A canary pause: Approve, Reject, Promote, Promote full, Abort, Roll back; no Resume.
    assert offered(page) == ["approve", "reject", "promote", "promote_full", "abort", "rollback"]
    page.evaluate("window.__marker = 'no reload'")

    page.fill("#approve-comment", "dashboards look healthy")
    page.click("button[data-action=approve]")
    page.wait_for_selector(".flash", timeout=20_000)
    page.wait_for_function(
        "() => document.querySelector(\"[data-key='canary/hold'] .approvals\")"
        "?.textContent.includes('1/2 approvals (by token:alice)')",
        timeout=20_000,
    )
    no_json_in_cards(page)
    approved = page.inner_text("section.decisions li[data-decision=approved]")
    assert "canary/hold by token:alice" in approved and "dashboards look healthy" in approved
    # The gate's http observation is labelled fields, its body behind a closed <details>.
    gate = page.inner_text("[data-key='prepare/gate:smoke']")
    assert "exit code" in gate and "0" in gate
    assert page.query_selector("[data-key='prepare/gate:smoke'] details:not([open])")
    # Multi-line commands keep their lines.
    assert page.inner_text("[data-key='prepare/build'] pre.cmd").splitlines() == [
        "echo building",
        "echo built",
    ]
    # The DAG draws its edge; every column is inside the page or reachable by scrolling.
    assert page.query_selector("svg.dag-map path.edge[data-from=prepare][data-to=canary]")
    shot(page, "10-canary-pause-one-approval")

    page.click("button[data-action=promote_full]")
    page.wait_for_selector("[data-run-status=succeeded]", timeout=60_000)
    assert offered(page) == ["rollback"]  # no Approve, no Promote on a succeeded run
    chart = page.inner_text("section.traffic") + page.inner_html("section.traffic svg")
    for label in ("0%", "100%", "time since the first change", "promoted"):
        assert label in chart, label
    assert page.eval_on_selector("section.traffic", "e => e.scrollWidth <= e.clientWidth + 1")
    shot(page, "11-canary-promoted")

    page.click("a[data-link=plan]")
    page.wait_for_selector("table.vars")
    assert SECRET not in page.content()
    assert "*** (secret)" in page.inner_text("tr[data-var=TOKEN]")
    assert "set_weight: 20" in page.inner_text("pre.plan-source")
    page.go_back()
    page.click("a[data-link=report]")
    page.wait_for_selector("#traffic svg.weight-chart")
    assert SECRET not in page.content()
    height = page.evaluate("document.body.scrollHeight")
    assert height < 6000, height  # item keys no longer wrap one character per line
    shot(page, "12-report")


def test_live_log_elapsed_time_and_no_promote_on_a_plain_run(
    served: Served,  # noqa: F811  (the real server's fixture, imported above)
    browser_page: Any,  # noqa: F811
) -> None:
    page = browser_page
    served.start()
    alice = token(served, "alice", "operator")
    plan = """\
version: 1
name: plain-release
phases:
  - id: deploy
    steps:
      - name: rolling restart
        run: for i in 1 2 3 4 5 6 7 8; do echo "restarted host-$i"; sleep 1; done
"""
    run_id = start(served, alice, plan)
    sign_in(page, served, alice, run_id)
    page.evaluate("window.__marker = 'no reload'")
    page.wait_for_function(
        "() => document.querySelector('section.log pre')?.textContent.includes('host-2')",
        timeout=60_000,
    )
    assert page.query_selector("[data-key='deploy/rolling-restart'] .elapsed")
    assert offered(page) == ["abort"]  # running, not a canary: no Promote, no Approve
    # A reason being typed survives the fragment's swaps (one a second while a step runs).
    page.fill("#abort-reason", "half-typed reason")
    # More lines arrive over the page's SSE stream, without a reload.
    page.wait_for_function(
        "() => document.querySelector('section.log pre')?.textContent.includes('host-4')",
        timeout=30_000,
    )
    assert page.evaluate("window.__marker") == "no reload"
    assert page.input_value("#abort-reason") == "half-typed reason"
    shot(page, "13-live-log")
    page.wait_for_selector("[data-run-status=succeeded]", timeout=60_000)
    assert offered(page) == ["rollback"]
    # A viewer gets the same live page without a single operation.
    viewer = token(served, "victor", "viewer")
    page.click("form[action='/ui/logout'] button")
    sign_in(page, served, viewer, run_id)
    page.wait_for_selector("[data-run-status=succeeded]")
    assert page.query_selector_all(".actions button")  # in the shared fragment...
    assert offered(page) == []  # ...and shown to nobody but operators


def test_bake_countdown_promote_and_a_rollback_in_its_own_colour(
    served: Served,  # noqa: F811  (the real server's fixture, imported above)
    browser_page: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = browser_page
    served.start()
    alice = token(served, "alice", "operator")
    holds = """\
      - id: bake
        set_weight: 30
        bake: 5m"""
    after = """\
  - id: verify
    needs: [canary]
    gates:
      - id: post-release-check
        command: "false"
        name: post-release check
"""
    run_id = start(served, alice, canary_plan(tmp_path, holds, after))
    sign_in(page, served, alice, run_id)
    bake = "[data-key='canary/bake'] .countdown"
    page.wait_for_selector(bake, timeout=60_000)
    first = page.inner_text(bake)
    assert first.startswith(("4m", "5m")), first
    assert offered(page) == ["promote", "promote_full", "abort"]  # a bake, live
    shot(page, "14-bake-countdown")
    page.click("button[data-action=promote]")  # ends the bake; the failing gate rolls back
    page.wait_for_selector("[data-run-status=rolled_back]", timeout=60_000)
    assert offered(page) == []
    rolled_back = colour(page, "[data-run-status=rolled_back]")
    succeeded = colour(page, "[data-key='prepare/build'] .badge")
    failed = colour(page, "[data-key='verify/gate:post-release-check'] .badge")
    assert len({rolled_back, succeeded, failed}) == 3, (rolled_back, succeeded, failed)
    chart = page.inner_html("section.traffic svg")
    assert "rollback" in chart
    no_json_in_cards(page)
    shot(page, "15-rolled-back")


def test_reject_a_pause_with_why_rolls_the_run_back(
    served: Served,  # noqa: F811  (the real server's fixture, imported above)
    browser_page: Any,  # noqa: F811
) -> None:
    page = browser_page
    served.start()
    starter = token(served, "starter", "operator")
    alice = token(served, "alice", "operator")
    plan = """\
version: 1
name: go-no-go
phases:
  - id: deploy
    steps:
      - id: ship
        run: echo shipped
        undo: echo unshipped
      - id: go-no-go
        name: go / no-go
        pause: approve
"""
    run_id = start(served, starter, plan)
    sign_in(page, served, alice, run_id)
    page.wait_for_selector("[data-run-status=paused]", timeout=60_000)
    assert offered(page) == ["approve", "reject", "abort", "rollback"]
    page.click("button[data-action=reject]")  # no comment: the browser does not send it
    assert page.query_selector("[data-run-status=paused]")
    page.fill("#reject-comment", "error budget spent")
    page.click("button[data-action=reject]")
    page.wait_for_selector("[data-run-status=rolled_back]", timeout=60_000)
    item = page.inner_text("[data-key='deploy/go-no-go']")
    assert "rejected by token:alice: error budget spent" in item, item
    decision = page.inner_text("section.decisions li[data-decision=rejected]")
    assert "deploy/go-no-go by token:alice" in decision and "error budget spent" in decision
    undo = page.inner_text("section.rollback")
    assert "undo" in undo and "succeeded" in undo, undo
    shot(page, "16-rejected")
