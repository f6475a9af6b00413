"""The `cli` fixture's forked commands behave as a fresh `python -m phasegate` does: same exit
status, stdout and stderr, environment and working directory of their own, stdin, timeouts
(tests/cli_forks.py). If they did not, every test using the fixture would test something else
than what users run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import cli_forks
from tests.conftest import CLI, write_plan

GOOD = """\
version: 1
name: same
phases:
  - id: one
    steps: [{name: hello, run: "echo hello-from-step; echo to-stderr >&2"}]
"""

BAD = """\
version: 1
name: bad
phases:
  - id: one
    steps: [{name: s, run: "true", timeout: soon}]
"""


def fresh(cli: CLI, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phasegate", *args],
        cwd=cli.cwd,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=120,
        input=input,
    )


def forked(cli: CLI, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return cli_forks.run(list(args), cwd=cli.cwd, env=cli.env(), timeout=120, input=input)


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "good.yaml"),
        ("validate", "bad.yaml"),  # located error, exit 2
        ("validate", "missing.yaml"),
        ("nosuchverb",),
        ("run", "good.yaml", "--bogus"),
        ("--version",),
        ("status", "--help"),
    ],
)
def test_a_forked_command_says_and_exits_what_a_fresh_interpreter_does(
    cli: CLI, args: tuple[str, ...]
) -> None:
    write_plan(cli.cwd, GOOD, "good.yaml")
    write_plan(cli.cwd, BAD, "bad.yaml")
    a, b = fresh(cli, *args), forked(cli, *args)
    assert (b.returncode, b.stdout, b.stderr) == (a.returncode, a.stdout, a.stderr)


def test_runs_and_reads_agree_and_each_command_is_its_own_process(cli: CLI) -> None:
    plan = write_plan(cli.cwd, GOOD, "good.yaml")
    ran = forked(cli, "run", str(plan))
    assert ran.returncode == 0, ran.stderr
    assert "hello-from-step" in ran.stderr or "hello-from-step" in ran.stdout
    a, b = fresh(cli, "status", "last"), forked(cli, "status", "last")
    assert (b.returncode, b.stdout) == (a.returncode, a.stdout)
    owner = forked(cli, "status", "last", "--json")
    assert owner.returncode == 0
    assert f'"pid": {os.getpid()}' not in owner.stdout  # the run's owner was not this process
    logs_a, logs_b = fresh(cli, "logs", "last"), forked(cli, "logs", "last")
    assert logs_b.stdout == logs_a.stdout and "to-stderr" in logs_b.stdout


def test_environment_directory_and_stdin_are_the_commands_own(cli: CLI, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    plan = write_plan(
        other,
        """\
        version: 1
        name: env
        phases:
          - id: one
            steps: [{name: s, run: "pwd > where; echo $ONLY_HERE > seen; cat > stdin-copy"}]
        """,
    )
    env = {**cli.env(), "ONLY_HERE": "value-for-this-command"}
    done = cli_forks.run(["run", str(plan)], cwd=other, env=env, timeout=120, input="typed\n")
    assert done.returncode == 0, done.stderr
    assert (other / "where").read_text().strip() == str(other)
    assert (other / "seen").read_text().strip() == "value-for-this-command"
    # A step's stdin is not the command's (it is closed for steps): the file is empty either way.
    assert (other / "stdin-copy").read_text() == ""
    later = cli_forks.run(["run", str(plan)], cwd=other, env=cli.env(), timeout=120, input=None)
    assert later.returncode == 0
    assert (other / "seen").read_text().strip() == ""  # nothing left over from the last one


def test_a_timeout_kills_the_command_and_raises_as_subprocess_does(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """\
        version: 1
        name: slow
        phases:
          - id: one
            steps: [{name: s, run: "touch begun; sleep 60"}]
        """,
    )
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        cli_forks.run(["run", str(plan)], cwd=cli.cwd, env=cli.env(), timeout=3, input=None)
    assert time.monotonic() - started < 60  # it did not wait for the step
    assert (cli.cwd / "begun").exists()
    status = fresh(cli, "status", "last")
    assert status.returncode == 0
    assert "RUNNING (owner dead — resumable" in status.stdout, status.stdout  # killed, as -9 does
