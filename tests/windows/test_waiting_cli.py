"""A closed change window makes a real run wait, never fail (issue 13 §1 acceptance): real
`phasegate` subprocesses, real SQLite, real time. The run waits (status `waiting`, with the
rule that closed it and the next opening, in text and JSON), then proceeds by itself when the
window opens; killed with SIGKILL while waiting, `resume` waits again; a break-glass approval
(who and why journalled) lets the held phase start now; `plan --at` previews the waits."""

from __future__ import annotations

import math
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import CLI, write_plan

# Time for a `phasegate run` to start and journal its wait, and for `status` to read it,
# on a loaded machine: the window opens at least this far ahead.
LEAD = 6.0


def _poll(what: str, fn: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fn()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _hhmm(at: datetime) -> str:
    return at.strftime("%H:%M")


def _status_when(cli: CLI, status: str) -> dict[str, Any] | None:
    result = cli("status", "last", "--json")
    if result.returncode != 0:
        return None  # the run is not created yet
    import json

    doc: dict[str, Any] = json.loads(result.stdout)
    return doc if doc["run"]["status"] == status else None


def test_a_real_run_waits_for_a_window_opening_seconds_ahead_then_succeeds(cli: CLI) -> None:
    # Window rules are wall-clock minutes: the next minute boundary at least LEAD seconds on.
    opens_ts = math.ceil((time.time() + LEAD) / 60) * 60
    opens = datetime.fromtimestamp(opens_ts, UTC)
    freeze = f"{_hhmm(opens - timedelta(hours=1))}-{_hhmm(opens)}"
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: soon
        windows:
          timezone: UTC
          deny:
            - {{hours: "{freeze}", reason: freeze ends soon}}
        phases:
          - id: deploy
            risk: low
            steps:
              - {{id: push, run: "date +%s > pushed"}}
        """,
    )
    proc = cli.spawn("run", str(plan))
    try:
        doc = _poll("the run to wait", lambda: _status_when(cli, "waiting"))
        assert time.time() < opens_ts, "the window opened before the wait was seen"
        wait = doc["wait"]
        assert (wait["phase"], wait["risk"], wait["rule"], wait["reason"]) == (
            "deploy",
            "low",
            "deny[0]",
            "freeze ends soon",
        )
        assert wait["why"] == "deny[0] (freeze ends soon) denies"
        assert wait["next_open"] == opens_ts
        assert wait["next_open_utc"] == opens.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert wait["admission"] is True
        text = cli("status").stdout
        assert "WAITING (pid" in text
        assert "waiting: phase deploy (low risk) is outside its change window" in text
        assert "deny[0] (freeze ends soon) denies" in text
        assert f"opens: {opens.strftime('%a %Y-%m-%d %H:%M UTC')}" in text
        assert not (cli.cwd / "pushed").exists()
        _, err = proc.communicate(timeout=opens_ts - time.time() + 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "⏳ waiting: phase deploy (low risk)" in err
    assert "the window opened: phase deploy (low risk) may start" in err
    # The step ran once the window was open, not before.
    assert int((cli.cwd / "pushed").read_text()) >= opens_ts
    doc = cli.status()
    assert doc["run"]["status"] == "succeeded" and doc["wait"] is None
    assert [(w["phase"], w["rule"], w["how"]) for w in doc["waits"]] == [
        ("deploy", "deny[0]", "opened")
    ]
    assert doc["phases"][0]["started_at"] >= opens_ts
    assert cli("check").returncode == 0


def _frozen_plan(cli: CLI) -> tuple[Path, float]:
    """A plan frozen today and tomorrow (UTC): it opens the day after, at midnight."""
    today = datetime.now(UTC).date()
    opens = datetime.combine(today + timedelta(days=2), datetime.min.time(), UTC)
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: frozen
        windows:
          timezone: UTC
          deny:
            - {{dates: ["{today}..{today + timedelta(days=1)}"], reason: holiday freeze}}
        phases:
          - id: deploy
            steps:
              - {{id: push, run: "echo pushed >> ledger"}}
        """,
    )
    return plan, opens.timestamp()


