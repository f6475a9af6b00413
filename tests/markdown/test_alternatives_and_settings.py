"""Alternatives never all run forward, and what a fence only pretends to do is asked of a person
(issue 11 §1, §2, §7, §9): small documents of each class found in blind round 3."""

from __future__ import annotations

import textwrap
from typing import Any

from phasegate.markdown import import_markdown


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in data["phases"] for s in p.get("steps", [])]


def _runs(data: dict[str, Any]) -> dict[str, str | None]:
    """Each step's and gate's command (comment lines removed) -> its `when:`."""
    found: dict[str, str | None] = {}
    for phase in data["phases"]:
        for item in [*phase.get("steps", []), *phase.get("gates", [])]:
            text = item.get("run") or item.get("command")
            if isinstance(text, str):
                lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
                found["\n".join(lines).strip()] = item.get("when")
    return found


def _decision(data: dict[str, Any]) -> dict[str, Any]:
    pauses = [s for s in _steps(data) if isinstance(s.get("pause"), dict)]
    assert len(pauses) == 1, pauses
    return dict(pauses[0]["pause"]["choose"])


def test_a_sole_alternatively_lead_in_makes_the_fence_before_it_and_after_it_one_decision() -> None:
    data = _plan(
        """
        # Rotate the key
        ## Rotate
        Run the rotation script:
        ```bash
        ./rotate-key.sh --env prod
        ```
        **Alternatively**, rotate it through the API:
        ```bash
        curl -X POST https://api.example.com/keys/rotate
        ```
        ## Verify
        ```bash
        ./check-key.sh --env prod
        ```
        """
    )
    runs = _runs(data)
    first, other = (
        runs["./rotate-key.sh --env prod"],
        runs["curl -X POST https://api.example.com/keys/rotate"],
    )
    assert first and other and first != other  # each its own option, never both
    choose = _decision(data)
    assert f"vars.{choose['var']} == '{choose['options'][0]}'" == first
    assert f"vars.{choose['var']} == '{choose['options'][1]}'" == other
    assert runs["./check-key.sh --env prod"] is None  # what follows runs whichever was chosen
    # the decision is asked before the first way, where the document offers it
    names = [s.get("name", s.get("run")) for s in _steps(data)]
    assert names[0].startswith("Decide:")
    assert "alternatively" not in data["phases"][0].get("metadata", {})  # no key: value


def test_method_and_not_recommended_lead_ins_are_one_decision() -> None:
    data = _plan(
        """
        # Migrate the database
        ## Migrate
        **Method 1: online migration**
        ```bash
        ./migrate --online
        ```
        **Method 2 (NOT RECOMMENDED): offline migration**
        ```bash
        ./migrate --offline --drop-old
        ```
        """
    )
    runs = _runs(data)
    assert runs["./migrate --online"] and runs["./migrate --offline --drop-old"]
    assert runs["./migrate --online"] != runs["./migrate --offline --drop-old"]
    assert len(_decision(data)["options"]) == 2


def test_sibling_headings_named_as_ways_are_one_decision() -> None:
    data = _plan(
        """
        # PostgreSQL major upgrade
        ## Upgrade
        ### In-place upgrade method
        ```bash
        ansible-playbook pg_upgrade.yml -i inventory
        ```
        ### Blue-green upgrade method
        ```bash
        ansible-playbook pg_logical_upgrade.yml -i inventory
        ```
        """
    )
    runs = _runs(data)
    in_place = runs["ansible-playbook pg_upgrade.yml -i inventory"]
    blue_green = runs["ansible-playbook pg_logical_upgrade.yml -i inventory"]
    assert in_place and blue_green and in_place != blue_green
    assert _decision(data)["options"] == ["in-place-upgrade-method", "blue-green-upgrade-method"]


def test_strategy_headings_are_parts_of_a_plan_not_ways() -> None:
    data = _plan(
        """
        # Release
        ## Rollout
        ### Deployment strategy
        ```bash
        ./deploy.sh
        ```
        ### Testing strategy
        ```bash
        ./smoke.sh
        ```
        """
    )
    assert all(when is None for when in _runs(data).values())


