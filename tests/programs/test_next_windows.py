"""`phasegate next --blocked` names a closed change window as a blocker: the phase's `risk:`
against the plan's `windows:` at a fixed instant (`--at`), with the deciding rule and the next
opening; before a run (plan) and during one (a paused program's journal)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import CLI
from tests.programs.builders import child_plan

WINDOWS = """
windows:
  timezone: UTC
  allow:
    - {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
    - {days: [sat, sun], risk: [none, low]}
  deny:
    - {dates: ["2030-12-24..2030-12-26"], reason: holiday freeze}
"""
# Only the freeze: open whenever the test runs (the run itself is judged at the real now).
FREEZE_ONLY = """
windows:
  timezone: UTC
  deny:
    - {dates: ["2030-12-24..2030-12-26"], reason: holiday freeze}
"""


def _program(cli: CLI, ready: str = "", windows: str = WINDOWS) -> Path:
    (cli.cwd / "children").mkdir()
    for name in ("events", "cutover"):
        (cli.cwd / "children" / f"{name}.yaml").write_text(child_plan(name))
    ledger = cli.cwd / "ledger.txt"
    path = cli.cwd / "program.yaml"
    path.write_text(
        "version: 1\nname: program\n"
        + textwrap.dedent(windows).lstrip()
        + textwrap.dedent(
            f"""
            phases:
              - id: events
                risk: low
                run_plan: children/events.yaml
                vars: {{LEDGER: {ledger}}}
              - id: cutover
                needs: [events]
                risk: high
                run_plan: children/cutover.yaml
                vars: {{LEDGER: {ledger}}}
            """
        )
        + textwrap.indent(textwrap.dedent(ready), "    ")
    )
    return path


def _blocked(data: dict[str, Any]) -> dict[str, list[str]]:
    return {e["phase"]: e["blockers"] for e in data["blocked"]}


def test_closed_window_is_a_blocker_before_any_run(cli: CLI) -> None:
    plan = str(_program(cli))
    # Monday 10:00: every risk is open; only the need blocks the cutover.
    monday = cli.json("next", plan, "--blocked", "--at", "2030-12-02T10:00:00Z")
    assert monday["at"] == "2030-12-02T10:00:00+00:00"
    assert [e["phase"] for e in monday["actionable"]] == ["events"]
    assert _blocked(monday) == {"cutover": ["needs events (pending)"]}

    # Saturday: low risk may go, the high-risk cutover is also held by its window until Monday.
    saturday = cli.json("next", plan, "--blocked", "--at", "2030-11-30T10:00:00Z")
    assert [e["phase"] for e in saturday["actionable"]] == ["events"]
    [need, window] = _blocked(saturday)["cutover"]
    assert need == "needs events (pending)"
    assert window.startswith("window closed for high-risk changes (no allow rule matches")
    assert "opens Mon 2030-12-02 09:00 UTC (2030-12-02T09:00:00Z)" in window
    entry = saturday["blocked"][0]["window"]
    assert (entry["open"], entry["risk"], entry["rule"]) == (False, "high", None)
    assert entry["next_open"] == "2030-12-02T09:00:00+00:00"

    # The holiday freeze (a Tuesday): deny wins for every risk; low risk reopens on the
    # Friday 09:00 after it, high risk the same.
    freeze = cli.json("next", plan, "--blocked", "--all", "--at", "2030-12-24T10:00:00Z")
    assert freeze["actionable"] == []
    blocked = _blocked(freeze)
    assert blocked["events"] == [
        "window closed for low-risk changes (deny[0] (holiday freeze) denies); "
        "opens Fri 2030-12-27 09:00 UTC (2030-12-27T09:00:00Z)"
    ]
    assert freeze["blocked"][0]["window"]["rule"] == "deny[0]"
    assert freeze["blocked"][0]["window"]["reason"] == "holiday freeze"

    # Text output names the same.
    text = cli("next", plan, "--blocked", "--at", "2030-12-24T10:00:00Z").stdout
    assert "no child is actionable now" in text
    assert "blocked events: window closed for low-risk changes (deny[0] (holiday freeze)" in text

    # A time without an offset is refused (whose timezone?), exit 2, no traceback.
    bad = cli("next", plan, "--at", "2030-12-24T10:00")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_closed_window_during_a_paused_program(cli: CLI) -> None:
    # The first child runs; the cutover is not ready, so the program pauses on it. Asked about
    # a freeze day, `next RUN` names the window beside the readiness blocker.
    plan = _program(
        cli,
        """
        ready:
          checks: [{command: test -f go.flag}]
        """,
        windows=FREEZE_ONLY,
    )
    assert cli("run", str(plan)).returncode == 4
    run_id = str(next(r for r in cli.json("history") if r["plan_name"] == "program")["id"])
    freeze = cli.json("next", run_id, "--blocked", "--at", "2030-12-25T12:00:00Z")
    assert freeze["status"]["events"] == "succeeded"
    [readiness, window] = _blocked(freeze)["cutover"]
    assert "go.flag" in readiness
    assert window.startswith("window closed for high-risk changes (deny[0] (holiday freeze)")
    # Monday 10:00 the window is open: readiness alone blocks.
    monday = cli.json("next", run_id, "--blocked", "--at", "2030-12-02T10:00:00Z")
    assert len(_blocked(monday)["cutover"]) == 1
    (cli.cwd / "go.flag").write_text("")
    open_now = cli.json("next", run_id, "--at", "2030-12-02T10:00:00Z")
    assert [e["phase"] for e in open_now["actionable"]] == ["cutover"]
