"""`phasegate windows PLAN --at TIME` as a user runs it: a real CLI process (issue 13 §1)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests import cli_forks

PLAN = """\
version: 1
name: plms
windows:
  timezone: America/New_York
  allow:
    - {days: [mon, tue, wed, thu], hours: "09:00-16:00"}
    - {days: [sat, sun], risk: [none, low]}
  deny:
    - {days: [mon, tue, wed, thu, fri], hours: "09:30-09:45", reason: stand-up}
phases:
  - id: docs
    risk: low
    steps: [{run: "true"}]
  - id: migrate
    risk: medium
    steps: [{run: "true"}]
  - id: cutover
    steps: [{run: "true"}]
"""


def phasegate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = ["--no-color", *args]
    return cli_forks.phasegate(argv, cwd=cwd, env=dict(os.environ), timeout=60)


def test_json_per_phase_at_a_saturday(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    done = phasegate(
        "windows", "plan.yaml", "--at", "2026-12-05T12:00-05:00", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    phases = {p["id"]: p for p in shown["phases"]}
    assert phases["docs"]["open"] is True and phases["docs"]["rule"] == "allow[1]"
    # Open now: it closes at Monday 00:00 ET and opens again Monday 09:00 ET.
    assert phases["docs"]["next_close"] == "2026-12-07T05:00:00+00:00"
    assert phases["docs"]["next_open"] == "2026-12-07T14:00:00+00:00"
    assert phases["migrate"]["open"] is False
    assert phases["migrate"]["next_open"] == "2026-12-07T14:00:00+00:00"
    assert phases["migrate"]["next_close"] == "2026-12-07T14:30:00+00:00"  # the stand-up
    assert phases["cutover"]["risk"] == "high" and phases["cutover"]["risk_declared"] is False
    assert phases["cutover"]["open"] is False


def test_text_names_the_stand_up_and_the_next_opening(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    done = phasegate(
        "windows", "plan.yaml", "--at", "2026-12-07T14:35Z", "--risk", "medium", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "closed: deny[0] (stand-up) denies" in lines[1]
    assert lines[2].strip() == "phases: migrate"
    assert lines[3].split() == ["opens:", "Mon", "2026-12-07", "09:45", "EST"]
    assert lines[4].split() == ["closes:", "Mon", "2026-12-07", "16:00", "EST"]
    assert "docs" not in done.stdout and "cutover" not in done.stdout


def test_a_time_without_offset_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    done = phasegate("windows", "plan.yaml", "--at", "2026-12-07T09:35", cwd=tmp_path)
    assert done.returncode == 2
    assert "no UTC offset" in done.stderr and "Traceback" not in done.stderr


def test_a_plan_without_windows_is_always_open(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        PLAN.split("windows:", maxsplit=1)[0] + "phases:" + PLAN.split("phases:")[1]
    )
    done = phasegate("windows", "plan.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no windows" in done.stdout