def test_a_numbered_prose_procedure_is_one_step_done_by_hand_in_its_place() -> None:
    data = _plan(
        """
        # Switch DNS
        ## Cut over
        ```bash
        ./lower-ttl.sh
        ```
        1. Log in to the registrar's console.
        2. Change the A record to the new address.
        3. Wait until the new address resolves everywhere.
        ```bash
        ./raise-ttl.sh
        ```
        """
    )
    steps = _steps(data)
    assert [s.get("run") or "manual" for s in steps] == [
        "./lower-ttl.sh",
        "manual",
        "./raise-ttl.sh",
    ]
    assert steps[1]["pause"] == "approve"
    assert "2. Change the A record to the new address." in steps[1]["name"]


def test_sample_output_under_an_output_comment_never_runs() -> None:
    data = _plan(
        """
        # Upgrade
        ## Check versions
        ```sh
        kubectl version --short

        # Output (truncated)
        Server Version: v1.23.14-eks-ffeb93d

        kubectl get nodes

        # Output
        NAME                 STATUS   ROLES    AGE   VERSION
        ip-10-0-14-102       Ready    <none>   9h    v1.22.15
        ```

        ```sh
        // TODO
        ```
        """
    )
    runs = "\n".join(_runs(data))
    assert "kubectl version --short" in runs and "kubectl get nodes" in runs
    assert "Server Version" not in runs and "ip-10-0-14-102" not in runs and "TODO" not in runs
    assert not data.get("vars", {}).get("NONE")  # `<none>` in output is no placeholder


def test_a_fence_of_comments_is_work_for_a_person_never_a_step_that_passes() -> None:
    data = _plan(
        """
        # Migrate
        ## Checks
        - [ ] **Application Health**

          ```bash
          # Check error rates
          # Sentry dashboard: error rate < 0.1%
          ```
        ## Harden
        ```bash
        # Add safeguards
        # 1. Enable canary deployments
        ```
        """
    )
    checks = data["phases"][0].get("gates", [])
    assert [c.get("manual") for c in checks if "command" not in c] != []
    assert not any("command" in c for c in checks)
    manual = " ".join(str(c.get("manual")) for c in checks)
    assert "Sentry dashboard: error rate < 0.1%" in manual
    harden = data["phases"][1]["steps"]
    assert harden == [
        {
            "name": "Do by hand, then approve: Add safeguards, 1. Enable canary deployments",
            "pause": "approve",
        }
    ]


def test_settings_nothing_reads_are_set_by_hand_but_shell_variables_stay_commands() -> None:
    data = _plan(
        """
        # Cutover
        ## Freeze
        ```bash
        # Set feature flag to disable admin adjustments
        ADMIN_ADJUSTMENTS_ENABLED=false
        ```
        ## Deploy
        ```bash
        NAMESPACE=prod
        ```
        ```bash
        kubectl -n $NAMESPACE rollout restart deployment/app
        ```
        """
    )
    freeze = data["phases"][0]["steps"]
    assert freeze[0]["pause"] == "approve"
    assert "ADMIN_ADJUSTMENTS_ENABLED=false" in freeze[0]["name"]
    assert "run" not in freeze[0]
    runs = _runs(data)
    assert "NAMESPACE=prod" in runs  # read by the next fence: the session carries it
    assert "ADMIN_ADJUSTMENTS_ENABLED=false" not in runs


def test_a_recovery_comment_inside_a_fence_splits_it_and_the_remedy_is_rollback() -> None:
    data = _plan(
        """
        # Release
        ## Deploy
        ```bash
        ./deploy.sh

        # If it fails
        ./deploy.sh --revert
        ```
        """
    )
    assert _runs(data) == {"./deploy.sh": None}
    assert [a["run"] for a in data["phases"][0]["rollback"]] == ["./deploy.sh --revert"]


