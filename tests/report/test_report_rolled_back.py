"""The report of a run whose gate failed and which rolled back: every format, real CLI."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import markupsafe
import pytest

from phasegate.durations import format_duration
from phasegate.report.render import iso_utc, md_text

from .helpers import SECRET, Project, Reports

PLAN = """\
version: 1
name: checkout-release
vars:
  TARGET: {target}
  TOKEN: {{env: PG_REPORT_TOKEN, secret: true}}
budget: {{rollback: 5m, duration: 1h}}
triggers:
  - name: health
    check: {{command: "true"}}
    every: 50ms
phases:
  - id: prep
    steps:
      - name: "<script>alert(1)</script>"
        run: mkdir -p ${{TARGET}} && echo hi > ${{TARGET}}/a.txt && echo token=${{TOKEN}}
        undo: rm -rf ${{TARGET}}
      - name: "pipe | in name\\nsecond line"
        run: "echo 'see https://example.com/runbook'"
    gates:
      - command: "echo ${{TOKEN}}; test -f ${{TARGET}}/a.txt"
  - id: deploy
    needs: [prep]
    steps:
      - run: echo deploying; echo v2 > ${{TARGET}}/a.txt
    gates:
      - {{command: "false", severity: warn, name: latency check}}
      - command: grep v3 ${{TARGET}}/a.txt
      - {{command: "true", name: never evaluated}}
    rollback:
      - run: echo restoring
  - id: cleanup
    needs: [deploy]
    steps:
      - run: echo never runs
