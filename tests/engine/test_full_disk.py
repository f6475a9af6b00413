"""A full disk stops the run resumable; nothing recorded is lost or corrupted."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import CLI, items, write_plan


def test_disk_full_mid_run_then_resume_after_space_is_freed(cli: CLI, tiny_state: Path) -> None:
    cli.state_dir = tiny_state / "state"
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: fills-disk
        phases:
          - id: p
            steps:
              - {id: first, run: "echo first >> ledger"}
              - id: noisy
                run: "head -c 3000000 /dev/zero | tr '\\\\0' x | fold -w 100; echo noisy >> ledger"
              - {id: last, run: "echo last >> ledger"}
    """,
    )
    result = cli("run", str(plan), "--no-output")
    assert result.returncode == 130, result.stderr
    assert "disk is full" in result.stderr
    assert "Traceback" not in result.stderr
    assert "resume" in result.stderr
    # what was committed is intact and consistent, even read on the full disk
    assert cli("check").returncode == 0
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_state)], check=True)
    resumed = cli("resume", "last", "--no-output")
    if resumed.returncode == 4:  # the noisy step's end was not recorded: operator decides
        unknown = cli.status()["pause"]["items"]
        assert unknown == ["p/noisy"]
        assert (cli.cwd / "ledger").read_text().count("noisy") == 1
        resumed = cli("resume", "last", "--mark-done", "p/noisy", "--no-output")
    assert resumed.returncode == 0, resumed.stderr
    assert (cli.cwd / "ledger").read_text() == "first\nnoisy\nlast\n"
    found = items(cli.status())
    assert found["p/first"]["attempt"] == 1
    assert cli("check").returncode == 0
