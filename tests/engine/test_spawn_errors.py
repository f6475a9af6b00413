"""A command that cannot start is the step's failure, with why and what to do, and the run
rolls back normally (issue 10 §2.5): before, a `run:` over 128 KiB raised E2BIG out of the
executor and crashed the engine, leaving the run `running`."""

from __future__ import annotations

from tests.conftest import CLI, items, write_plan

PLAN = """
    version: 1
    name: spawn
    phases:
      - id: p
        steps:
          - {id: mark, run: "touch marked", undo: "rm -f marked; echo undone >> ledger"}
          - {id: bad, ARG}
"""


def _run(cli: CLI, step: str) -> tuple[int, str, dict[str, object]]:
    plan = write_plan(cli.cwd, PLAN.replace("ARG", step))
    result = cli("run", str(plan))
    assert "Traceback" not in result.stderr, result.stderr
    bad = items(cli.status())["p/bad"]
    return result.returncode, result.stdout + result.stderr, bad


def test_a_command_over_128_kib_fails_its_step_with_e2big_and_rolls_back(cli: CLI) -> None:
    huge = "x" * (140 * 1024)
    code, output, bad = _run(cli, f'run: "echo {huge} > out"')
    assert code == 1
    assert cli.status()["run"]["status"] == "rolled_back"
    assert bad["status"] == "failed"
    message = str(bad["message"])
    assert "argument list too long (E2BIG): a 140 KB command" in message
    assert "put it in a script file" in message
    assert "E2BIG" in output
    assert not (cli.cwd / "marked").exists()
    assert (cli.cwd / "ledger").read_text() == "undone\n"


def test_a_missing_working_directory_fails_its_step_and_rolls_back(cli: CLI) -> None:
    code, _, bad = _run(cli, 'run: "true", cwd: "no/such/dir"')
    assert code == 1
    assert bad["status"] == "failed"
    assert "working directory" in str(bad["message"]) and "no/such/dir" in str(bad["message"])
    assert (cli.cwd / "ledger").read_text() == "undone\n"


def test_a_nul_byte_in_an_argument_fails_its_step_and_rolls_back(cli: CLI) -> None:
    code, _, bad = _run(cli, 'run: ["echo", "a\\0b"]')
    assert code == 1
    assert bad["status"] == "failed"
    assert "NUL" in str(bad["message"])
    assert (cli.cwd / "ledger").read_text() == "undone\n"
