"""General rules behind the second round of corpus findings (issue 11 §1, §6): each test is a
small synthetic document of the class, never a corpus document."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, rules, triggers
from tests.conftest import CLI


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _forward(data: dict[str, Any]) -> list[str]:
    return [s["run"] for p in data["phases"] for s in p.get("steps", []) if "run" in s]


def _rollback(data: dict[str, Any]) -> list[str]:
    return [a["run"] for p in data["phases"] for a in p.get("rollback", [])]


@pytest.mark.parametrize(
    ("title", "rollback"),
    [
        ("restore all", False),
        ("Restore everything", False),
        ("Restore the dump into the new cluster", False),
        ("Restore data into the target", False),
        ("Restore all previous configs", True),
        ("Restore all from backup", True),
        ("Restore backup", True),
        ("Restore previous version", True),
        ("Rollback", True),
    ],
)
def test_restore_is_a_rollback_word_only_for_an_earlier_state(title: str, rollback: bool) -> None:
    assert rules.is_rollback_title(title) is rollback


def test_a_bulk_restore_in_a_migration_runs_forward_in_order() -> None:
    data = _plan(
        """\
        # Move the database

        ## dump the source

        ```bash
        pg_dump -Fc -U app appdb > app.dump
        ```

        ## restore all

        ```bash
        pg_restore -U app -d appdb app.dump
        ```

        ## Restore previous version

        ```bash
        kubectl rollout undo deployment/app
        ```
        """
    )
    forward = _forward(data)
    assert forward == ["pg_dump -Fc -U app appdb > app.dump", "pg_restore -U app -d appdb app.dump"]
    assert _rollback(data) == ["kubectl rollout undo deployment/app"]


def test_stop_and_read_the_runbook_thresholds_pause_for_a_human() -> None:
    data = _plan(
        """\
        # Rollout

        ## Deploy

        ```bash
        ./deploy.sh
        ```

        ## Rollback trigger thresholds

        Any of these, at any stage, means "stop and go read
        `docs/ROLLBACK_RUNBOOK.md`", not "wait and see":

        - Error rate > 2% for 5 minutes
        - p99 latency > 900ms
        """
    )
    triggers = data.get("triggers", [])
    assert len(triggers) == 2
    assert {t["action"] for t in triggers} == {"pause"}


def test_rollback_thresholds_without_a_stop_to_look_still_roll_back() -> None:
    data = _plan(
        """\
        # Rollout

        ## Deploy

        ```bash
        ./deploy.sh
        ```

        ## Automatic rollback triggers

        - Error rate > 2% for 5 minutes
        """
    )
    assert [t["action"] for t in data.get("triggers", [])] == ["rollback"]


def _manual_gates(data: dict[str, Any]) -> list[str]:
    return [g["manual"] for p in data["phases"] for g in p.get("gates", []) if "manual" in g]


def test_thresholds_of_alerts_being_tested_are_manual_checks_not_triggers() -> None:
    data = _plan(
        """\
        # Launch day

        ## Alert rules

        Verify each alert fires and is routed.

        - [ ] **Queue depth alert**
          - Threshold: > 500 messages for 10 min
          - Severity: P1
          - This one matters most: must work!
        - [ ] **Disk usage alert**
          - Threshold: > 90%
        """
    )
    assert data.get("triggers", []) == []
    manual = _manual_gates(data)
    assert "**Queue depth alert** — Threshold: > 500 messages for 10 min" in manual
    assert "**Disk usage alert** — Threshold: > 90%" in manual
    # the boxes themselves stay manual checks, in document order before their details
    assert manual.index("**Queue depth alert**") < manual.index(
        "**Queue depth alert** — Threshold: > 500 messages for 10 min"
    )


def test_a_lead_in_that_tests_alerts_makes_its_thresholds_manual_checks() -> None:
    data = _plan(
        """\
        # Launch day

        ## Monitoring

        Test at least one alert per category; expected: it fires and pages on-call.

        - Error rate > 1% for 5 minutes
        """
    )
    assert data.get("triggers", []) == []
    assert _manual_gates(data) == ["Error rate > 1% for 5 minutes"]


def test_alert_thresholds_outside_a_test_still_become_triggers() -> None:
    data = _plan(
        """\
        # Rollout

        ## Deploy

        ```bash
        ./deploy.sh
        ```

        ## Automatic rollback triggers

        - Error rate > 1% for 5 minutes
        """
    )
    assert [t["action"] for t in data.get("triggers", [])] == ["rollback"]


_OPTIONS_WITH_ROLLBACKS = """\
    # Upgrade

    ## Upgrade the database

    ### Option A: In-place upgrade

    ```bash
    ./upgrade-in-place.sh
    ```

    #### Rollback

    ```bash
    ./undo-in-place.sh
    ```

    ### Option B: Blue-green upgrade

    ```bash
    ./create-green.sh
    ```

    ```bash
    ./switch-to-green.sh
    ```

    #### Rollback

    ```bash
    ./switch-to-blue.sh
    ```
    """


def test_each_alternatives_rollback_runs_only_when_that_alternative_was_chosen() -> None:
    data = _plan(_OPTIONS_WITH_ROLLBACKS)
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    by_run = {s["run"]: s for s in steps}
    a, b = by_run["./upgrade-in-place.sh"], by_run["./create-green.sh"]
    assert a["when"] != b["when"] and "DECISION_" in a["when"]
    # the rollback of an option is a rollback action bound to that option's choice: it runs
    # on rollback when that option was chosen, also when the option's own step failed (an
    # undo would not: it runs only for a step that completed)
    assert not any("undo" in s for s in steps)
    actions = [a for p in data["phases"] for a in p.get("rollback", [])]
    assert actions == [
        {"run": "./undo-in-place.sh", "when": a["when"]},
        {"run": "./switch-to-blue.sh", "when": b["when"]},
    ]


def test_an_alternatives_second_rollback_action_runs_only_for_that_alternative() -> None:
    doc = _OPTIONS_WITH_ROLLBACKS.replace(
        "./switch-to-blue.sh\n    ```\n",
        "./switch-to-blue.sh\n    ```\n\n    ```bash\n    ./delete-green.sh\n    ```\n",
    )
    data = _plan(doc)
    b_when = next(
        s["when"] for p in data["phases"] for s in p["steps"] if s.get("run") == "./create-green.sh"
    )
    assert _rollback(data) == [
        "./undo-in-place.sh",
        "./switch-to-blue.sh",
        "./delete-green.sh",
    ]
    actions = [a for p in data["phases"] for a in p.get("rollback", [])]
    assert [a["when"] for a in actions][1:] == [b_when, b_when]
    assert not any("delete-green" in s.get("run", "") for p in data["phases"] for s in p["steps"])


@pytest.mark.parametrize(
    ("choice", "undone", "own_failure"), [("a", "undo-a", True), ("b", "undo-b", False)]
)
def test_a_run_rolls_back_only_the_chosen_alternative(
    cli: CLI, choice: str, undone: str, own_failure: bool
) -> None:
    """Real runs: option chosen, then its own step fails ("if the upgrade fails, roll back")
    or a later gate fails; the rollback runs that option's rollback alone."""
    doc = """\
        # Upgrade

        ## Upgrade the database

        ### Option A: In-place

        ```bash
        echo a >> log.txt
        OWN_FAILURE
        ```

        #### Rollback

        ```bash
        echo undo-a >> log.txt
        ```

        ### Option B: Blue-green

        ```bash
        echo b >> log.txt
        ```

        #### Rollback

        ```bash
        echo undo-b >> log.txt
        ```

        ## Verify

        ```bash
        false
        ```
        """
    doc = doc.replace("OWN_FAILURE", "false" if own_failure else "true")
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    assert cli("run", "plan.yaml").returncode == 4  # waits for the decision
    approved = cli(
        "approve",
        "last",
        "--choose",
        f"option-{choice}-{'in-place' if choice == 'a' else 'blue-green'}",
    )
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # failed, rolled back
    assert (cli.cwd / "log.txt").read_text().split() == [choice, undone]


@pytest.mark.parametrize(
    ("context", "action"),
    [
        ("Rollback thresholds\nAny of these means stop and go read the rollback runbook:", "pause"),
        ("Abort criteria\nIf any holds, halt and investigate before anything else:", "pause"),
        ("Rollback triggers\nStop, roll back, then check the logs:", "rollback"),
        ("Automatic rollback triggers", "rollback"),
    ],
)
def test_the_lead_ins_stop_and_look_decides_the_action(context: str, action: str) -> None:
    assert triggers.action_for(context, True) == action
