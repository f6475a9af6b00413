"""What the run console prints: singular and plural, names not list reprs, an alert once per
firing, a duration-budget overrun said when it happens, and colour only when wanted
(issue 10 §3 CLI)."""

from __future__ import annotations

import re

from tests.conftest import CLI, write_plan
from tests.ux.helpers import events, on_terminal

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_one_rollback_action_and_one_consecutive_failure_are_singular(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: words
        triggers:
          - {name: alarm, check: {command: "test ! -f alarm"}, every: 100ms, fail_after: 1}
        phases:
          - id: p
            steps:
              - {id: arm, run: "true", undo: "true"}
              - {id: trip, run: "touch alarm; sleep 5", timeout: 20s}
        """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 1, result.stderr
    out = result.stderr
    assert "run " in out and "(1 phase)" in out
    assert "tripped after 1 consecutive failure:" in out
    assert "rolling back (1 action)" in out
    assert not re.search(r"\b1 (actions|phases|consecutive failures)\b", out), out


def test_two_are_plural(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: words2
        phases:
          - id: a
            steps: [{id: one, run: "true", undo: "true"}, {id: two, run: "true", undo: "true"}]
          - id: b
            needs: [a]
            steps: [{run: "false"}]
        """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 1
    assert "(2 phases)" in result.stderr
    assert "rolling back (2 actions)" in result.stderr


def test_approved_by_names_people_not_a_python_list(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: gonogo
        phases:
          - id: p
            steps: [{run: "true"}]
            gates: [{manual: "Go / no-go", id: go}]
        """,
    )
    assert cli("run", str(plan)).returncode == 4
    assert cli("approve", "last").returncode == 0
    resumed = cli("resume", "last")
    assert resumed.returncode == 0, resumed.stderr
    line = next(x for x in resumed.stderr.splitlines() if "gate" in x and "passed" in x)
    assert "approved by " in line
    assert "[" not in line and "'" not in line, line


def test_an_alert_prints_when_it_fires_not_on_every_evaluation(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: alerting
        triggers:
          - {name: noisy, check: {command: "test ! -f bad"}, every: 50ms, action: alert}
        phases:
          - id: p
            steps:
              - id: fail-for-a-while
                run: "touch bad; sleep 1; rm bad; sleep 0.6; touch bad; sleep 1"
        """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 0, result.stderr
    # Two firings (bad, recovered, bad again) over ~40 failing evaluations: two lines, two
    # journal entries, one recovery.
    assert result.stderr.count("trigger noisy tripped") == 2, result.stderr
    assert result.stderr.count("trigger noisy recovered") == 1, result.stderr
    tripped = [d for e, d in events(cli) if e == "trigger.tripped"]
    assert len(tripped) == 2
    status = cli.status()
    assert status["triggers"]["noisy"]["evaluations"] > 10
    assert len([w for w in status["warnings"] if w["item"] == "trigger:noisy"]) == 2


def test_a_duration_budget_overrun_is_printed_and_journalled(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: slow
        budget: {duration: 500ms}
        phases:
          - id: p
            steps: [{run: "sleep 1.2"}, {run: "true"}]
        """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("run exceeded its duration budget of 500ms; the run continues") == 1
    warnings = [d for e, d in events(cli) if e == "warning" and d.get("budget") == "duration"]
    assert [w["message"] for w in warnings] == ["run exceeded its duration budget of 500ms"]


SIMPLE = """
version: 1
name: colours
phases:
  - id: p
    steps: [{run: "echo hi"}]
"""


def test_colour_on_a_terminal_and_none_with_no_color(cli: CLI) -> None:
    plan = write_plan(cli.cwd, SIMPLE)
    code, out = on_terminal(cli, "run", str(plan))
    assert code == 0, out
    assert ANSI.search(out), "a terminal gets colour by default"
    for args, env in (
        (("run", str(plan)), {"NO_COLOR": "1"}),
        (("--no-color", "run", str(plan)), None),
        (("run", "--no-color", str(plan)), None),
        (("status", "--no-color"), None),
        (("plan", str(plan), "--no-color"), None),
    ):
        code, out = on_terminal(cli, *args, env=env)
        assert code == 0, out
        # No colour or other SGR attribute; the progress line's cursor moves are not colour.
        assert not ANSI.search(out), (args, env, out)


def test_no_colour_when_not_a_terminal(cli: CLI) -> None:
    plan = write_plan(cli.cwd, SIMPLE)
    result = cli("run", str(plan), env={"NO_COLOR": ""})
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout + result.stderr


def test_words() -> None:
    from phasegate.words import names, plural

    assert [plural(n, "action") for n in (0, 1, 2)] == ["0 actions", "1 action", "2 actions"]
    assert plural(1, "consecutive failure") == "1 consecutive failure"
    assert plural(2, "retry") == "2 retries" and plural(3, "analysis") == "3 analyses"
    assert names(["alice", "bob"]) == "alice, bob"


def test_check_counts_one_run_in_the_singular(cli: CLI) -> None:
    plan = write_plan(cli.cwd, SIMPLE)
    assert cli("run", str(plan)).returncode == 0
    out = cli("check").stdout
    assert out.startswith("1 run, ") and " events, schema" in out


def test_cli_logs_of_a_running_step_show_its_output_so_far(cli: CLI) -> None:
    import time

    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: chatty
        phases:
          - id: p
            steps:
              - id: talk
                run: echo first line; for i in $(seq 1200); do [ -f release ] && break;
                  sleep 0.1; done; [ -f release ]
        """,
    )
    proc = cli.spawn("run", str(plan))
    try:
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline and "first line" not in text:
            result = cli("logs", "last", "talk")
            text = result.stdout if result.returncode == 0 else ""
            time.sleep(0.1)
        assert "first line" in text
        assert cli.status()["phases"][0]["items"][0]["status"] == "running"
        (cli.cwd / "release").touch()
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    finally:
        (cli.cwd / "release").touch()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
