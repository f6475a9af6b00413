"""Ways to roll back, one or the other (issue 11 §1, §5): a rollback menu under a rollback
heading is a decision a person makes when the rollback comes; nothing runs unchosen."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from phasegate.engine import decide
from phasegate.errors import PlanError
from phasegate.markdown import import_markdown
from phasegate.plan.loader import load_plan_text
from tests.conftest import CLI

_MENU = """\
    # Deploy v2

    ## Step 1: Deploy

    ```bash
    echo deployed >> log.txt
    ```

    ## Step 2: Verify

    ```bash
    false
    ```

    ## Rollback

    ### Option A: revert the image

    ```bash
    echo reverted-image >> log.txt
    ```

    ### Option B: restore the snapshot

    ```bash
    echo restored-snapshot >> log.txt
    ```
    """


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "doc.md").data


def test_a_rollback_menu_is_a_decision_asked_on_rollback() -> None:
    data = _plan(_MENU)
    decided = [p for p in data["phases"] if "rollback_decision" in p]
    assert len(decided) == 1
    choice = decided[0]["rollback_decision"]
    assert choice["options"] == ["option-a-revert-the-image", "option-b-restore-the-snapshot"]
    actions = decided[0]["rollback"]
    assert [a["when"] for a in actions] == [
        f"vars.{choice['var']} == '{option}'" for option in choice["options"]
    ]
    # no forward step or decision asks it up front
    assert not any(
        "reverted" in str(s) or "restored" in str(s)
        for p in data["phases"]
        for s in p.get("steps", [])
    )


def test_sequential_rollback_steps_are_no_menu() -> None:
    doc = _MENU.replace("Option A: revert the image", "1. Stop traffic").replace(
        "Option B: restore the snapshot", "2. Restore the snapshot"
    )
    data = _plan(doc)
    assert not any("rollback_decision" in p for p in data["phases"])
    assert all("when" not in a for p in data["phases"] for a in p.get("rollback", []))


@pytest.mark.parametrize(
    ("choice", "ran"),
    [("option-b-restore-the-snapshot", "restored-snapshot")],
)
def test_only_the_chosen_way_back_runs(cli: CLI, choice: str, ran: str) -> None:
    """A real run: the verify step fails, the rollback pauses at the decision (nothing of
    either way has run), the operator chooses, resume runs that way alone."""
    (cli.cwd / "doc.md").write_text(textwrap.dedent(_MENU), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr  # paused for the decision
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed"]
    refused = cli("approve", "last")  # a decision is never approved without its choice
    assert refused.returncode != 0 and "--choose" in refused.stderr
    approved = cli("approve", "last", "--choose", choice)
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # failed, rolled back
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed", ran]
    status = json.loads(cli("status", "last", "--json").stdout)
    assert status["run"]["status"] == "rolled_back"


def test_a_rollback_decision_and_action_conditions_are_validated_where_written(
    tmp_path: Path,
) -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: x
        phases:
          - id: deploy
            rollback_decision:
              var: WAY
              options: [a, b]
            steps:
              - run: "true"
            rollback:
              - run: "echo a"
                when: "vars.WAY =="
        """
    )
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, tmp_path / "plan.yaml")
    said = [(p.line, p.message) for p in caught.value.problems]
    assert said[0] == (6, "the decision's variable 'WAY' is not declared")
    assert said[1][0] == 12 and said[1][1].startswith("invalid CEL expression 'vars.WAY =='")


def test_the_decision_comes_before_the_ways_it_chooses_between() -> None:
    """The rollback order: the decision first (the e2e test shows the run pauses there)."""
    plan = load_plan_text(
        textwrap.dedent(
            """\
            version: 1
            name: x
            vars: {WAY: {default: ''}}
            phases:
              - id: deploy
                rollback_decision: {var: WAY, options: [a, b]}
                steps: [{run: "true"}]
                rollback:
                  - {run: "echo a", when: "vars.WAY == 'a'"}
                  - {run: "echo b", when: "vars.WAY == 'b'"}
            """
        ),
        Path("plan.yaml"),
    ).plan
    order = [e["key"] for e in decide._phase_rollback(plan.phases[0])]
    assert order == ["rollback:deploy/decide", "rollback:deploy/1", "rollback:deploy/2"]


_WHO_DECIDES = """\
    # Upgrade the search fleet

    ## Upgrade

    ```bash
    echo upgraded >> log.txt
    ```

    ## Verify

    ```bash
    false
    ```

    ## Rollback

    ### Only if more than two nodes fail: the on-call lead decides on the full rollback

    ```bash
    echo full-rollback >> log.txt
    ```

    ### Otherwise: restart the one stuck node after the database team has looked at it

    ```bash
    echo restarted-node >> log.txt
    ```
    """


