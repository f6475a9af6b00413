"""Reports of runs that succeeded, paused for a human, were resumed, or overran the rollback
budget, and of the plan from the report issue (a secret given literally in the plan)."""

from __future__ import annotations

import html
import os
import pwd
import re
from collections.abc import Callable

import pytest

from phasegate.report.render import md_text

from .helpers import SECRET, Project, Reports

LOGIN = pwd.getpwuid(os.getuid()).pw_name

SUCCEEDS = """\
version: 1
name: quick
phases:
  - id: build
    steps:
      - {name: compile, run: echo compiled}
    gates:
      - command: "true"
  - id: ship
    needs: [build]
    steps:
      - run: |
          echo shipped
          echo to every host
"""

PAUSES = """\
version: 1
name: comms
phases:
  - id: notify
    steps:
      - run: echo mail sent
    gates:
      - manual: "Confirm contacts notified"
  - id: switch
    needs: [notify]
    steps:
      - run: echo switched
"""

OVERRUNS = """\
version: 1
name: slow-undo
budget: {rollback: 100ms}
phases:
  - id: migrate
    steps:
      - {name: slow, run: "true", undo: sleep 0.3}
      - {name: broken undo, run: "true", undo: "false"}
    gates:
      - command: "false"
"""

TRIPS = """\
version: 1
name: canary
triggers:
  - name: error-rate
    check: {{command: "test ! -f {flag}"}}
    every: 50ms
    fail_after: 2
phases:
  - id: shift
    steps:
      - {{name: raise errors, run: "touch {flag} && sleep 1", undo: "rm -f {flag}"}}
"""

ISSUE_EXAMPLE = """\
version: 1
name: demo
vars:
  TARGET: {target}
  TOKEN: {{value: s3cr3t-value, secret: true}}
budget: {{rollback: 5m}}
phases:
  - id: prep
    steps:
      - name: make
        run: mkdir -p ${{TARGET}} && echo hi > ${{TARGET}}/a.txt && echo ${{TOKEN}}
        undo: rm -rf ${{TARGET}}
    gates:
      - command: test -f ${{TARGET}}/a.txt
  - id: deploy
    needs: [prep]
    steps:
      - run: echo deploying; echo v2 > ${{TARGET}}/a.txt
    gates:
      - command: grep v3 ${{TARGET}}/a.txt
      - {{command: "true", severity: warn, name: latency check}}
    rollback:
      - run: echo restoring
"""


