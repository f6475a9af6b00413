"""A step's log keeps at most ``defaults.log_limit`` bytes of one attempt's output (16 MiB
unless the plan says otherwise): a runaway step cannot fill the journal's disk. Past the
limit one line says so, the rest is counted and not kept, the terminal stops echoing it, and
the command runs on: its exit status and its outputs count as before."""

from __future__ import annotations

import json

from phasegate.plan.model import LOG_LIMIT
from tests.conftest import CLI, write_plan

LIMIT = 64 * 1024
LINE = "y" * 99  # 100 bytes with its newline


def test_output_past_the_limit_is_counted_not_kept_and_the_step_runs_on(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: chatty
        defaults: {{log_limit: 64KiB}}
        phases:
          - id: p
            steps:
              - id: flood
                run: |
                  for i in $(seq 1 2000); do echo {LINE}; done
                  echo "result=kept-anyway" >> "$PHASEGATE_OUTPUT"
                  echo "LAST-$((40 + 2))"
            gates:
              - expr: "steps.flood.outputs.result == 'kept-anyway'"
        """,
    )
    run = cli("run", str(plan))
    assert run.returncode == 0, run.stderr
    # The terminal echoed only what the log kept, then said why it stopped.
    assert sum(line.endswith(LINE) for line in run.stdout.splitlines()) <= LIMIT // 100
    assert "LAST-42" not in run.stdout
    assert "p/flood: log limit reached" in run.stdout + run.stderr
    log = cli("logs", "last", "flood").stdout
    kept = log.splitlines().count(LINE)  # the output's lines (the header quotes the command)
    assert LIMIT // 100 - 5 <= kept <= LIMIT // 100
    assert "LAST-42" not in log
    assert "[phasegate] log limit of 65536 bytes reached (defaults.log_limit)" in log
    not_kept = (2000 - kept) * 100 + len("LAST-42\n")
    assert "=== exit 0 in " in log and f"({not_kept} bytes of output not kept)" in log
    # The command ran to its end: the output it wrote after the limit passed the gate.
    status = json.loads(cli("status", "last", "--json").stdout)
    assert status["run"]["status"] == "succeeded"


def test_a_log_under_the_limit_is_whole_and_says_nothing_of_it(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: quiet
        phases:
          - id: p
            steps:
              - id: some
                run: for i in $(seq 1 500); do echo {LINE}; done
        """,
    )
    assert cli("run", str(plan)).returncode == 0
    log = cli("logs", "last", "some").stdout
    assert log.splitlines().count(LINE) == 500 and "log limit" not in log and "not kept" not in log
    assert LOG_LIMIT == 16 * 1024 * 1024


def test_a_bad_limit_is_refused_with_its_location(cli: CLI) -> None:
    for value, words in (
        ("12", "must be at least 4096, got 12"),
        ("lots", "'lots' is not a size"),
        ("12 parsecs", "16MiB"),
    ):
        plan = write_plan(
            cli.cwd,
            f"""
            version: 1
            name: bad
            defaults: {{log_limit: {value}}}
            phases:
              - id: p
                steps:
                  - {{id: s, run: "true"}}
            """,
        )
        shown = cli("validate", str(plan))
        assert shown.returncode == 2, shown.stdout
        said = shown.stdout + shown.stderr
        assert "defaults.log_limit" in said and words in said, said
        assert "Traceback" not in said
