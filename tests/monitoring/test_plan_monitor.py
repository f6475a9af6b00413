"""`monitor:` is validated like the rest of a plan: each problem at its file:line:col with a
hint, and ``${VAR}`` durations when the run is created (exit 2, nothing ran)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CLI, write_plan

PLAN = """
version: 1
name: watched
vars:
  EVERY: 5m
triggers:
  - name: health
    check: {command: "true"}
phases:
  - id: deploy
    steps:
      - run: echo deployed > deployed
monitor:
  checks:
    - manual: look at the graphs
  triggers: [helth]
  schedule:
    - {every: "${EVERY}", fro: 1h}
    - {every: 2h, for: 1h}
  on_failure: rolback
  lock: hold
"""


def test_each_problem_of_a_monitor_block_is_located_with_a_hint(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    result = cli("validate", str(plan))
    assert result.returncode == 2
    err = result.stderr
    assert f"{plan}:17:27: monitor.schedule[0].fro: unknown key 'fro'" in err
    assert "did you mean 'for'?" in err
    assert f"{plan}:17:7: monitor.schedule[0].for: missing required key 'for'" in err
    assert f"{plan}:18:7: monitor.schedule[1]: `for` (3600s) is shorter than `every` (7200s)" in err
    assert f"{plan}:19:15: monitor.on_failure: must be 'rollback', 'pause' or 'alert'" in err
    assert f"{plan}:20:9: monitor.lock: must be 'release' or 'keep'" in err
    # Once the model is valid, the references: a manual check, an unknown trigger.
    fixed = (
        PLAN.replace("fro: 1h", "for: 1h")
        .replace("every: 2h", "every: 1h")
        .replace("rolback", "rollback")
        .replace("hold", "keep")
    )
    write_plan(cli.cwd, fixed)
    result = cli("validate", str(plan))
    assert result.returncode == 2
    assert f"{plan}:14:7: monitor.checks[0]: a manual check cannot be monitored" in result.stderr
    assert f"{plan}:15:14: monitor.triggers[0]: monitor.triggers names 'helth'" in result.stderr
    assert "did you mean 'health'?" in result.stderr


def test_a_variable_that_is_not_a_duration_refuses_the_run_before_anything_runs(
    cli: CLI,
) -> None:
    fixed = (
        PLAN.replace("fro: 1h", "for: 1h")
        .replace("every: 2h", "every: 1h")
        .replace("rolback", "rollback")
        .replace("hold", "keep")
        .replace("    - manual: look at the graphs\n", "    - command: 'true'\n")
        .replace("[helth]", "[health]")
    )
    plan = write_plan(cli.cwd, fixed)
    assert cli("validate", str(plan)).returncode == 0
    result = cli("run", str(plan), "--var", "EVERY=often")
    assert result.returncode == 2, result.stderr
    assert "monitor.schedule[0].every" in result.stderr and "often" in result.stderr
    assert "--var NAME=5m" in result.stderr
    assert not (cli.cwd / "deployed").exists()
    assert cli.json("history") == []


def test_plan_previews_the_monitoring_with_its_variables_expanded(cli: CLI) -> None:
    seed = Path(__file__).resolve().parents[2] / "examples" / "seeds" / "001-staged-framework.yaml"
    shown = cli.json("plan", str(seed), "--var", "SOURCE=/tmp", "--var", "TARGET=/tmp")
    monitor = shown["monitor"]
    assert monitor["schedule"] == [
        {"every": 300.0, "for": 3600.0},
        {"every": 3600.0, "for": 82800.0},
    ]
    assert (monitor["slots"], monitor["duration"]) == (35, 86400.0)
    assert monitor["checks"] == ["framework-health", "trigger:framework-files-missing"]
    assert (monitor["on_failure"], monitor["lock"]) == ("rollback", "keep")
    fast = cli.json("plan", str(seed), "--var", "MONITOR_EVERY=1s", "--var", "MONITOR_FIRST=3s")
    assert fast["monitor"]["schedule"][0] == {"every": 1.0, "for": 3.0}
    text = cli("plan", str(seed), "--var", "MONITOR_EVERY=often").stdout
    assert "after success, monitoring:" in text
    assert "monitor.schedule[0].every: invalid duration 'often'" in text


def test_monitoring_time_is_not_the_rollout_s_duration_budget(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: quick
        budget: {duration: 1s}
        phases:
          - id: deploy
            steps:
              - run: "true"
        monitor:
          checks:
            - command: "true"
          schedule:
            - {every: 0.5s, for: 2.5s}
        """,
    )
    result = cli("run", str(plan), timeout=60)
    assert result.returncode == 0, result.stderr
    doc = cli.status()
    # The run lasted past its 1 s budget (wall time) ... but its duration, the rollout's work
    # time, ends where monitoring began.
    assert doc["run"]["wall_time"] > 2.5
    assert doc["run"]["duration"] < 1.0
    assert doc["warnings"] == []  # ... monitoring, which the rollout's budget does not count
    assert "duration budget" not in result.stderr