def test_kill_minus_nine_while_waiting_then_resume_waits_and_break_glass_continues(
    cli: CLI,
) -> None:
    plan, opens_ts = _frozen_plan(cli)
    proc = cli.spawn("run", str(plan))
    try:
        first = _poll("the run to wait", lambda: _status_when(cli, "waiting"))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    run_id = first["run"]["id"]
    assert first["wait"]["next_open"] == opens_ts
    # The journal still says waiting; nobody executes it any more.
    dead = cli("status", run_id).stdout
    assert f"WAITING (owner dead — resumable: `phasegate resume {run_id}`)" in dead
    assert "holiday freeze" in dead
    resumed = cli.spawn("resume", run_id)
    try:

        def waiting_again() -> dict[str, Any] | None:
            doc = _status_when(cli, "waiting")
            return doc if doc and doc["waits"] else None

        again = _poll("the resumed run to wait again", waiting_again)
        wait = again["wait"]
        assert (wait["rule"], wait["reason"], wait["next_open"]) == (
            "deny[0]",
            "holiday freeze",
            opens_ts,
        )
        assert [w["how"] for w in again["waits"]] == ["resumed"]
        assert not (cli.cwd / "ledger").exists()
        # No reason: refused, nothing journalled.
        refused = cli("approve", run_id, "--break-glass")
        assert refused.returncode == 2 and "needs a reason" in refused.stderr
        done = cli("approve", run_id, "--break-glass", "--reason", "INC-7 hotfix, CAB ok")
        assert done.returncode == 0, done.stderr
        assert "break-glass window:deploy approved" in done.stdout
        assert "the process executing the run continues" in done.stdout
        _, err = resumed.communicate(timeout=60)
    finally:
        if resumed.poll() is None:
            resumed.kill()
            resumed.communicate()
    assert resumed.returncode == 0, err
    assert (cli.cwd / "ledger").read_text() == "pushed\n"
    doc = cli.status(run_id)
    assert doc["run"]["status"] == "succeeded"
    decision = doc["decisions"][-1]
    assert decision["key"] == "window:deploy" and decision["comment"] == "INC-7 hotfix, CAB ok"
    assert decision["by"].split("@")[0] == first["run"]["user"]
    assert [(w["how"], w.get("by")) for w in doc["waits"]] == [
        ("resumed", None),
        ("break_glass", decision["by"]),
    ]
    text = cli("status", run_id).stdout
    assert "approved window:deploy (break-glass) by" in text and "INC-7 hotfix" in text
    report = cli("report", run_id, "--format", "md").stdout
    assert "Change-window waits:" in report
    assert "| `deploy` | deny[0] |" in report and "| break_glass | " in report
    # A finished run waits for nothing: break-glass is refused.
    late = cli("approve", run_id, "--break-glass", "--reason", "again")
    assert late.returncode == 2 and "not waiting for a change window" in late.stderr
    assert cli("check").returncode == 0


def test_plan_at_previews_which_phases_wait_for_which_window(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: seed-window
        windows:
          timezone: America/New_York
          allow:
            - {days: [mon, tue, wed, thu], hours: "09:00-16:00"}
            - {days: [sat, sun], risk: [none, low]}
          deny:
            - {days: [mon, tue, wed, thu, fri], hours: "09:30-09:45", reason: stand-up}
        phases:
          - {id: docs, risk: low, steps: [{run: "true"}]}
          - {id: deploy, risk: medium, needs: [docs], steps: [{run: "true"}]}
          - {id: db, needs: [deploy], steps: [{run: "true"}]}
        """,
    )
    data = cli.json("plan", str(plan), "--at", "2026-12-05T12:00-05:00")["windows_at"]
    assert data["timezone"] == "America/New_York"
    shown = {p["phase"]: p for p in data["phases"]}
    assert [p["phase"] for p in data["phases"]] == ["docs", "deploy", "db"]
    assert not shown["docs"]["waits"] and shown["docs"]["rule"] == "allow[1]"
    assert shown["deploy"]["waits"] and shown["deploy"]["rule"] is None
    assert shown["deploy"]["why"] == "no allow rule matches a medium-risk change"
    assert shown["deploy"]["starts_at"] == "2026-12-07T14:00:00+00:00"  # Monday 09:00 EST
    assert shown["db"]["risk"] == "high" and shown["db"]["risk_declared"] is False
    assert shown["db"]["ready_at"] == "2026-12-07T14:00:00+00:00" and not shown["db"]["waits"]
    text = cli("plan", str(plan), "--at", "2026-12-07T09:35-05:00").stdout
    assert "windows (America/New_York) for a run started Mon 2026-12-07 09:35 EST" in text
    assert (
        "docs (low risk): waits — deny[0] (stand-up) denies; "
        "starts Mon 2026-12-07 09:45 EST (2026-12-07T14:45:00Z)"
    ) in text
    assert "deploy (medium risk): starts when ready — allow[0] allows" in text
    bad = cli("plan", str(plan), "--at", "monday")
    assert bad.returncode == 2 and "is not an ISO 8601 time" in bad.stderr
