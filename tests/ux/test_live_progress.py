"""Live progress on a terminal: elapsed time, items done of total, the running item and the
countdown of a pause or bake; none of it in a pipe (issue 10 §3 CLI)."""

from __future__ import annotations

import re

from tests.conftest import CLI, write_plan
from tests.ux.helpers import on_terminal

PLAN = """
version: 1
name: slow
phases:
  - id: a
    steps:
      - {id: one, run: "echo one; sleep 1"}
      - {id: wait, pause: 2s}
      - {id: two, run: "true"}
"""


def test_a_terminal_shows_elapsed_done_of_total_and_the_countdown(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    code, out = on_terminal(cli, "run", str(plan))
    assert code == 0, out
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    assert re.search(r"elapsed · 0/3 items done · running a/one \(\d+", plain), plain
    assert re.search(r"elapsed · 1/3 items done · a/wait: pause [\d.]+m?s left", plain), plain
    # The countdown counts down.
    lefts = [float(x) for x in re.findall(r"a/wait: pause ([\d.]+)s left", plain)]
    assert len(lefts) >= 2 and lefts[0] > lefts[-1]
    # Printed lines stay; the progress line goes when the run ends.
    assert "step echo one; sleep 1 succeeded" in plain
    assert plain.rstrip().endswith("succeeded")
    # With NO_COLOR the line is still there, without colour.
    code, out = on_terminal(cli, "run", str(plan), env={"NO_COLOR": "1"})
    assert code == 0 and "items done" in out and "\x1b[2m" not in out


def test_no_progress_line_outside_a_terminal(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    result = cli("run", str(plan))
    assert result.returncode == 0, result.stderr
    both = result.stdout + result.stderr
    assert "elapsed" not in both and "items done" not in both and "\x1b[" not in both
