"""Reports of canary runs: the Analysis and Traffic sections and the detection-to-rollback
latency, in every format, from real runs (a `command` router script and `command` metrics)."""

from __future__ import annotations

import html
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phasegate.durations import format_duration
from phasegate.report.render import iso_utc

from .helpers import SECRET, Project, Reports

ROUTER = """\
#!/bin/sh
echo "$WEIGHT" >> weights.log
echo "$WEIGHT"
"""
# The failing analysis sees 0.001, 0.002, then 0.5 (over its `failure: value > 0.1`).
ERRORS = """\
#!/bin/sh
n=$(cat errors.n 2>/dev/null || echo 0); n=$((n+1)); echo $n > errors.n
case $n in 1) echo 0.001;; 2) echo 0.002;; *) echo 0.5;; esac
"""
# First answer: a provider error whose message carries markup and the secret; then 0.99.
FLAKY = """\
#!/bin/sh
if [ ! -e flaky.seen ]; then
  touch flaky.seen
  echo "<img src=x onerror=alert(1)> token=$TOKEN" >&2
  exit 1
fi
echo 0.99
"""

ROLLS_BACK = """\
version: 1
name: canary-report
vars:
  TOKEN: {env: PG_REPORT_TOKEN, secret: true}
budget: {rollback: 5m}
traffic:
  backends: [stable, canary]
  router: {command: ./router.sh}
analyses:
  smoke:
    interval: 10ms
    count: 2
    consecutive_error_limit: 1
    metrics:
      - {name: ok-rate, metric: echo 0.99, provider: {command: {}}, success: value > 0.9}
      - name: flaky
        metric: ./flaky.sh
        provider: {command: {env: {TOKEN: "${TOKEN}"}}}
        success: value > 0.9
phases:
  - id: canary
    analysis:
      interval: 20ms
      metrics:
        - {name: cpu, metric: echo 0.1, provider: {command: {}}, failure: value > 1}
    steps:
      - set_weight: 10
      - analysis: smoke
      - set_weight: 50
      - name: "<b>check</b> errors"
        analysis:
          interval: 10ms
          count: 5
          metrics:
            - {name: errors, metric: ./errors.sh, provider: {command: {}}, failure: value > 0.1}
      - promote: true
"""

INCONCLUSIVE = """\
version: 1
name: canary-approved
traffic:
  backends: [stable, canary]
  router: {command: ./router.sh}
phases:
  - id: canary
    steps:
      - set_weight: 20
      - name: judge
        analysis:
          interval: 10ms
          count: 2
          metrics:
            - {name: p99, metric: "true", provider: {command: {}}, failure: value > 1,
               no_data: pause}
      - pause: approve
      - set_weight: 60
"""


