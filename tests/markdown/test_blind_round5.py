"""Blind round 5 (issue 11): ten documents written the way teams write runbooks we had not
imported yet (a flag ramp over days, Terraform with a review, a setext checklist, a German
migration, HTML, terminals), each labelled by reading it as a careful SRE would BEFORE looking
at the import (tests/markdown/blind5/*.yaml, the kinds of labelled_check.py). Every class the
round found became a general rule with its own test below."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from phasegate.markdown import import_markdown, rules
from tests.markdown import blind_rounds

HERE = Path(__file__).parent / "blind5"


@pytest.mark.parametrize("spec", blind_rounds.specs(HERE), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    blind_rounds.check_expectations(HERE, spec)


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _forward_runs(plan: dict[str, Any]) -> list[str]:
    runs: list[str] = []
    for phase in plan["phases"]:
        for step in phase.get("steps", []):
            runs += [str(step["run"])] if "run" in step and "when" not in step else []
            runs += [str(g.get("command")) for g in step.get("pre_gates", []) if "command" in g]
        runs += [str(g.get("command")) for g in phase.get("gates", []) if "command" in g]
    return runs


def test_a_word_starting_with_check_is_no_verification() -> None:
    assert not rules.is_verify_text("turn the checkout flag off:")
    assert not rules.is_verify_text("Save a checkpoint:")
    assert rules.is_verify_text("Checks:") and rules.is_verify_text("then check it:")


def test_a_condition_after_a_leading_clause_is_still_a_condition() -> None:
    for text in (
        "At any point, if checkout errors spike above 2% for 5 minutes, turn the flag off:",
        "During the ramp, if the error rate breaks the SLO, run:",
    ):
        assert rules.is_conditional_text(text), text
    # a leading clause with no failure in it stays forward
    assert not rules.is_conditional_text("At any point, you can check progress with:")


def test_a_kill_switch_section_never_runs_forward() -> None:
    plan = _plan(
        """\
        # Ramp

        ## Deploy

        ```sh
        ./deploy.sh
        ```

        ## Kill switch

        ```sh
        ./flag.sh off
        ```
        """
    )
    assert _forward_runs(plan) == ["./deploy.sh"]
    rollback = [a["run"] for p in plan["phases"] for a in p.get("rollback", [])]
    rollback += [a["run"] for a in plan.get("rollback", [])]
    assert rollback == ["./flag.sh off"]


@pytest.mark.parametrize(
    "title",
    [
        "Cleanup (after 2 weeks at 100%)",
        "Aufräumen (erst nach 7 Tagen!)",
        "Remove v1 after 48 hours",
    ],
)
def test_a_section_deferred_by_days_waits_for_a_person(title: str) -> None:
    plan = _plan(
        f"""\
        # Migration

        ## Migrate

        ```sh
        ./migrate.sh
        ```

        ## {title}

        ```sh
        ./drop-old.sh
        ```
        """
    )
    last = plan["phases"][-1]
    entries = last.get("gates", []) + last.get("steps", [])
    first = entries[0]
    assert "manual" in first or first.get("pause") == "approve" or "pause" in first, last
    assert "run" not in first


def test_review_by_a_second_engineer_is_a_gate_before_what_follows() -> None:
    plan = _plan(
        """\
        # Infra

        ## Change

        ```sh
        terraform plan -out=tfplan
        ```

        Review the plan with a second engineer. **Do not apply if the plan destroys anything.**

        ```sh
        terraform apply tfplan
        ```
        """
    )
    steps = plan["phases"][0]["steps"]
    kinds = ["run" if "run" in s else "pause" for s in steps]
    assert kinds == ["run", "pause", "run"], steps


def test_plain_bullets_under_a_pre_release_heading_are_gates() -> None:
    plan = _plan(
        """\
        Release
        =======

        Pre-release
        -----------
        * Make sure CI is green on `main`.
        * Update CHANGELOG.md

        Release
        -------
        ```
        npm publish
        ```
        """
    )
    first = plan["phases"][0]
    manual = [g["manual"] for g in first.get("gates", []) if "manual" in g]
    assert manual == ["Make sure CI is green on `main`.", "Update CHANGELOG.md"]
    assert _forward_runs(plan) == ["npm publish"]


def test_a_conditional_item_with_a_command_in_a_checklist_never_runs_forward() -> None:
    plan = _plan(
        """\
        # Release

        ## Release

        ```sh
        npm publish
        ```

        ## Post-release checklist

        - Verify the package: `npm view mypkg version`
        - If the publish went wrong, unpublish within 72 hours: `npm unpublish mypkg@3.2.0`
        """
    )
    assert not any("unpublish" in r for r in _forward_runs(plan)), plan


def test_a_single_numbered_prose_item_beside_fenced_items_is_a_manual_step() -> None:
    plan = _plan(
        """\
        # Upgrade

        ## Umstellung

        1. Backup erstellen:
           ```bash
           pg_basebackup -D /var/backups/pg15 -Ft -z
           ```
        2. Wartungsfenster ankündigen (mindestens 48 Stunden vorher).
        """
    )
    steps = plan["phases"][0]["steps"]
    assert [("run" in s) for s in steps] == [True, False], steps
    assert "Wartungsfenster" in steps[1]["name"] and steps[1]["pause"] == "approve"


def test_a_ramp_written_as_a_list_with_a_wait_between_weights() -> None:
    plan = _plan(
        """\
        # Canary

        ## Rollout

        Then shift traffic in steps, waiting 15 minutes between each:

        - 5%
        - 20%
        - 50%
        - 100%
        """
    )
    steps = plan["phases"][0]["steps"]
    weights = [s["set_weight"] for s in steps if "set_weight" in s]
    assert weights == [5, 20, 50, 100]
    # the stated wait holds every weight but the last
    assert [s.get("bake") for s in steps if "set_weight" in s] == ["15m", "15m", "15m", None]


def test_percentages_listed_as_criteria_are_no_ramp() -> None:
    plan = _plan(
        """\
        # Canary

        ## Canary success criteria

        - 99.9%
        - 95%
        """
    )
    steps = [s for p in plan["phases"] for s in p.get("steps", [])]
    assert not any("set_weight" in s for s in steps), steps


def test_otherwise_after_a_good_path_is_the_way_back() -> None:
    assert rules.is_conditional_text("Otherwise, delete the canary:")
    assert rules.is_conditional_text("Sonst: den Canary löschen")
    # "Otherwise, you can …" offers another way (an alternative), not a failure branch
    assert not rules.is_conditional_text("Otherwise, you can use the API:")


def test_a_good_state_a_person_judges_is_a_confirmation() -> None:
    assert rules.asks_human("If the canary looks good, scale it up:")
    assert rules.asks_human("If everything is healthy, continue with the rest:")
    assert not rules.asks_human("If you use Helm, run:")


def test_an_observed_condition_is_the_operators_choice() -> None:
    assert rules.is_optional_part("If you see `migration pending`, run:")
    assert rules.is_optional_part("In case the cache is cold, warm it:")
    assert not rules.is_optional_part("Should return 0 rows:")  # an expectation
    # a failure is recovery, a good state a confirmation: neither is an optional part
    assert not rules.is_optional_part("If the migration fails:")
    assert not rules.is_optional_part("If the canary looks good, scale it up:")


def test_one_upgrade_section_alone_is_the_path_not_a_choice() -> None:
    plan = _plan(
        """\
        # Upgrade

        ## Upgrading from 15 to 16

        ```sh
        pg_upgradecluster 15 main
        ```
        """
    )
    assert _forward_runs(plan) == ["pg_upgradecluster 15 main"]


def test_a_table_with_a_rollback_column_gives_steps_with_undo() -> None:
    plan = _plan(
        """\
        # Cutover checklist

        | Step | Command | Rollback |
        |------|---------|----------|
        | Lower TTL | `./dns.sh ttl 60` | `./dns.sh ttl 3600` |
        | Switch | `./dns.sh point new` | `./dns.sh point old` |
        """
    )
    steps = plan["phases"][0]["steps"]
    assert [(s["run"], s["undo"]) for s in steps] == [
        ("./dns.sh ttl 60", "./dns.sh ttl 3600"),
        ("./dns.sh point new", "./dns.sh point old"),
    ]


def test_failure_in_other_languages_and_their_waits() -> None:
    assert rules.is_conditional_text("Si algo sale mal, volver a la versión anterior:")
    assert rules.is_conditional_text("Falls etwas schiefgeht, zurückrollen:")
    assert rules.is_conditional_text("Si ça tourne mal, revenir en arrière :")
    assert rules.asks_human("Esperar 24 horas antes de borrar la imagen vieja:")
    assert rules.asks_human("Mindestens 2 Tage warten, dann aufräumen.")


def test_a_sentence_ordering_a_command_is_that_command_in_place() -> None:
    plan = _plan(
        """\
        # Failover

        **Step 1: Check**

        Run `redis-cli -h r1 info replication` and make sure `master_link_status:up`.

        **Step 2: Promote**

        ```
        redis-cli -h r1 REPLICAOF NO ONE
        ```

        You can run `redis-cli -h r1 monitor` to watch it.
        """
    )
    step = plan["phases"][0]["steps"][0]
    assert step["run"] == "redis-cli -h r1 REPLICAOF NO ONE"
    [check] = step["pre_gates"]
    assert check["command"] == "redis-cli -h r1 info replication"
    assert check["expect"]["stdout_contains"] == "master_link_status:up"
    # an offer is no order: nothing else runs
    assert _forward_runs(plan) == [
        "redis-cli -h r1 REPLICAOF NO ONE",
        "redis-cli -h r1 info replication",
    ]


@pytest.mark.parametrize(
    "lead",
    [
        "**Do not run this on the primary** — it wipes the data directory:",
        "Never run the following unless the backup was verified:",
        "Don't ever paste this into a production shell:",
        "For example, to drain a different node:",
        "Example:",
    ],
)
def test_a_fence_the_text_forbids_or_shows_as_an_example_never_runs(lead: str) -> None:
    plan = _plan(
        f"""\
        # Cleanup

        ## Drain

        ```bash
        ./first.sh
        ```

        {lead}

        ```bash
        ./dangerous.sh
        ```
        """
    )
    assert _forward_runs(plan) == ["./first.sh"]
    assert not [a for p in plan["phases"] for a in p.get("rollback", [])]


def test_a_warning_that_orders_is_not_a_prohibition() -> None:
    from phasegate.markdown import listings

    assert not listings.forbids("Do not proceed until the health check passes:")
    assert not listings.forbids("Run the following:")
    assert not listings.illustrates("Deploy the example app:")


def test_lines_after_a_shell_opener_are_typed_in_that_shell_not_run_here() -> None:
    from phasegate.markdown import shellparse

    script = "ssh db1\nsudo systemctl restart postgresql\nexit\n./local.sh\n"
    units = [u for u in shellparse.analyse(script) if u.kind == "command"]
    verdict = {u.text: u.forever for u in units}
    assert verdict["ssh db1"] is not None
    assert "typed in the shell `ssh db1`" in str(verdict["sudo systemctl restart postgresql"])
    assert verdict["./local.sh"] is None  # after `exit`: back on this machine
    # sudo with a command runs it; sudo -i / -iu user opens a shell
    forever = shellparse.never_ending_text
    assert forever("sudo -iu postgres") is not None
    assert forever("sudo -iu postgres psql -c 'select 1'") is None
    assert forever("sudo systemctl restart nginx") is None


def test_an_inline_rollback_sentence_is_a_rollback_action() -> None:
    plan = _plan(
        """\
        # Deploy

        **Rollback:** `helm rollback payments 0` returns to the previous release.

        ## Deploy

        ```bash
        helm upgrade payments ./chart
        ```
        """
    )
    rollback = [a["run"] for p in plan["phases"] for a in p.get("rollback", [])]
    rollback += [a["run"] for a in plan.get("rollback", [])]
    assert rollback == ["helm rollback payments 0"]
    assert _forward_runs(plan) == ["helm upgrade payments ./chart"]


def test_failure_rollback_and_checklists_in_japanese_and_korean() -> None:
    assert rules.is_conditional_text("失敗した場合")
    assert rules.is_conditional_text("エラーが発生した場合は以下を実行:")
    assert rules.is_conditional_text("실패 시 롤백")
    assert rules.is_rollback_title("ロールバック手順") and rules.is_rollback_title("롤백")
    assert rules.is_checklist_text("事前確認") and rules.is_checklist_text("사전 확인")


def test_a_later_dated_heading_waits_for_a_person_and_a_proceed_condition_is_asked() -> None:
    plan = _plan(
        """\
        # Ramp

        ## Week 1: 5%

        ```bash
        ./route.sh 5
        ```

        Proceed only if the burn rate stays below 1.

        ## Week 2: 25%

        ```bash
        ./route.sh 25
        ```
        """
    )
    first, second = plan["phases"]
    assert [("run" in s, s.get("pause")) for s in first["steps"]] == [
        (True, None),
        (False, "approve"),
    ]
    assert [("run" in s, s.get("pause")) for s in second["steps"]] == [
        (False, "approve"),
        (True, None),
    ]


def test_monitoring_for_hours_is_a_persons_watch() -> None:
    assert rules.asks_human("Monitor the crash rate for 24 hours.")
    assert rules.asks_human("Keep an eye on error rates over the next 2 days")
    assert not rules.asks_human("Monitor the rollout with `kubectl rollout status`")


def test_code_typed_into_another_programs_console_is_a_manual_step() -> None:
    plan = _plan(
        """\
        # Backfill

        ## Backfill

        Open a Rails console on one pod and run:

        ```ruby
        Order.where(region: nil).find_each(&:fix!)
        ```

        For example, call the API from Python:

        ```python
        requests.get(url)
        ```
        """
    )
    steps = plan["phases"][0]["steps"]
    assert len(steps) == 1 and steps[0]["pause"] == "approve"
    assert "Order.where(region: nil)" in steps[0]["name"]


def test_a_fence_paragraph_headed_rollback_is_the_way_back() -> None:
    plan = _plan(
        """\
        # Push

        ## Push

        ```bash
        # deploy
        ./deploy.sh v2

        # rollback (if needed)
        ./deploy.sh v1
        ```
        """
    )
    assert _forward_runs(plan) == ["./deploy.sh v2"]
    assert [a["run"] for a in plan["phases"][0]["rollback"]] == ["./deploy.sh v1"]


def test_a_run_sentence_with_a_condition_is_no_order() -> None:
    plan = _plan(
        """\
        # Deploy

        ## Deploy

        ```bash
        ./deploy.sh
        ```

        Run `./flush-cache.sh all` if the old pages still show.
        """
    )
    assert _forward_runs(plan) == ["./deploy.sh"]
