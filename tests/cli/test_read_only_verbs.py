"""Read verbs on a full disk, journal write errors, report -o and empty run ids
(issue 10 §2.7), with real CLI processes on a real (tiny tmpfs) file system."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLI, write_plan

PLAN = """
    version: 1
    name: small
    phases:
      - id: p
        steps:
          - {id: first, run: "echo first >> ledger"}
          - {id: second, run: "echo second >> ledger"}
"""


def digest(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def test_read_verbs_work_on_a_full_disk_and_write_nothing(cli: CLI, tiny_state: Path) -> None:
    cli.state_dir = tiny_state / "state"
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan), "--no-output").returncode == 0
    run_id = cli.json("history", "--json")[0]["id"]
    # fill the file system to the last byte
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={tiny_state / 'fill'}", "bs=4k"],
        capture_output=True,
        check=False,
    )
    before = digest(cli.state_dir)
    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["run"]["status"] == "succeeded"
    history = cli("history", "--json")
    assert history.returncode == 0, history.stderr
    assert [r["id"] for r in json.loads(history.stdout)] == [run_id]
    logs = cli("logs", "last")
    assert logs.returncode == 0, logs.stderr
    report = cli("report", "last")
    assert report.returncode == 0 and run_id in report.stdout, report.stderr
    check = cli("check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["integrity_check"] == ["ok"]
    assert digest(cli.state_dir) == before
    # a verb that writes says the disk is full, and that nothing ran (exit 2)
    again = cli("run", str(plan), "--no-output")
    assert again.returncode == 2, again.stderr
    assert "disk is full" in again.stderr and "nothing ran" in again.stderr


def test_a_journal_write_error_after_steps_ran_is_not_exit_2(cli: CLI) -> None:
    """An immutable journal (chattr +i, set by a step mid-run) fails writes with EPERM, which
    SQLite reports as an I/O error on a disk with plenty of space."""
    cli.state_dir.mkdir(parents=True)
    probe = cli.state_dir / "probe"
    probe.touch()
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    files = [cli.state_dir / "phasegate.db", cli.state_dir / "phasegate.db-wal"]
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: frozen-midway
        phases:
          - id: p
            steps:
              - {{id: first, run: "echo first >> ledger"}}
              - {{id: freeze, run: "chattr +i {files[0]} {files[1]}"}}
              - {{id: last, run: "echo last >> ledger"}}
        """,
    )
    try:
        result = cli("run", str(plan), "--no-output")
    finally:
        subprocess.run(["chattr", "-i", *map(str, files)], check=True)
    assert result.returncode == 130, (result.returncode, result.stderr)
    assert "cannot write" in result.stderr and "resume" in result.stderr
    assert "disk is full" not in result.stderr and "Traceback" not in result.stderr
    assert (cli.cwd / "ledger").read_text() == "first\n"  # a step had run
    resumed = cli("resume", "last", "--no-output")
    if resumed.returncode == 4:  # the freeze step's end was not recorded: a human decides
        resumed = cli("resume", "last", "--mark-done", "p/freeze", "--no-output")
    assert resumed.returncode == 0, resumed.stderr
    assert (cli.cwd / "ledger").read_text() == "first\nlast\n"
    assert cli("check").returncode == 0


def test_report_into_a_missing_directory_names_the_path(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan), "--no-output").returncode == 0
    target = cli.cwd / "no" / "such" / "dir" / "report.md"
    done = cli("report", "last", "-o", str(target))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert str(target.parent) in done.stderr and "does not exist" in done.stderr
    assert "internal error" not in done.stderr
    assert not target.parent.exists()


@pytest.mark.parametrize("ref", ["", "   "])
def test_an_empty_run_id_is_refused_not_resolved(cli: CLI, ref: str) -> None:
    plan = write_plan(cli.cwd, PLAN)
    for _ in range(2):
        assert cli("run", str(plan), "--no-output").returncode == 0
    for verb in ("status", "logs", "report"):
        done = cli(verb, ref)
        assert done.returncode == 2, (verb, done.stdout)
        assert "empty run id" in done.stderr
        assert done.stdout == ""
