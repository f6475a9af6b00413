"""Classes found on corpus documents the labelled set had not covered (issue 11 §1, §2, §6, §7),
each written as a small synthetic document of the class (never a corpus document): lists that
are no failure conditions, alert severities, failback procedures, sample output, cases in one
fence and operations guides made of separate procedures."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, placeholders
from tests.conftest import CLI
from tests.markdown.cases_harness import import_case


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _forward(data: dict[str, Any]) -> str:
    """Every unconditional forward step and command check, comment lines removed."""
    found = []
    for phase in data["phases"]:
        items = list(phase.get("steps", [])) + list(phase.get("gates", []))
        items += [g for s in phase.get("steps", []) for g in s.get("pre_gates", [])]
        for item in items:
            text = item.get("run") or item.get("command")
            if isinstance(text, str) and item.get("when") is None:
                found += [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return "\n".join(found)


def _rollback(data: dict[str, Any]) -> str:
    return "\n".join(
        str(action.get("run") or "")
        for phase in data["phases"]
        for action in phase.get("rollback", [])
    )


def _triggers(data: dict[str, Any]) -> dict[str, str]:
    """description -> action of every trigger."""
    return {str(t.get("description")): str(t["action"]) for t in data.get("triggers", [])}


# -- §6 lists that are no failure conditions --------------------------------------------------


def test_a_rollback_plan_lead_in_lists_actions_not_conditions() -> None:
    data = _plan(
        """\
        # DNS launch

        ## Step 1: Switch nameservers

        ```bash
        echo switched > "$RUN_DIR/switched"
        ```

        **Rollback plan if issues:**
        - Revert nameservers back to the old registrar
        - Old site will become active again
        - Debug and retry when ready
        """
    )
    assert _triggers(data) == {}
    assert "switched" in _forward(data)


def test_expected_results_and_go_no_go_sides_are_no_triggers() -> None:
    data = _plan(
        """\
        # Launch day

        ## Step 1: Deploy green

        ```bash
        echo green > "$RUN_DIR/green"
        ```

        ## Rollback drill

        - [ ] **Execute rollback: Green to Blue**
          - Time taken: ________ minutes
          - Expected: <3 minutes
        - [ ] **Rollback criteria understood**
          - Expected answer: Error >5% for 10+ min
          - Result: PASS / FAIL

        ### GO/NO-GO Criteria

        **GO if**:
        - Rollback time <3 minutes

        **NO-GO if** (only if the drill failed):
        - Rollback took >10 minutes
        - Rollback verification failed
        """
    )
    assert _triggers(data) == {}


def test_who_may_roll_back_is_no_condition() -> None:
    data = _plan(
        """\
        # Release

        ## Step 1: Deploy

        ```bash
        echo deployed > "$RUN_DIR/deployed"
        ```

        ## Rollback criteria

        **Automatic rollback criteria:**
        - Error rate > 10% for 2 minutes

        ### Rollback decision authority

        **Automatic rollback authority:**
        - On-call monitoring engineer
        - Deployment lead
        - Incident commander
        """
    )
    found = _triggers(data)
    assert list(found.values()) == ["rollback"], found
    assert not any("engineer" in d or "lead" in d.lower() for d in found), found


def test_alert_severities_and_investigation_tiers_alert_and_never_roll_back() -> None:
    data = _plan(
        """\
        # Feature rollout

        ## Step 1: Enable

        ```bash
        echo enabled > "$RUN_DIR/enabled"
        ```

        ## Alerting thresholds

        ### Critical Alerts
        - **Error Rate > 5%**: Immediate investigation required
        - **Response Time > 2s**: Performance degradation

        ## Automatic rollback criteria

        **Critical errors (immediate rollback):**
        - Error rate > 10% for > 2 minutes

        **Medium priority (investigation):**
        - Error rate 1-5% for > 10 minutes
        """
    )
    found = _triggers(data)
    assert found["Error Rate > 5%: Immediate investigation required"] == "alert"
    assert found["Response Time > 2s: Performance degradation"] == "alert"
    assert found["Error rate > 10% for > 2 minutes"] == "rollback"
    medium = [d for d in found if d.startswith("Error rate 1-5%")]
    assert medium and all(found[d] == "alert" for d in medium), found


# -- §1/§5 failback ---------------------------------------------------------------------------


FAILBACK = """\
# Regional failover runbook