"""


@pytest.fixture(scope="module")
def reports(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("rolled-back")
    plan = PLAN.format(target=project.root / "target")
    code = project.run(plan, env={"PG_REPORT_TOKEN": SECRET})
    return project.reports(code)


def test_the_run_failed_and_rolled_back(reports: Reports) -> None:
    assert reports.exit_code == 1
    run = reports.doc["run"]
    assert run["status"] == "rolled_back"
    assert run["id"] in reports.md
    assert run["id"] in reports.html
    assert "# Rollout report: checkout-release — ROLLED_BACK" in reports.md
    assert "| Status | **rolled_back** |" in reports.md
    assert "| Exit code | 1 |" in reports.md
    assert 'class="badge st-rolled_back">rolled_back</span>' in reports.html


def test_identity_and_who_when_where(reports: Reports) -> None:
    run = reports.doc["run"]
    for text in (reports.md, reports.html):
        assert run["plan_sha256"] in text
        assert f"{run['user']}@{run['host']}" in text
        assert f"pid {run['pid']}" in text
        assert iso_utc(run["started_at"]) in text
        assert iso_utc(run["finished_at"]) in text
        assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text)


def test_failure_reason_names_the_gate(reports: Reports) -> None:
    failure = reports.doc["failure"]
    assert failure["item"] == "deploy/gate:gate-2"
    assert failure["message"].startswith("exit 1")
    assert f"> **Failure (gate):** {md_text(failure['message'])} — " in reports.md
    assert '<div class="callout failure">' in reports.html
    assert "deploy/gate:gate-2" in reports.html


def test_gate_shows_expectation_and_observed_value(reports: Reports) -> None:
    gate = reports.item("deploy/gate:gate-2")
    assert gate["observed"] == {"exit_code": 1, "stdout": "", "stderr": ""}
    assert gate["expectation"]
    observed = json.dumps(gate["observed"])
    row = reports.md_row("deploy/gate:gate-2")
    assert "**failed**" in row
    assert f"`{gate['expectation']}`" in row
    assert f"`{observed}`" in row
    page = html.unescape(reports.html)
    assert f"<code>{gate['expectation']}</code>" in page
    assert f'<code class="obs">{observed}</code>' in page


def test_items_that_did_not_run_are_listed_greyed(reports: Reports) -> None:
    row = reports.md_row("deploy/gate:gate-3")
    assert row.startswith("| _never evaluated_<br>")
    assert "| _not run_ |" in row
    assert "`cleanup/step-1`" in reports.md
    assert "### cleanup: pending" in reports.md
    assert reports.html.count('<tr class="st-not_run">') == 2
    assert "not started" in reports.md


def test_rollback_duration_against_budget(reports: Reports) -> None:
    rollback = reports.doc["rollback"]
    assert rollback["budget"] == 300.0
    assert not rollback["overrun"]
    note = f"{format_duration(rollback['duration'])} of 5m00s budget"
    assert f"| Duration vs budget | {note} |" in reports.md
    assert note in reports.html
    assert "OVERRUN" not in reports.md
    section = reports.md_section("Rollback")
    assert "automatic (engine)" in section
    assert "`rollback:deploy/1`" in section
    assert "`undo:prep/script-alert-1-script`" in section
    assert section.index("rollback:deploy/1") < section.index("undo:prep/script")


def test_warning_of_the_warn_severity_gate(reports: Reports) -> None:
    [warning] = reports.doc["warnings"]
    assert warning["item"] == "deploy/gate:gate-1"
    message = warning["message"]
    assert message.startswith("exit 1")
    warnings = reports.md_section("Warnings")
    assert f"- latency check (`deploy/gate:gate-1`): {md_text(message)}" in warnings
    assert f"latency check (<code>deploy/gate:gate-1</code>): {markupsafe.escape(message)}" in (
        reports.html
    )
    row = reports.md_row("deploy/gate:gate-1")
    assert "| gate (warn) | warned |" in row


def test_triggers_table(reports: Reports) -> None:
    section = reports.md_section("Triggers")
    assert re.search(r"^\| health \| healthy \| \d+ \| 0 \| 0 \|", section, re.M)
    assert "<td>health</td>" in reports.html


def test_secret_value_appears_in_no_format(reports: Reports) -> None:
    for fmt, text in reports.texts().items():
        assert SECRET not in text, fmt
    assert reports.doc["vars"]["TOKEN"] == "***"
    assert "| `TOKEN` | `***` |" in reports.md


def test_html_escapes_user_text(reports: Reports) -> None:
    assert "<script" not in reports.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reports.html
    # In Markdown the name is text too: no tag a viewer could render.
    assert "<script" not in reports.md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reports.md


def test_html_references_nothing_outside_itself(reports: Reports) -> None:
    tags = reports.html_tags()
    assert {tag for tag, _ in tags}.isdisjoint({"script", "link", "img", "iframe", "object"})
    for tag, attrs in tags:
        for name, value in attrs:
            assert "//" not in (value or ""), f"<{tag} {name}={value!r}>"
    style = re.search(r"<style>(.*?)</style>", reports.html, re.S)
    assert style is not None
    assert "//" not in style.group(1)
    assert "@import" not in style.group(1)
    # The URL printed by a step is in the report, as escaped text only.
    assert "https://example.com/runbook" in html.unescape(reports.html)


def test_gantt_has_one_bar_per_started_phase_and_executed_item(reports: Reports) -> None:
    doc = reports.doc
    started = [p for p in doc["phases"] if p["started_at"] is not None]
    executed = [i for p in doc["phases"] for i in p["items"] if i.get("started_at") is not None]
    actions = [i for i in doc["rollback"]["actions"] if i.get("started_at") is not None]
    assert (len(started), len(executed), len(actions)) == (2, 6, 2)
    assert reports.gantt_bars() == {
        "phase": 2,
        "item": 6,
        "rollback-span": 1,
        "rollback": 2,
    }
    # The phase that never started still has a labelled row, without a bar.
    assert "phase cleanup (not started)</text>" in reports.html
    assert "step &lt;script&gt;alert(1)&lt;/script&gt;</text>" in reports.html


def test_markdown_tables_keep_their_shape(reports: Reports) -> None:
    """A pipe or newline in a step name must not add a column or end a row."""
    assert "pipe \\| in name<br>second line" in reports.md
    columns = None
    for line in reports.md.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        columns = columns or cells
        assert cells == columns, line
