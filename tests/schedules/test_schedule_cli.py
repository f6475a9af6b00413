"""``phasegate schedule`` through the real CLI: field-named errors, add/list/history/remove,
streaks from real runs (and a `streak` gate that needs them), and systemd units that
`systemd-analyze` verifies and whose calendar elapses on the rule's own slots."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from phasegate.schedules import parse_rule
from tests.conftest import CLI, write_plan

INVARIANTS = """
version: 1
name: invariants
vars:
  MODE: strict
  TOKEN: {secret: true, default: hunter22}
phases:
  - id: check
    steps:
      - {name: holds, run: 'test ! -f broken'}
"""

GATED = """
version: 1
name: enable-lanes
phases:
  - id: go
    gates:
      - streak: {schedule: invariants, passes: 2}
    steps:
      - {name: enable, run: 'true'}
"""


def test_bad_input_is_refused_with_the_field_named(cli: CLI) -> None:
    write_plan(cli.cwd, INVARIANTS, "inv.yaml")
    cases = [
        (["--cron", "*/5 * * *"], "--cron '*/5 * * *': has 4 fields"),
        (["--cron", "0 25 * * *"], "--cron '0 25 * * *': is not a cron expression"),
        (["--every", "2s", "--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus'"),
        (["--calendar", "funday 02:00"], "--calendar 'funday 02:00'"),
        (["--every", "2s", "--cron", "* * * * *"], "exactly one of --cron, --every"),
        (["--every", "2s", "--var", "TOKEN=x"], "--var TOKEN: TOKEN is secret"),
        (["--every", "2s", "--var", "MODEE=x"], "--var MODEE: the plan declares no variable"),
    ]
    for args, message in cases:
        result = cli("schedule", "add", "inv", "inv.yaml", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    missing = cli("schedule", "add", "inv", "nowhere.yaml", "--every", "2s")
    assert missing.returncode == 2 and "PLAN 'nowhere.yaml': no such plan file" in missing.stderr
    bad_name = cli("schedule", "add", "no/slash", "inv.yaml", "--every", "2s")
    assert bad_name.returncode == 2 and "schedule name 'no/slash'" in bad_name.stderr
    assert cli.json("schedule", "list") == []


def test_add_list_remove(cli: CLI) -> None:
    plan = write_plan(cli.cwd, INVARIANTS, "inv.yaml")
    added = cli(
        "schedule", "add", "invariants", "inv.yaml", "--calendar", "mon..thu 02:30",
        "--timezone", "Europe/Berlin", "--var", "MODE=lax", "--missed", "catch-up-one",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    again = cli("schedule", "add", "invariants", "inv.yaml", "--every", "1h")
    assert again.returncode == 2 and "exists" in again.stderr
    [row] = cli.json("schedule", "list")
    assert row["plan"] == str(plan.resolve()) and row["vars"] == {"MODE": "lax"}
    assert row["rule"] == {"kind": "calendar", "text": "mon..thu 02:30"}
    assert row["missed"] == "catch-up-one" and row["streak"] == 0 and row["last"] is None
    following = datetime.fromisoformat(row["next"])
    assert (following.hour, following.minute, following.weekday() < 4) == (2, 30, True)
    assert str(following.utcoffset()) in ("1:00:00", "2:00:00")
    assert cli("schedule", "remove", "invariants").returncode == 0
    gone = cli("schedule", "remove", "invariants")
    assert gone.returncode == 2 and "no schedule 'invariants'" in gone.stderr
    assert cli.json("schedule", "list") == []


def test_streak_counts_consecutive_passes_and_a_gate_requires_them(cli: CLI) -> None:
    write_plan(cli.cwd, INVARIANTS, "inv.yaml")
    write_plan(cli.cwd, GATED, "gated.yaml")
    assert cli("schedule", "add", "invariants", "inv.yaml", "--every", "1h").returncode == 0

    def streak() -> int:
        value: int = cli.json("schedule", "history", "invariants")["streak"]
        return value

    def run_invariants(expect: int) -> None:
        result = cli("run", "inv.yaml", "--schedule", "invariants", "-q")
        assert result.returncode == expect, result.stderr

    unknown = cli("run", "inv.yaml", "--schedule", "nightly")
    assert unknown.returncode == 2 and "--schedule 'nightly'" in unknown.stderr
    run_invariants(0)
    assert cli("run", "inv.yaml", "-q").returncode == 0  # not the schedule's: not counted
    assert streak() == 1
    gate = cli("run", "gated.yaml", "-q")
    assert gate.returncode == 1  # one pass, two needed
    observed = cli.status()
    assert "1 consecutive passes, 2 needed" in str(observed), observed
    run_invariants(0)
    assert streak() == 2
    assert cli("run", "gated.yaml", "-q").returncode == 0
    (cli.cwd / "broken").write_text("")
    run_invariants(1)
    assert streak() == 0
    assert cli("run", "gated.yaml", "-q").returncode == 1
    listed = cli.json("schedule", "list")
    assert listed[0]["streak"] == 0


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail("systemd-analyze is missing: run scripts/install-test-deps.sh")
    return found


@pytest.mark.parametrize(
    ("rule", "timezone", "missed", "persistent"),
    [
        (["--cron", "0 2 * * 1-5"], "Europe/Berlin", "skip", "false"),
        (["--cron", "15 3 1,15 1-3,6 *"], "America/New_York", "catch-up-one", "true"),
        (["--calendar", "sat,sun 04:10"], "Asia/Kolkata", "skip", "false"),
        (["--every", "2s"], "UTC", "catch-up-one", "true"),
        (["--cron", "*/10 * * * *"], "Europe/Berlin", "skip", "false"),
    ],
)
def test_systemd_units_verify_and_elapse_on_the_rules_slots(
    cli: CLI, tmp_path: Path, rule: list[str], timezone: str, missed: str, persistent: str
) -> None:
    analyze = _systemd_analyze()
    write_plan(cli.cwd, INVARIANTS, "inv plan.yaml")  # a space: ExecStart quoting
    added = cli(
        "schedule", "add", "inv", "inv plan.yaml", *rule, "--timezone", timezone,
        "--missed", missed, "--var", "MODE=100%",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    out = tmp_path / "units"
    exported = cli("schedule", "export", "--systemd", "inv", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    service, timer = (out / "inv.service").read_text(), (out / "inv.timer").read_text()
    assert f"Persistent={persistent}" in timer
    assert '"MODE=100%%"' not in service and "MODE=100%%" in service  # % is a specifier
    assert "--schedule inv" in service and '"' + str(cli.cwd / "inv plan.yaml") + '"' in service
    verified = subprocess.run(
        [analyze, "verify", "--man=no", str(out / "inv.timer"), str(out / "inv.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr
    assert "inv." not in verified.stderr, verified.stderr  # no warning about our units
    if rule[0] == "--every":
        return  # slots every 2 s: the two clocks below would race
    calendar = re.search(r"^OnCalendar=(.*)$", timer, re.M)
    assert calendar is not None
    elapses = subprocess.run(
        [analyze, "calendar", "--iterations=4", calendar[1]],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )
    assert elapses.returncode == 0, elapses.stderr
    found = [
        datetime.strptime(m, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
        for m in re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", elapses.stdout)
    ]
    kind, text = rule[0].removeprefix("--"), rule[1]
    ours = parse_rule(
        cron=text if kind == "cron" else None,
        every=None,
        calendar=text if kind == "calendar" else None,
        timezone=timezone,
    )
    slot, expected = time.time(), []
    for _ in range(4):
        slot = ours.next_after(slot)
        expected.append(slot)
    assert found == expected


def test_a_rule_systemd_cannot_say_is_refused_with_why(cli: CLI, tmp_path: Path) -> None:
    write_plan(cli.cwd, INVARIANTS, "inv.yaml")
    for name, rule, why in [
        ("a", ["--cron", "0 2 1 * 1"], "day of month OR the weekday"),
        ("b", ["--every", "7s"], "divides a minute, hour or day"),
        ("c", ["--cron", "0 2 L * *"], "L, W and #"),
    ]:
        assert cli("schedule", "add", name, "inv.yaml", *rule).returncode == 0
        result = cli("schedule", "export", "--systemd", name, "-o", str(tmp_path))
        assert result.returncode == 2 and why in result.stderr, result.stderr