## Step 1: Promote the secondary

```bash
echo promoted > "$RUN_DIR/promoted"
```

## Failback procedures

### When to failback

Failback to the primary region only when:

1. **Primary region fully operational** (confirmed by the provider)
2. **Stable for 4+ hours**
3. **Stakeholder approval** (business approval to proceed)

### Failback steps (reverse of failover)

```bash
echo FAILED-BACK > "$RUN_DIR/FAILED-BACK"
```
"""


def test_failback_is_the_way_back_never_the_forward_path() -> None:
    data = _plan(FAILBACK)
    assert "FAILED-BACK" not in _forward(data)
    assert "FAILED-BACK" in _rollback(data)
    assert _triggers(data) == {}, "conditions of starting the failback are not triggers"


def test_failback_runs_only_when_the_failover_is_rolled_back(cli: CLI) -> None:
    (cli.cwd / "failover.md").write_text(FAILBACK, encoding="utf-8")
    case = import_case(cli, cli.cwd / "failover.md")
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert "promoted" in ran.markers and "FAILED-BACK" not in ran.markers


# -- §2 sample output -------------------------------------------------------------------------


def test_sample_output_a_sentence_announces_is_never_run() -> None:
    data = _plan(
        """\
        # Upgrade

        ## Step 1: Clone

        ```bash
        echo cloned > "$RUN_DIR/cloned"
        ```

        Once the clone is finished, check the writer logs. You should see one of these messages:

        ```sh
        ... invalid record length at 136/DFC70140: wanted 24, got 0
        ... invalid resource manager ID 48 at 3/1B9AF790
        ```

        Expected output:

        ```
        NAME      READY   STATUS
        web-1     1/1     Running
        ```

        This prints the version:

        ```bash
        echo version > "$RUN_DIR/version"
        ```
        """
    )
    forward = _forward(data)
    assert "invalid record length" not in forward and "resource manager" not in forward
    assert "web-1" not in forward
    assert "cloned" in forward and "version" in forward, "a command a sentence announces runs"


def test_an_elided_log_line_is_no_command() -> None:
    data = _plan(
        """\
        # Upgrade

        ## Step 1: Restart

        ```bash
        echo restarted > "$RUN_DIR/restarted"
        ... LOG:  database system is ready to accept connections
        ```
        """
    )
    forward = _forward(data)
    assert "restarted" in forward and "database system is ready" not in forward


# -- §1 cases and separate procedures ---------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("# For the first RC", "# For subsequent RCs"),
        ("# 最初の RC の場合", "# 2回目以降の RC の場合（release ブランチが更新されるたびに作成）"),
        ("# If this is a new install", "# If upgrading an existing install"),
    ],
)
def test_paragraphs_of_one_fence_for_different_cases_are_one_decision(
    first: str, second: str
) -> None:
    data = _plan(
        f"""\
        # Release

        ## Step 1: Tag

        ```bash
        {first}
        git tag v1.2.0-rc.1

        {second}
        git tag v1.2.0-rc.2
        ```
        """
    )
    assert "git tag" not in _forward(data)
    steps = data["phases"][0]["steps"]
    decisions = [s for s in steps if isinstance(s.get("pause"), dict) and "choose" in s["pause"]]
    assert len(decisions) == 1
    whens = {s["when"] for s in steps if "git tag" in str(s.get("run"))}
    assert len(whens) == 2, "each case runs only when it is the one chosen"


OPS_GUIDE = """\
# Operations guide