def test_an_if_it_fails_item_under_a_verify_heading_is_rollback_not_a_check() -> None:
    data = _plan(
        """
        # Release
        ## Deploy
        ```bash
        ./deploy.sh
        ```
        ## Verify
        - If it fails:

          ```bash
          ./deploy.sh --revert
          ```
        """
    )
    assert "./deploy.sh --revert" not in _runs(data)
    rollback = [a["run"] for p in data["phases"] for a in p.get("rollback", [])]
    assert rollback == ["./deploy.sh --revert"]


def test_a_ramp_held_for_days_waits_for_a_person_and_an_alternative_ramp_never_runs_after() -> None:
    data = _plan(
        """
        # Pilot rollout
        ## Rollout tiers
        | Tier | Name | % | Duration |
        |------|------|---|----------|
        | 1 | Internal | 1% | 48+ hours |
        | 2 | Early adopters | 10% | 1 week |
        | 3 | Full | 100% | Ongoing |

        ## Typical timeline
        **Fast-track rollout (for low-risk features):**
        - Week 1: Tier 2 (10%)
        - Week 2: Tier 3 (100%)
        """
    )
    steps = _steps(data)
    weights = [s["set_weight"] for s in steps if "set_weight" in s]
    assert weights == [1, 10, 100]  # the fast-track ramp does not start over after 100 %
    kinds = ["w" if "set_weight" in s else "p" for s in steps]
    assert kinds == ["w", "p", "w", "p", "w"]
    pauses = [s for s in steps if "pause" in s]
    assert all(p["pause"] == "approve" for p in pauses)
    assert "48+ hours" in pauses[0]["name"] and "1 week" in pauses[1]["name"]


def test_stock_example_ids_and_named_addresses_need_binding() -> None:
    data = _plan(
        """
        # Roll back
        ## Revert
        ```bash
        git revert abc123
        npx hardhat upgrade --proxy 0xPROXY_ADDRESS --implementation V2
        ```
        """
    )
    needs = {k: v for k, v in data["vars"].items() if v.get("needs_binding")}
    assert set(needs) >= {"EXAMPLE_ABC123", "PROXY_ADDRESS"}
    run = next(iter(_runs(data)))
    assert "${EXAMPLE_ABC123}" in run and "${PROXY_ADDRESS}" in run
    assert "0xPROXY_ADDRESS" not in run and "abc123" not in run


def test_monitoring_commands_sections_are_reference() -> None:
    data = _plan(
        """
        # Upgrade
        ## Stage 1
        ```bash
        helm upgrade app ./chart
        ```
        ## Monitoring Commands
        ```bash
        kubectl top pods -n app
        ```
        """
    )
    assert _runs(data) == {"helm upgrade app ./chart": None}


def _localised(n: int, translated: str, english: str) -> str:
    """A sentence as Microsoft Docs' localised pages write it."""
    return (
        f'<span data-ttu-id="d7-{n}">{translated}</span><span class="sxs-lookup">'
        f'<span data-stu-id="d7-{n}">{english}</span></span>'
    )


def test_localisation_spans_and_name_anchors_are_no_text() -> None:
    doc = "\n".join(
        [
            '# <a name="cutover"></a>' + _localised(1, "直接转换迁移", "Cutover migration"),
            '## <a name="step-1"></a>' + _localised(2, "步骤 1：准备", "Step 1: Prepare"),
            "1. " + _localised(3, "禁用统一消息。", "Disable Unified Messaging."),
            "2. " + _localised(4, "创建安全组。", "Create security groups."),
            "```bash",
            "kubectl drain <node>",
            "```",
        ]
    )
    data = _plan(doc)
    phase = data["phases"][0]
    assert phase["name"] == "步骤 1：准备"
    text = str(data)
    assert "span" not in text and "sxs-lookup" not in text and "Unified Messaging" not in text
    assert "禁用统一消息。" in phase["steps"][0]["name"]
    assert "NODE" in data["vars"]  # a placeholder in angle brackets is kept, not stripped