@pytest.fixture(scope="module")
def succeeded(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("succeeded")
    return project.reports(project.run(SUCCEEDS))


@pytest.fixture(scope="module")
def paused(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("paused")
    return project.reports(project.run(PAUSES))


@pytest.fixture(scope="module")
def resumed(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("resumed")
    assert project.run(PAUSES) == 4
    approve = project.cli("approve", "last")
    assert approve.returncode == 0, approve.stderr
    resume = project.cli("resume", "--no-output", "last")
    return project.reports(resume.returncode)


@pytest.fixture(scope="module")
def overrun(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("overrun")
    return project.reports(project.run(OVERRUNS))


@pytest.fixture(scope="module")
def tripped(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("tripped")
    return project.reports(project.run(TRIPS.format(flag=project.root / "errors")))


@pytest.fixture(scope="module")
def issue_example(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("issue-example")
    return project.reports(project.run(ISSUE_EXAMPLE.format(target=project.root / "t")))


def test_succeeded_run(succeeded: Reports) -> None:
    assert succeeded.exit_code == 0
    assert "# Rollout report: quick — SUCCEEDED" in succeeded.md
    assert "| Exit code | 0 |" in succeeded.md
    assert "Failure" not in succeeded.md
    assert "No rollback." in succeeded.md
    assert "No warnings." in succeeded.md
    assert "| succeeded |" in succeeded.md_row("build/compile")
    assert "`echo compiled`" in succeeded.md_row("build/compile")
    assert 'class="callout' not in succeeded.html
    assert {"svg", "table", "style"} <= {tag for tag, _ in succeeded.html_tags()}
    assert succeeded.gantt_bars() == {"phase": 2, "item": 3}


def test_paused_run_says_why_and_what_is_left(paused: Reports) -> None:
    run_id = paused.doc["run"]["id"]
    assert paused.exit_code == 4
    assert paused.doc["run"]["status"] == "paused"
    assert "| Exit code | 4 |" in paused.md
    assert "| Finished | not finished (paused) |" in paused.md
    assert "> **Paused (approval) since " in paused.md
    assert f"`phasegate approve {run_id}`" in paused.md
    gate = paused.md_row("notify/gate:gate-1")
    assert gate.startswith("| Confirm contacts notified<br>")
    assert "| awaiting approval |" in gate
    assert "`confirmed by 1 approver`" in gate
    assert "| _not run_ |" in paused.md_row("switch/step-1")
    assert '<div class="callout pause">' in paused.html
    assert '<tr class="st-not_run">' in paused.html
    assert "svg" in {tag for tag, _ in paused.html_tags()}


def test_paused_run_timeline_marks_open_bars(paused: Reports) -> None:
    # The paused phase has no end: its bar runs to the last known moment, hatched.
    assert paused.gantt_bars() == {"phase": 1, "item": 2}
    assert paused.html.count('class="open"') == 1
    assert "phase switch (not started)</text>" in paused.html


def test_resumed_run_lists_approvals_and_resumes(resumed: Reports) -> None:
    assert resumed.exit_code == 0
    assert resumed.doc["run"]["status"] == "succeeded"
    approvals = resumed.md_section("Approvals")
    assert f"| `notify/gate:gate-1` | approved | {LOGIN}@" in approvals
    resumes = resumed.md_section("Resumes")
    assert len(resumed.doc["resumes"]) == 1
    assert "| paused |" in resumes
    assert f"approved by {LOGIN}@" in resumed.md_row("notify/gate:gate-1")
    assert "<h2>Resumes</h2>" in resumed.html
    assert "<td>paused</td>" in resumed.html


def test_rollback_overrun_is_highlighted(overrun: Reports) -> None:
    rollback = overrun.doc["rollback"]
    assert overrun.exit_code == 3
    assert rollback["overrun"]
    assert rollback["status"] == "rollback_failed"
    assert "of 100ms budget — OVERRUN**" in overrun.md_section("Rollback")
    assert '<td class="overrun">' in overrun.html
    assert "| **failed** |" in overrun.md_row("undo:migrate/broken-undo")
    failures = overrun.md_section("Rollback").split("### Rollback failures")[1]
    assert "- `undo:migrate/broken-undo`: exit 1" in failures
    assert 'class="bar bar-rollback st-failed"' in overrun.html


def test_tripped_trigger_is_the_failure_reason(tripped: Reports) -> None:
    assert tripped.exit_code == 1
    assert tripped.doc["triggers"]["error-rate"]["status"] == "tripped"
    reason = tripped.doc["failure"]["message"]
    assert reason.startswith("trigger error-rate tripped: exit 1")
    assert f"> **Failure (trigger):** {md_text(reason)} — " in tripped.md
    assert f"| Reason | {md_text(reason)} |" in tripped.md
    row = next(line for line in tripped.md_section("Triggers").splitlines() if "error-rate" in line)
    assert row.startswith("| error-rate | tripped | ")
    assert re.search(r"\| \d+ \| rollback \| exit 1[^|]* \| `\{", row), row
    assert '<span class="badge st-tripped">tripped</span>' in tripped.html
    assert "### shift: stopped" in tripped.md


def test_issue_example_masks_the_literal_secret(issue_example: Reports) -> None:
    assert issue_example.exit_code == 1
    for fmt, text in issue_example.texts().items():
        assert SECRET not in text, fmt
    assert issue_example.doc["rollback"]["status"] == "rolled_back"
    assert "5m00s budget" in issue_example.md
    assert "5m00s budget" in html.unescape(issue_example.html)


def test_issue_example_lists_the_gate_that_did_not_run(issue_example: Reports) -> None:
    assert "latency check" in issue_example.md


def test_item_keys_and_multi_line_commands_keep_their_shape(succeeded: Reports) -> None:
    """The legend's `.key` rule once sized every item key to 14 px: keys wrapped one
    character per line. Measured in Chromium: a key is one line, wider than 14 px; a
    multi-line command keeps its lines."""
    from tests.dashboard.test_dashboard_browser import CHROMIUM, FLAGS

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-deps.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_content(succeeded.html)
            boxes = page.eval_on_selector_all(
                "table.items code.key",
                "els => els.map(e => [e.getBoundingClientRect().width,"
                " e.getBoundingClientRect().height])",
            )
            commands = page.eval_on_selector_all("pre.cmd", "els => els.map(e => e.innerText)")
        finally:
            browser.close()
    assert boxes
    for width, height in boxes:
        assert width > 60 and height < 24, (width, height)
    assert "echo shipped\necho to every host" in [c.strip() for c in commands]