## Create a release branch

### Prerequisites

- develop is green

### Steps

```bash
echo release-branch > "$RUN_DIR/release-branch"
```

## Ship a hotfix

### Prerequisites

- a critical bug in production

### Steps

```bash
echo HOTFIX > "$RUN_DIR/HOTFIX"
```
"""


def test_an_operations_guide_of_separate_procedures_asks_which_one() -> None:
    data = _plan(OPS_GUIDE)
    forward = _forward(data)
    assert "HOTFIX" not in forward and "release-branch" not in forward
    whens = [
        s["when"]
        for p in data["phases"]
        for s in p.get("steps", [])
        if "HOTFIX" in str(s.get("run"))
    ]
    assert whens, "the hotfix procedure is kept, run only when chosen"


def test_phases_with_their_own_prerequisites_still_run_in_order() -> None:
    data = _plan(
        OPS_GUIDE.replace("## Create a release branch", "## Phase 1: Release branch").replace(
            "## Ship a hotfix", "## Phase 2: Deploy"
        )
    )
    forward = _forward(data)
    assert "release-branch" in forward and "HOTFIX" in forward
    assert forward.index("release-branch") < forward.index("HOTFIX")


# -- §7 what a person judges, waits for or confirms -------------------------------------------


def test_ticks_that_decorate_every_criterion_are_asked_not_passed() -> None:
    data = _plan(
        """\
        # Rollout

        ## Phase 1: Enable

        ```bash
        echo enabled > "$RUN_DIR/enabled"
        ```

        #### Success Criteria
        - ✅ Feature toggles respond correctly
        - ✅ No performance degradation

        ## Phase 2: Cutover

        ```bash
        echo cutover > "$RUN_DIR/cutover"
        ```

        ### Checklist status
        - ✅ Backups verified
        - ✅ DNS switched
        """
    )
    first, second = data["phases"][0], data["phases"][1]
    asked = [g for g in first["gates"] if "manual" in g]
    assert [g["manual"] for g in asked] == [
        "Feature toggles respond correctly",
        "No performance degradation",
    ]
    assert not any(g.get("checked") for g in asked), "criteria to meet are asked"
    assert all(g.get("checked") for g in second["gates"]), "a status list keeps its ticks"


def test_a_wait_of_hours_in_a_fence_pauses_before_the_commands_after_it() -> None:
    data = _plan(
        """\
        # Key rotation

        ## Step 1: Delete the old key

        ```bash
        # Wait 24-48 hours to ensure no issues with new key

        # Delete old key
        gcloud iam service-accounts keys delete OLD --quiet
        ```
        """
    )
    steps = data["phases"][0]["steps"]
    kinds = ["pause" if "pause" in s else "run" for s in steps]
    assert kinds == ["pause", "run"], steps
    assert "24-48 hours" in steps[0]["name"]


def test_a_condition_under_a_command_is_asked_before_it() -> None:
    data = _plan(
        """\
        # Cleanup

        ## Step 1: Cost cleanup

        ```bash
        # 1. List distributions
        aws cloudfront list-distributions

        # 2. Delete the hosted zone
        aws route53 delete-hosted-zone --id Z0123
        # (After confirming no other dependencies)
        ```
        """
    )
    steps = data["phases"][0]["steps"]
    order = [("pause" if "pause" in s else str(s.get("run", "")).split()[1]) for s in steps]
    assert order == ["cloudfront", "pause", "route53"], steps


def test_once_the_migration_is_stable_a_person_confirms_before_the_cleanup() -> None:
    data = _plan(
        """\
        # Migration

        ## Post-migration cleanup (Week 2+)

        Once migration is successful and stable:

        ```bash
        aws route53 delete-hosted-zone --id Z0123
        ```
        """
    )
    steps = data["phases"][0]["steps"]
    assert "pause" in steps[0] and "route53" in str(steps[1].get("run")), steps


# -- §3 variables the document never sets ------------------------------------------------------


def test_a_variable_read_but_never_set_needs_binding() -> None:
    result = import_markdown(
        textwrap.dedent(
            """\
            # Switch

            ## Step 1: Fix sequences

            ```bash
            psql -Atq -f ./fix.sql -o ./fix.gen.sql $target_url
            for table in users orders; do echo "$table" >> "$RUN_DIR/tables"; done
            COUNT=3
            echo "${COUNT} ${HOME} ${MISSING:-none}" > "$RUN_DIR/count"
            awk '{print $1}' /etc/hostname
            ```
            """
        ),
        "DOC.md",
    )
    variables = result.data["vars"]
    assert "target_url" in variables and "needs_binding" in variables["target_url"]
    assert "DOC.md:6" in variables["target_url"]["needs_binding"]
    for name in ("table", "COUNT", "HOME", "MISSING", "RUN_DIR"):
        assert "needs_binding" not in variables.get(name, {}), name
    assert result.report["executable"] is False


def test_a_document_that_sources_its_settings_is_left_alone() -> None:
    result = import_markdown(
        textwrap.dedent(
            """\
            # Deploy

            ## Step 1: Deploy

            ```bash
            source ./env.sh
            psql "$DATABASE_URL" -c 'select 1'
            ```
            """
        ),
        "DOC.md",
    )
    assert "DATABASE_URL" not in (result.data.get("vars") or {})


def test_an_unset_variable_blocks_the_run_until_the_environment_gives_it(cli: CLI) -> None:
    text = '# Deploy\n\n## Step 1: Deploy\n\n```bash\necho "$TARGET" > "$RUN_DIR/target"\n```\n'
    case = import_case(cli, "unset.md", text)
    refused = case.run()
    assert refused.returncode == 2 and "TARGET" in refused.stderr
    assert "target" not in refused.markers


def test_commands_typed_to_a_chat_assistant_are_never_run() -> None:
    data = _plan(
        """\
        # Migration tracker

        ## Phase 1: Discovery

        ```bash
        # Launch all analysis tasks in parallel
        @orchestrate-agents coordinate \\
            --tasks "[ 'analyze-codebase:backend-analysis' ]" \\
            --mode parallel
        ```

        ## Phase 2: Deploy

        ```bash
        echo deployed > "$RUN_DIR/deployed"
        ```
        """
    )
    forward = _forward(data)
    assert "@orchestrate-agents" not in forward and "deployed" in forward
    steps = data["phases"][0]["steps"]
    assert any("pause" in s and "@orchestrate-agents" in s["name"] for s in steps), steps


@pytest.mark.parametrize(
    ("command", "names"),
    [
        ("psql -h HOSTNAME -U postgres -f roles.sql", ["HOSTNAME"]),
        ("mysql -u USERNAME -p PASSWORD shop", ["USERNAME", "PASSWORD"]),
        ("aws s3 ls --region REGION", ["REGION"]),
        ("kubectl get pods -n my-namespace", []),
        ('psql -h "$HOSTNAME" -U postgres', []),
    ],
)
def test_a_value_name_in_capitals_as_a_flags_argument_needs_binding(
    command: str, names: list[str]
) -> None:
    assert [f.name for _, _, f in placeholders.find(command)] == names


def test_a_placeholder_in_a_comment_needs_no_binding() -> None:
    assert placeholders.find("aws --version  # AWS CLI v2.x") == []
    assert placeholders.find("# replace <node> first\nkubectl drain node-1") == []
    found = placeholders.find("kubectl drain <node>  # <node> from kubectl get nodes")
    assert [(f.name, start) for start, _, f in found] == [("NODE", 14)]
    assert [f.name for _, _, f in placeholders.find("echo '# <kept>' <node>")] == ["KEPT", "NODE"]
