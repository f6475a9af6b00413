"""Seed 003 as an example (issue 13 §6): examples/seeds/003-plms.yaml runs for real in a
sandbox, with the clock of windows and policies set to the seed's Monday (`run --at`).

What it shows: the stand-up freeze holds the run (waiting, then the window opens), the days run
in order with their risks, Day 1 adds the invariants schedule, exports its systemd units and
fires it three times (the sandbox's nights), the Day 7 streak gate passes on 3 consecutive
passes, the alert channel (a real webhook receiver) gets the prep test and the alerts, the PM
signs off; and a drill of the 25 % guard: Project Alpha reporting too many tokens holds the
run until approved.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from phasegate.plan.loader import load_plan
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI
from tests.notify.receivers import http_receiver

SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seeds"
PLAN = SEEDS / "003-plms.yaml"
# Monday 10 Nov 2025 (the seed's Day 3), five seconds before the 09:30-09:45 stand-up ends.
AT = "2025-11-10T09:44:55-05:00"


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    root = tmp_path / "plms"
    subprocess.run(
        [str(SEEDS / "003-fixtures" / "make-sandbox.sh"), str(root)],
        check=True,
        capture_output=True,
    )
    return root


def variables(cli: CLI, sandbox: Path, hook: str, **extra: str) -> list[str]:
    phasegate = f"{sys.executable} -m phasegate --state-dir {cli.state_dir}"
    given = {
        "SANDBOX": str(sandbox),
        "SLACK_WEBHOOK_URL": hook,
        "NIGHTS": "3",
        "PHASEGATE": phasegate,
        **extra,
    }
    return [f"--var={k}={v}" for k, v in given.items()]


def run_of(result: subprocess.CompletedProcess[str]) -> str:
    """The run id from `run`'s last line, `run ID: STATUS`."""
    last = result.stdout.strip().splitlines()[-1]
    return last.split()[1].rstrip(":")


def journal(cli: CLI, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir)
    try:
        return [(etype, data) for _, _, etype, data in store.events(run_id)]
    finally:
        store.close()


def test_the_example_holds_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLMS_SANDBOX", "/nowhere")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    plan = load_plan(PLAN).plan
    assert [(p.id, p.risk) for p in plan.phases] == [
        ("day0-prep", "none"),
        ("day1-option-b", "low"),
        ("day2-demos", "low"),
        ("day3-portfolio", "medium"),
        ("day4-alerts", "low"),
        ("day5-calibration", "medium"),
        ("day6-stress", "high"),
        ("day7-retro", "low"),
    ]
    assert plan.windows is not None and plan.windows.timezone == "America/New_York"
    assert plan.budget.runway == [900, 300] and plan.budget.pause_above == 1.25
    assert plan.budget.resources["tokens"].limit == 15000
    assert plan.estimate.calibration == (
        "run_kind in ['baseline', 'hotfix'] && validation_pass && !sandbox"
    )
    streak = plan.phase("day7-retro").gates[0]
    assert streak.kind == "streak" and streak.streak.passes == 3  # type: ignore[attr-defined]