def test_the_person_asked_on_rollback_reads_each_way_in_the_documents_words(cli: CLI) -> None:
    """The ways' names are slugs cut at 40 characters; who decides and when is in the words
    after. The choice's description carries each way's heading whole, and the paused
    rollback's message shows it, so the person asked knows it is theirs to decide."""
    data = _plan(_WHO_DECIDES)
    (decided,) = [p for p in data["phases"] if "rollback_decision" in p]
    var = decided["rollback_decision"]["var"]
    described = data["vars"][var]["description"]
    assert "the on-call lead decides on the full rollback" in described
    assert "after the database team has looked at it" in described
    (cli.cwd / "doc.md").write_text(textwrap.dedent(_WHO_DECIDES), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr  # paused for the decision
    said = " ".join((first.stdout + first.stderr).split())
    assert "the on-call lead decides on the full rollback" in said
    assert (cli.cwd / "log.txt").read_text().split() == ["upgraded"]  # neither way ran


def test_a_decision_names_its_options_long_enough_to_say_who_decides() -> None:
    doc = """\
        # Raise the compatibility version

        ## Deploy

        ```bash
        ./deploy.sh
        ```

        ## Later

        Choose one:

        - Option A: only after one week without issues (the catalog lead decides), raise it:

          ```bash
          ./raise-fcv.sh
          ```

        - Option B: leave it for the next release window

          ```bash
          echo later
          ```
        """
    names = [s.get("name", "") for p in _plan(doc)["phases"] for s in p.get("steps", [])]
    decision = [n for n in names if n.startswith("Decide:")]
    assert decision and "the catalog lead decides" in decision[0], names


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("If the schema migration already ran", "If only the application was deployed"),
        ("When the new pods never became ready", "Otherwise"),
        ("In case the cache was already flushed", "Else: just redeploy the old image"),
        ("Only when the DBA on call decides to", "If nothing else worked"),
    ],
)
def test_cases_of_a_rollback_are_one_or_the_other_never_both(first: str, second: str) -> None:
    """Sub-sections of a rollback that each state a case are ways a person tells apart: a
    decision on rollback, each way bound to its choice; run together on every rollback they
    would restore a database for an application-only failure."""
    doc = _MENU.replace("Option A: revert the image", first).replace(
        "Option B: restore the snapshot", second
    )
    data = _plan(doc)
    (decided,) = [p for p in data["phases"] if "rollback_decision" in p]
    choice = decided["rollback_decision"]
    assert len(choice["options"]) == 2
    assert [a.get("when") for a in decided["rollback"]] == [
        f"vars.{choice['var']} == '{option}'" for option in choice["options"]
    ]


_LEAD_CASES = """\
    # Deploy v2

    ## Deploy

    ```bash
    echo migrated-and-deployed >> log.txt
    ```

    ## Verify

    ```bash
    false
    ```

    ## Rollback

    {first}

    ```bash
    echo restored-database >> log.txt
    ```

    {second}

    ```bash
    echo redeployed-v1 >> log.txt
    ```
    """


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("If the schema migration already ran:", "If only the application was deployed:"),
        ("Wenn die Migration schon gelaufen ist:", "Otherwise, redeploy the old image:"),
    ],
)
def test_lead_ins_that_state_cases_make_one_way_back_chosen_by_a_person(
    cli: CLI, first: str, second: str
) -> None:
    """The same cases written as lead-ins over two fences: a real run's rollback pauses for
    the choice, nothing of either way has run, and only the chosen way runs (a database
    restored for an application-only failure loses everything written since the backup)."""
    doc = textwrap.dedent(_LEAD_CASES).format(first=first, second=second)
    (cli.cwd / "doc.md").write_text(doc, encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first_run = cli("run", "plan.yaml")
    assert first_run.returncode == 4, first_run.stdout + first_run.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["migrated-and-deployed"]
    data = _plan(doc)
    (decided,) = [p for p in data["phases"] if "rollback_decision" in p]
    options = decided["rollback_decision"]["options"]
    assert cli("approve", "last", "--choose", options[1]).returncode == 0
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # failed, rolled back
    assert (cli.cwd / "log.txt").read_text().split() == ["migrated-and-deployed", "redeployed-v1"]


def test_lead_ins_that_each_name_a_failure_stay_the_rollbacks_actions() -> None:
    """ "If the migration fails, restore the backup:" / "If the deploy fails, roll back the
    image:": a rollback runs because something failed; these stay its actions (no decision)."""
    doc = textwrap.dedent(_LEAD_CASES).format(
        first="If the migration fails, restore the backup:",
        second="If the deploy fails, roll back the image:",
    )
    data = _plan(doc)
    assert not any("rollback_decision" in p for p in data["phases"])
    actions = [a for p in data["phases"] for a in p.get("rollback", [])]
    assert [a["run"] for a in actions] == [
        "echo restored-database >> log.txt",
        "echo redeployed-v1 >> log.txt",
    ]
    assert all("when" not in a for a in actions)
