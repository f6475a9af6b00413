"""A decision in the dashboard (`pause: {until: approve, choose: …}`), in Debian's Chromium
against a real `phasegate serve`: the operator is offered the decision's options, not a plain
Approve the engine would refuse; only the chosen option runs; the choice is journalled with
who made it; a viewer is offered nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.dashboard.test_dashboard_browser import shot
from tests.dashboard.test_dashboard_operator import offered, sign_in, start
from tests.server.conftest import Served, served  # noqa: F401  (the real server)
from tests.server.test_dashboard_e2e import browser_page  # noqa: F401
from tests.server.test_serve import token


def decision_plan(out: Path) -> str:
    return f"""\
version: 1
name: decide-in-the-dashboard
vars:
  METHOD: {{default: ""}}
phases:
  - id: upgrade
    steps:
      - id: decide
        name: upgrade method
        pause: {{until: approve, choose: {{var: METHOD, options: [in-place, restore]}}}}
      - {{id: in-place, run: "touch {out}/in-place", when: "vars.METHOD == 'in-place'"}}
      - {{id: restore, run: "touch {out}/restore", when: "vars.METHOD == 'restore'"}}
      - {{id: after, run: "touch {out}/after"}}
"""


def test_a_decision_offers_its_options_and_only_the_chosen_one_runs(
    served: Served,  # noqa: F811  (the real server's fixture, imported above)
    browser_page: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = browser_page
    served.start()
    starter = token(served, "starter", "operator")
    alice = token(served, "alice", "operator")
    viewer = token(served, "victor", "viewer")
    out = tmp_path / "out"
    out.mkdir()
    run_id = start(served, starter, decision_plan(out))

    # A viewer sees the waiting decision but is offered no form (the server refuses its
    # posts too: tests/dashboard/test_dashboard_security.py).
    sign_in(page, served, viewer, run_id)
    page.wait_for_selector("[data-run-status=paused]", timeout=60_000)
    assert offered(page) == []
    assert not page.is_visible("select[name=choose]")
    page.context.clear_cookies()

    sign_in(page, served, alice, run_id)
    page.wait_for_selector("[data-run-status=paused]", timeout=60_000)
    # The decision's own form: its options (and a disabled prompt), no plain Approve.
    assert "approve" not in offered(page)
    assert "choose" in offered(page)
    options = page.eval_on_selector_all(
        "form.decision[data-check='upgrade/decide'] select[name=choose] option",
        "els => els.map(e => [e.value, e.disabled])",
    )
    assert options == [["", True], ["in-place", False], ["restore", False]]
    waiting = page.inner_text("[data-key='upgrade/decide'] .choice")
    assert waiting == "decision METHOD: one of in-place, restore"
    shot(page, "20-decision-offered")

    # Submitting without an option is stopped by the browser: nothing was approved.
    page.click("form.decision button[data-action=choose]")
    assert page.query_selector("[data-run-status=paused]")
    page.select_option("form.decision select[name=choose]", "restore")
    page.fill("form.decision input[name=comment]", "restore is the tested path")
    page.click("form.decision button[data-action=choose]")
    page.wait_for_selector("[data-run-status=succeeded]", timeout=60_000)

    assert sorted(p.name for p in out.iterdir()) == ["after", "restore"]
    item = page.inner_text("[data-key='upgrade/decide']")
    assert "decision METHOD: chose restore" in item, item
    decision = page.inner_text("section.decisions li[data-decision=approved]")
    assert "upgrade/decide by token:alice" in decision
    assert "restore is the tested path" in decision
    shot(page, "21-decision-chosen")

    status = httpx.get(
        f"{served.url}/api/v1/runs/{run_id}",
        headers={"Authorization": f"Bearer {viewer}"},
        timeout=30,
    ).json()
    steps = {i["key"]: i for p in status["phases"] for i in p["items"]}
    assert steps["upgrade/in-place"]["status"] == "skipped"
    assert steps["upgrade/restore"]["status"] == "succeeded"
    assert steps["upgrade/decide"]["choice"] == {
        "var": "METHOD",
        "options": ["in-place", "restore"],
        "chosen": "restore",
    }
