"""A decision (`pause: {until: approve, choose: {var, options}}`): approving it without naming
an option must never run none of the options, or the wrong one. Real CLI processes; the choice
reaches a resume (a new process) only through the journal."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CLI, items, write_plan

PLAN = """
version: 1
name: choice
vars:
  METHOD: {default: ""}
phases:
  - id: upgrade
    steps:
      - name: decide
        pause: {until: approve, choose: {var: METHOD, options: [in-place, restore]}}
      - {name: in-place, run: "touch in-place", when: "vars.METHOD == 'in-place'"}
      - {name: restore, run: "touch restore", when: "vars.METHOD == 'restore'"}
      - {name: after, run: "touch after"}
"""


def _ran(cwd: Path) -> set[str]:
    return {name for name in ("in-place", "restore", "after") if (cwd / name).exists()}


def test_only_the_chosen_option_runs_and_the_choice_is_journalled_with_who(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    started = cli("run", str(plan), "--no-output")
    assert started.returncode == 4, started.stderr  # paused at the decision
    assert _ran(cli.cwd) == set()

    plain = cli("approve", "last")
    assert plain.returncode == 2
    assert "upgrade/decide is a decision" in plain.stderr
    assert "--choose OPTION; its options: in-place, restore" in plain.stderr
    wrong = cli("approve", "last", "--choose", "drop-everything")
    assert wrong.returncode == 2 and "choose one of: in-place, restore" in wrong.stderr
    assert cli.status()["decisions"] == []  # neither refused approval was recorded

    chose = cli("approve", "last", "--choose", "restore", "--comment", "safer")
    assert chose.returncode == 0, chose.stderr
    assert "choosing restore" in chose.stdout
    resumed = cli("resume", "last", "--no-output")
    assert resumed.returncode == 0, resumed.stderr
    assert _ran(cli.cwd) == {"restore", "after"}
    status = cli.status()
    found = items(status)
    assert found["upgrade/in-place"]["status"] == "skipped"
    assert found["upgrade/restore"]["status"] == "succeeded"
    assert "chose METHOD=restore" in found["upgrade/decide"]["message"]
    [decision] = status["decisions"]
    assert (decision["decision"], decision["choice"], decision["comment"]) == (
        "approved",
        "restore",
        "safer",
    )
    shown = cli("status", "last")
    assert "approved upgrade/decide by" in shown.stdout
    assert "choosing restore: safer" in shown.stdout


def test_promote_cannot_pass_a_decision_without_a_choice(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert cli("run", str(plan), "--no-output").returncode == 4
    promoted = cli("promote", "last", "--no-output")
    assert promoted.returncode == 2, promoted.stdout + promoted.stderr
    assert "--choose" in promoted.stderr
    assert cli.status()["decisions"] == [] and _ran(cli.cwd) == set()


def test_a_choice_is_refused_where_nothing_offers_one(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: plain
        phases:
          - id: p
            steps:
              - pause: approve
              - run: touch done
        """,
    )
    assert cli("run", str(plan), "--no-output").returncode == 4
    refused = cli("approve", "last", "--choose", "a")
    assert refused.returncode == 2 and "offers a choice" in refused.stderr
    assert cli("approve", "last").returncode == 0


def test_a_decision_names_a_declared_plain_variable(cli: CLI) -> None:
    undeclared = write_plan(
        cli.cwd,
        """
        version: 1
        name: bad
        phases:
          - id: p
            steps:
              - pause: {until: approve, choose: {var: WHICH, options: [a, a]}}
        """,
    )
    checked = cli("validate", str(undeclared))
    assert checked.returncode == 2
    assert "bad.yaml" not in checked.stderr  # the file is plan.yaml
    assert "plan.yaml:6" in checked.stderr
    assert "the decision's variable 'WHICH' is not declared" in checked.stderr
    assert "a decision's options must be distinct" in checked.stderr
    timed = write_plan(
        cli.cwd,
        """
        version: 1
        name: bad
        vars: {WHICH: {default: ""}}
        phases:
          - id: p
            steps:
              - pause: {duration: 1s, choose: {var: WHICH, options: [a]}}
        """,
        name="timed.yaml",
    )
    checked = cli("validate", str(timed))
    assert checked.returncode == 2
    assert "`choose` belongs to `until: approve`" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_an_imported_choice_of_options_runs_only_the_chosen_one(cli: CLI) -> None:
    doc = cli.cwd / "UPGRADE.md"
    doc.write_text(
        "# Upgrade\n\n## Step 1: Upgrade the database\n\n"
        "**Option A: In-place upgrade** (faster)\n\n```bash\ntouch in-place\n```\n\n"
        "**Option B: Backup and restore** (slower, safer)\n\n```bash\ntouch restore\n```\n\n"
        "## Step 2: Verify\n\n```bash\ntouch after\n```\n",
        encoding="utf-8",
    )
    started = cli("run", str(doc), "--yes", "--no-output")
    assert started.returncode == 4, started.stdout + started.stderr
    assert _ran(cli.cwd) == set()
    waiting = [i for i in items(cli.status()).values() if i["status"] == "awaiting_approval"]
    [decision] = waiting
    assert "option-a-in-place-upgrade" in decision["name"]
    assert cli("approve", "last").returncode == 2  # no silent "none of them"
    chose = cli("approve", "last", "--choose", "option-b-backup-and-restore")
    assert chose.returncode == 0, chose.stderr
    resumed = cli("resume", "last", "--no-output")
    assert resumed.returncode == 0, resumed.stderr
    assert _ran(cli.cwd) == {"restore", "after"}