def test_the_seven_days_run_in_a_sandbox(
    cli: CLI, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLMS_SANDBOX", str(sandbox))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    with http_receiver() as hook:
        result = cli(
            "run", str(PLAN), "--at", AT, *variables(cli, sandbox, f"{hook.url}/hook"), timeout=240
        )
        assert result.returncode == 4, result.stderr  # the PM's sign-off
        assert (
            "the engine's clock is shifted (run --at): change windows and policies read "
            "2025-11-10T14:44:55Z" in result.stderr
        )
        run_id = run_of(result)  # not `last`: Day 1's nights are runs of their own
        events = journal(cli, run_id)
        types = [t for t, _ in events]
        # The stand-up freeze held the run before its first phase, then the window opened.
        waiting = next(d for t, d in events if t == "run.waiting")
        assert waiting["rule"] == "deny[0]" and waiting["reason"] == "stand-up"
        assert waiting["admission"] is True
        assert types.index("run.wait_ended") < types.index("phase.started")
        started = [d["phase"] for t, d in events if t == "phase.started"]
        assert started == [p.id for p in load_plan(PLAN).plan.phases]

        # Day 1: the schedule exists, its units were exported, three nights passed.
        timer = (sandbox / "deployment" / "systemd" / "invariants.timer").read_text()
        assert "OnCalendar=*-*-* 02:00:00 America/New_York" in timer
        listed = cli.json("schedule", "list")
        [invariants] = [s for s in listed if s["name"] == "invariants"]
        assert invariants["streak"] == 3
        day7 = cli.status(run_id)
        gates = {i["key"]: i for p in day7["phases"] for i in p["items"]}
        assert gates["day7-retro/gate:invariants-3-nights"]["status"] == "passed"
        assert day7["pause"]["items"] == ["day7-retro/gate:pm-sign-off"]

        approved = cli("approve", run_id, "--comment", "PM: shipped")
        assert approved.returncode == 0, approved.stderr
        secret = f"--var=SLACK_WEBHOOK_URL={hook.url}/hook"  # never journalled: given again
        done = cli("resume", run_id, secret, timeout=60)
        assert done.returncode == 0, done.stderr
        bodies = [r.body.decode() for r in hook.by_path("/hook")]

    assert any("Day 0 prep test" in b for b in bodies)  # the alert channel test of Day 0
    assert any("invariants FAIL (test)" in b for b in bodies)  # Day 4's test alert
    assert any("paused.approval" in b for b in bodies)  # routed by notify:
    # Tokens: 150 + 600 + 500 + 1,000 + 800 + 9,000 + 4,000 = 16,050 of 15,000: the runway
    # thresholds were passed and the overrun said; under 125 %, so never held.
    runway = [d for t, d in journal(cli, run_id) if t == "budget.runway"]
    assert [(d["budget"], d["threshold"], d["severity"]) for d in runway] == [
        ("tokens", 3000, "warning"),
        ("tokens", 1000, "critical"),
    ]
    assert "run used 16,050 tokens, over its budget of 15,000 tokens" in result.stderr
    assert not [d for t, d in journal(cli, run_id) if d.get("key") == "budget:tokens"]


def test_the_25_percent_guard_holds_until_the_pm_approves(cli: CLI, sandbox: Path) -> None:
    with http_receiver() as hook:
        flags = variables(cli, sandbox, f"{hook.url}/hook", ALPHA_TOKENS="19000", NIGHTS="0")
        result = cli("run", str(PLAN), "--at", AT, *flags, timeout=240)
        assert result.returncode == 4, result.stderr
        run_id = run_of(result)
        status = cli.status(run_id)
        assert status["pause"]["items"] == ["budget:tokens"]
        assert "over the pause bound of 125% (18,750 tokens)" in status["pause"]["message"]
        # Held after Project Alpha: Beta has not started.
        keys = [d.get("key") for t, d in journal(cli, run_id) if t == "item.started"]
        assert "day6-stress/project-alpha-code-api" in keys
        assert "day6-stress/project-beta-data-schema" not in keys

        assert cli("approve", run_id, "budget:tokens", "--comment", "PM approves").returncode == 0
        # The rehearsal's clock again (a resume reads the real clock unless told: `--at` is
        # never carried over, so that a shifted clock cannot slip past a window unasked).
        hook_var = f"--var=SLACK_WEBHOOK_URL={hook.url}/hook"
        resumed = cli("resume", run_id, "--at", AT, hook_var, timeout=120)
        # Day 7's streak gate fails: no nights were simulated; the run rolls back.
        assert resumed.returncode == 1, resumed.stderr
        assert "tokens budget: approved by" in resumed.stderr
        bodies = [r.body.decode() for r in hook.by_path("/hook")]
    assert any("tokens budget: projected" in b for b in bodies)
    decisions = cli.status(run_id)["decisions"]
    assert [(d["key"], d["decision"]) for d in decisions] == [("budget:tokens", "approved")]