def _scripts(root: Path, **scripts: str) -> None:
    for name, text in scripts.items():
        path = root / f"{name}.sh"
        path.write_text(text, encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _analysis(reports: Reports, key: str) -> dict[str, Any]:
    return next(a for a in reports.doc["analyses"] if a["key"] == key)


def _metric(analysis: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in analysis["metrics"] if m["name"] == name)


def _html_section(reports: Reports, section: str) -> str:
    match = re.search(rf'<section id="{section}">.*?</section>', reports.html, re.S)
    assert match is not None, f"no {section} section in the HTML report"
    return match.group(0)


@pytest.fixture(scope="module")
def rolled_back(new_project: Callable[[str], Project]) -> Reports:
    project = new_project("canary-rolled-back")
    _scripts(project.root, router=ROUTER, errors=ERRORS, flaky=FLAKY)
    code = project.run(ROLLS_BACK, env={"PG_REPORT_TOKEN": SECRET})
    return project.reports(code)


@pytest.fixture(scope="module")
def approved(new_project: Callable[[str], Project]) -> tuple[Reports, Reports]:
    """The same run twice: paused on an inconclusive analysis, then approved, resumed,
    paused again on `pause: approve`, and promoted with `promote --full`."""
    project = new_project("canary-approved")
    _scripts(project.root, router=ROUTER)
    paused = project.reports(project.run(INCONCLUSIVE))
    assert project.cli("approve", "last").returncode == 0
    assert project.cli("resume", "last", "--no-output").returncode == 4
    promoted = project.cli("promote", "last", "--full", "--no-output")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    return paused, project.reports(promoted.returncode)


def test_analyses_are_listed_in_plan_order_with_their_verdicts(rolled_back: Reports) -> None:
    assert rolled_back.exit_code == 1
    analyses = rolled_back.doc["analyses"]
    assert [a["key"] for a in analyses] == [
        "canary/analysis",
        "canary/analysis-smoke",
        "canary/b-check-b-errors",
    ]
    background, smoke, errors = analyses
    assert background["background"] is True
    assert background["status"] == "skipped"  # ended at once by the failure
    assert smoke["analysis"] == "smoke"
    assert (smoke["status"], smoke["verdict"], smoke["reason"]) == (
        "succeeded",
        "passed",
        "completed",
    )
    assert (errors["status"], errors["verdict"], errors["reason"]) == (
        "failed",
        "failed",
        "failure_limit",
    )
    assert errors["metric"] == "errors"
    failing = _metric(errors, "errors")
    assert failing["counts"] == {"successful": 2, "failed": 1}
    assert [(m["value"], m["status"]) for m in failing["last"]] == [
        (0.001, "successful"),
        (0.002, "successful"),
        (0.5, "failed"),
    ]
    assert errors["detected_at"] == failing["last"][-1]["at"]
    assert (failing["failure"], failing["count"], failing["failure_limit"]) == ("value > 0.1", 5, 0)


def test_analysis_section_renders_counts_and_last_values(rolled_back: Reports) -> None:
    md = rolled_back.md_section("Analysis")
    assert "### &lt;b&gt;check&lt;/b&gt; errors: FAILED" in md
    assert re.search(r"^### analysis canary: [A-Z]+ \(skipped\)$", md, re.M)
    row = next(line for line in md.splitlines() if line.startswith("| errors |"))
    assert "`failure: value > 0.1`" in row
    assert "| 3 of 5 | successful 2, failed 1 |" in row
    assert "0.001 (successful), 0.002 (successful), 0.5 (failed)" in row
    assert "| Reason | failure_limit |" in md
    flaky = next(line for line in md.splitlines() if line.startswith("| flaky |"))
    assert "error 1, successful 1" not in flaky  # fixed order: successful first
    assert "successful 1, error 1" in flaky
    assert "no value (error), 0.99 (successful)" in flaky

    section = _html_section(rolled_back, "analysis")
    assert '<span class="badge st-failed">failed</span>' in section
    assert "<td>successful 2, failed 1</td>" in section
    chips = re.findall(r'<span class="mv (st-[a-z_]+)" title="[^"]*">([^<]*)</span>', section)
    assert ("st-failed", "0.5") in chips
    assert ("st-error", "no value") in chips


def test_user_text_is_escaped_and_secrets_stay_masked(rolled_back: Reports) -> None:
    for fmt, text in rolled_back.texts().items():
        assert SECRET not in text, fmt
    # A measurement's message (here a provider error) shows in HTML as its chip's title.
    assert "token=***" in rolled_back.html
    assert "token=***" in rolled_back.json_text
    assert "<img" not in rolled_back.html
    assert "<b>check" not in rolled_back.html
    assert html.escape("<img src=x onerror=alert(1)>", quote=False) in rolled_back.html
    assert "img" not in [tag for tag, _ in rolled_back.html_tags()]
    assert "<img" not in rolled_back.md
    assert "<b>" not in rolled_back.md


def test_traffic_history_renders_in_every_format(rolled_back: Reports) -> None:
    traffic = rolled_back.doc["traffic"]
    assert traffic["backends"] == ["stable", "canary"]
    assert traffic["router"].startswith("command router")
    assert [h["canary_weight"] for h in traffic["history"]] == [10, 50, 0]
    assert [h["reason"] for h in traffic["history"]] == ["step", "step", "rollback"]
    md = rolled_back.md_section("Traffic")
    rows = [line for line in md.splitlines() if line.startswith("| 20")]
    assert len(rows) == 3
    assert "| 10% | stable 90%, canary 10% | `canary/set-weight-10` | step |" in rows[0]
    assert "| 0% | stable 100%, canary 0% | `traffic:baseline` | rollback |" in rows[2]
    section = _html_section(rolled_back, "traffic")
    assert section.count("<tr>") == 1 + 3  # the header, then one row per change
    for change in traffic["history"]:
        assert iso_utc(change["at"]) in md
        assert iso_utc(change["at"]) in section


def test_rollback_shows_detection_to_rollback_latency(rolled_back: Reports) -> None:
    rollback = rolled_back.doc["rollback"]
    back = rolled_back.doc["traffic"]["history"][-1]
    errors = _analysis(rolled_back, "canary/b-check-b-errors")
    latency = rollback["detection_latency"]
    assert latency is not None and latency >= 0
    assert latency == back["detection_latency"]
    assert rollback["detected_by"] == "canary/b-check-b-errors"
    assert rollback["detected_at"] == errors["detected_at"]
    assert rollback["baseline_at"] == back["at"]
    md = rolled_back.md_section("Rollback")
    assert "| Duration vs budget |" in md
    assert (
        f"| Detection to rollback | {format_duration(latency)}: detected by "
        f"`canary/b-check-b-errors` at {iso_utc(rollback['detected_at'])}" in md
    )
    section = _html_section(rolled_back, "rollback")
    assert "<th>Detection to rollback</th>" in section
    assert f"<td>{format_duration(latency)}: detected by <code>canary/b-check-b-errors</code>" in (
        section
    )


def test_inconclusive_analysis_waits_for_a_human(approved: tuple[Reports, Reports]) -> None:
    paused, _ = approved
    assert paused.exit_code == 4
    judge = _analysis(paused, "canary/judge")
    assert (judge["status"], judge["verdict"], judge["reason"]) == (
        "awaiting_approval",
        "inconclusive",
        "no_data",
    )
    assert judge["inconclusive"] is True
    assert _metric(judge, "p99")["counts"] == {"no_data": 1}
    assert "### judge: INCONCLUSIVE (awaiting approval)" in paused.md
    assert "`canary/judge`" in paused.md.split("## Phases")[0]  # the pause callout


def test_approved_and_promoted_run(approved: tuple[Reports, Reports]) -> None:
    _, done = approved
    assert done.doc["run"]["status"] == "succeeded"
    judge = _analysis(done, "canary/judge")
    assert judge["status"] == "succeeded"
    assert judge["approved_by"] == done.doc["approvals"]["canary/judge"] != []
    assert "### judge: INCONCLUSIVE (approved)" in done.md
    traffic = done.doc["traffic"]
    assert traffic["promoted"] is not None
    assert traffic["history"][-1]["reason"] == "promote"
    assert traffic["weights"] == {"stable": 0, "canary": 100}
    assert "promoted (`promote --full`) by" in done.md_section("Traffic")
    assert "promoted (<code>promote --full</code>) by" in done.html
    assert done.doc["rollback"] is None
    assert "| Detection to rollback |" not in done.md_section("Rollback")


def test_traffic_section_charts_the_weights_with_axes_and_the_incident(
    rolled_back: Reports,
) -> None:
    section = _html_section(rolled_back, "traffic")
    svg = re.search(r'<svg class="weight-chart".*?</svg>', section, re.S)
    assert svg is not None, "no weight chart in the Traffic section"
    chart = svg.group(0)
    for tick in ("0%", "25%", "50%", "75%", "100%", "+0ms"):
        assert f">{tick}<" in chart, tick
    assert "time since the first change at " in chart
    # One dot per change; the detection and rollback marked where they happened.
    assert chart.count('<circle class="change"') == len(rolled_back.doc["traffic"]["history"])
    assert '<g class="marker detected">' in chart
    assert "fault detected (canary/b-check-b-errors)" in chart
    assert '<g class="marker rollback">' in chart
    assert "<script" not in chart and "href" not in chart  # one offline file, no links out
    # User text in a title is escaped like everywhere else.
    assert "<b>" not in chart
