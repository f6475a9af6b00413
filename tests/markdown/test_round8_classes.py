"""The classes of the eighth round of fixes (issue 11), each on small synthetic documents in
wordings and languages the blind rounds' documents do not use: a rule must hold for the class,
not for one document's text."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, mutation


def _import(doc: str) -> Any:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _items(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The forward path of the first phase as (role, text), in run order: a step's pre-gates
    just before it, then the phase's gates."""
    phase = data["phases"][0]
    out: list[tuple[str, str]] = []
    for step in phase.get("steps", []):
        out += [("gate", str(g.get("command", ""))) for g in step.get("pre_gates", [])]
        out.append(("step", str(step.get("run", step.get("name", "")))))
    out += [("gate", str(g.get("command", g.get("manual", "")))) for g in phase.get("gates", [])]
    return out


# -- a command that changes things is never a check ------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "sudo sed -i 's/workers 4/workers 8/' /etc/app/app.conf",
        "systemctl reload haproxy",
        "sudo service php-fpm restart",
        "kubectl apply -f ingress.yaml",
        "kubectl delete pod -l app=cache",
        "kubectl scale deploy/worker --replicas=6",
        "kubectl rollout restart deploy/worker",
        "helm upgrade shop charts/shop -f prod.yaml",
        "terraform apply -auto-approve",
        "terraform state rm aws_instance.old",
        "rm -rf /var/cache/app/*",
        "mv /etc/app/new.conf /etc/app/app.conf",
        "echo 'max_conn=200' > /etc/app/limits.conf",
        "echo 'max_conn=200' | sudo tee -a /etc/app/limits.conf",
        "psql -c \"UPDATE feature_flags SET enabled = true WHERE name = 'x'\"",
        "mysql -e 'ALTER TABLE orders ADD COLUMN note TEXT'",
        "ssh db1 'sudo systemctl restart pgbouncer'",
        "kubectl exec deploy/api -- rails db:migrate",
        "aws ecs update-service --cluster c --service s --force-new-deployment",
        "curl -X DELETE http://127.0.0.1:8500/v1/kv/lock",
        "nginx -s reload",
        "./deploy.sh canary",
    ],
)
def test_the_parser_says_a_changing_command_changes_things(command: str) -> None:
    assert mutation.mutates(command) is not None, command


@pytest.mark.parametrize(
    "command",
    [
        "curl -fsS http://127.0.0.1/health",
        "curl -s http://127.0.0.1/metrics > /tmp/metrics.txt",
        "systemctl is-active haproxy",
        "kubectl get pods -l app=cache -o wide",
        "kubectl rollout status deploy/worker --timeout=120s",
        "helm status shop",
        "terraform plan -out tfplan",
        "terraform state list",
        "psql -c 'SELECT count(*) FROM orders'",
        "grep -c ERROR /var/log/app.log 2>/dev/null",
        "nginx -t",
        "aws rds describe-db-instances --db-instance-identifier x",
        "ssh db1 'pg_isready'",
        "./smoke-test.sh",
    ],
)
def test_the_parser_says_a_reading_command_only_reads(command: str) -> None:
    assert mutation.mutates(command) is None, command


@pytest.mark.parametrize(
    "heading",
    [
        "## Verify and apply the new limits",  # English
        "## Validate, then reload",
        "## Verificación",  # Spanish
        "## Smoke test",
    ],
)
def test_a_check_heading_keeps_changing_commands_steps_in_their_place(heading: str) -> None:
    data = _import(
        f"""
        # Change
        {heading}

        ```bash
        curl -fsS http://127.0.0.1:8080/health
        sudo sed -i 's/limit 10/limit 20/' /etc/app/limits.conf
        sudo systemctl reload app
        systemctl is-active app
        ```
        """
    )
    items = _items(data)
    roles = [(role, text.split()[0:2]) for role, text in items]
    # the reads stay checks, in their place around the change; the change is a step
    assert roles == [
        ("gate", ["curl", "-fsS"]),
        ("step", ["sudo", "sed"]),  # the edit and the reload: one step
        ("gate", ["systemctl", "is-active"]),
    ], items
    assert "systemctl reload app" in items[1][1]


def test_a_changing_command_in_a_rollback_verification_is_a_rollback_action() -> None:
    data = _import(
        """
        # Change
        ## Deploy
        ```bash
        ./release.sh v2
        ```
        ## Rollback

        ### Verify the rollback
        ```bash
        kubectl rollout undo deploy/api
        kubectl rollout status deploy/api
        ```
        """
    )
    runs = [
        str(a.get("run", "")) for phase in data["phases"] for a in phase.get("rollback", [])
    ] + [str(a.get("run", "")) for a in data.get("rollback", []) or []]
    verified = [str(v.get("command", "")) for v in data.get("verify_rollback", []) or []]
    assert any("rollout undo" in r for r in runs), (runs, verified)
    assert not any("rollout undo" in v for v in verified)
    forward = [str(s.get("run")) for phase in data["phases"] for s in phase.get("steps", [])]
    assert not any("rollout undo" in f for f in forward)


# -- round 7 leftovers, as classes -----------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        "Repeat the above steps for `shard-2` and `shard-3`.",
        "Wiederholen Sie die Schritte 1 bis 3 für `eu-west-2`.",
        "Répétez les étapes 1 à 3 pour chaque nœud.",
        "Repita los pasos 1-3 en cada región.",
        "Powtórz kroki 1–3 dla pozostałych węzłów.",
    ],
)
def test_an_order_to_repeat_earlier_steps_is_a_persons_step_in_place(item: str) -> None:
    data = _import(
        f"""
        # Rolling upgrade
        ## Upgrade

        1. Drain the node:

           ```bash
           ./lb.sh drain node-1
           ```

        2. Undrain it:

           ```bash
           ./lb.sh undrain node-1
           ```

        3. {item}

        ### If the node does not come back

        ```bash
        ./lb.sh undrain node-1 --force
        ```
        """
    )
    steps = data["phases"][0]["steps"]
    assert [s.get("pause") for s in steps] == [None, None, "approve"], steps
    assert item.split(maxsplit=1)[0] in steps[-1]["name"]


def test_an_upload_to_a_publishing_tool_in_an_indented_block_runs_in_order() -> None:
    data = _import(
        """
        # Release
        ## Publish

        Build:

            python -m build

        Upload to the staging index first:

            twine upload --repository-url https://staging.example/simple dist/*

        Then publish the gem too:

            gem push pkg/tool-1.0.gem
        """
    )
    runs = [s.get("run", "") for s in data["phases"][0]["steps"]]
    assert runs == [
        "python -m build",
        "twine upload --repository-url https://staging.example/simple dist/*",
        "gem push pkg/tool-1.0.gem",
    ], runs


# -- checks before a conditional step ---------------------------------------------------------


def test_checks_before_an_option_run_before_its_decision_and_are_never_skipped_with_it() -> None:
    data = _import(
        """
        # Cache resize
        ## Resize

        ```bash
        ./cache resize --nodes 6
        ```

        ## Check

        Confirm the new size first:

        ```bash
        ./cache nodes --count
        ```

        If the hit ratio stays low after an hour, go back to three nodes:

        ```bash
        ./cache resize --nodes 3
        ```
        """
    )
    phase = data["phases"][1]
    decision, option = phase["steps"]
    assert "choose" in decision["pause"] and "when" not in decision
    # the check informs the choice: run before it is asked, whatever is chosen
    assert [g["command"] for g in decision["pre_gates"]] == ["./cache nodes --count"]
    assert option["when"] and "pre_gates" not in option
    assert "gates" not in phase


# -- blind round 8 safety classes --------------------------------------------------------------


def _forward_runs(data: dict[str, Any]) -> str:
    found = []
    for phase in data["phases"]:
        for step in phase.get("steps", []):
            if step.get("when") is None and step.get("run"):
                found.append(str(step["run"]))
        for gate in phase.get("gates", []):
            found.append(str(gate.get("command", "")))
    # comment lines are not run (`# [not run: never ends] …`)
    lines = "\n".join(found).splitlines()
    return "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))


@pytest.mark.parametrize(
    "lead",
    [
        "Do **not** restore an old snapshot over a live volume. Never type:",
        "Below is what **not** to run in production:",
        "**From the storage team:** never run `zpool destroy` on a shared pool. It has happened "
        "before, with this exact line:",
    ],
)
def test_a_prohibition_anywhere_in_the_lead_in_keeps_its_fence_from_running(lead: str) -> None:
    data = _import(
        f"""
        # Storage change
        ## Expand

        ```bash
        zpool add tank mirror sdc sdd
        ```

        {lead}

        ```bash
        zpool destroy tank
        ```
        """
    )
    assert "zpool add tank" in _forward_runs(data)
    assert "zpool destroy" not in _forward_runs(data)


def test_a_prohibition_elsewhere_that_names_nothing_in_the_fence_keeps_it_running() -> None:
    data = _import(
        """
        # Change
        ## Apply

        Run it when the window opens. Never run it twice: it is not idempotent. Then:

        ```bash
        ./migrate.sh --once
        ```
        """
    )
    assert "./migrate.sh --once" in _forward_runs(data)


@pytest.mark.parametrize(
    ("heading", "condition"),
    [
        ("## Hoàn tác", "Nếu lỗi tăng:"),  # Vietnamese
        ("## التراجع", "إذا فشل التحقق:"),  # Arabic
        ("## Pemulihan", "Jika gagal:"),  # Indonesian
        ("## Rollback (wapas lena)", "Agar error badhe:"),  # Hinglish
    ],
)
def test_rollback_sections_in_round_8_languages_never_run_forward(
    heading: str, condition: str
) -> None:
    data = _import(
        f"""
        # Deploy
        ## Deploy
        ```bash
        ./deploy.sh v2
        ```
        {heading}

        {condition}

        ```bash
        ./deploy.sh v1
        ```
        """
    )
    assert "./deploy.sh v1" not in _forward_runs(data)
    rollback = [str(a.get("run")) for p in data["phases"] for a in p.get("rollback", [])]
    assert any("./deploy.sh v1" in r for r in rollback), data


@pytest.mark.parametrize(
    "command",
    [
        "nomad alloc logs -f -job billing",
        "fly logs -f -a shop",
        "heroku logs --tail -a shop",
        "npx wrangler tail --env production",
        "az webapp log tail -n shop -g rg",
    ],
)
def test_any_clis_log_follower_is_never_a_plain_step(command: str) -> None:
    data = _import(
        f"""
        # Deploy
        ## Deploy
        ```bash
        ./deploy.sh v2
        {command}
        ```
        """
    )
    assert command not in _forward_runs(data)


@pytest.mark.parametrize("command", ["heroku logs --tail 200 -a shop", "tar -czf logs.tgz logs"])
def test_commands_that_end_are_not_log_followers(command: str) -> None:
    data = _import(
        f"""
        # Deploy
        ## Deploy
        ```bash
        {command}
        ```
        """
    )
    assert command in _forward_runs(data)


@pytest.mark.parametrize(
    "command", ["vault operator unseal", "bao operator generate-root", "vault login"]
)
def test_a_prompt_for_a_key_share_or_token_is_a_persons_step(command: str) -> None:
    data = _import(
        f"""
        # Break glass
        ## Unseal
        ```bash
        {command}
        ```
        """
    )
    assert command not in _forward_runs(data)


def test_a_chat_transcript_and_a_question_never_order_a_change() -> None:
    data = _import(
        """
        # Hotfix
        ## Context

        > **@sam** 09:12 — should we just drop the cache?
        > ```
        > memcflush --servers=cache:11211
        > ```
        > **@kim** 09:13 — no, restart the consumer instead.

        ## Fix

        Do we restart everything?

        ```bash
        kubectl -n shop rollout restart deploy
        ```

        Is the consumer healthy?

        ```bash
        curl -fsS http://consumer.internal/health
        ```
        """
    )
    forward = _forward_runs(data)
    assert "memcflush" not in forward
    assert "rollout restart" not in forward
    assert "consumer.internal/health" in forward  # a question over a check still runs


def test_a_notebook_export_runs_its_bash_cells_and_leaves_its_python_cells_to_a_person() -> None:
    result = import_markdown(
        textwrap.dedent(
            """
            # Rebuild the index (exported from rebuild.ipynb)
            ## Setup
            ```python
            %env ES_HOST=search.internal
            !curl -s $ES_HOST/_cat/health
            ```
            ## Rebuild
            ```bash
            %%bash
            ./rebuild_index.sh products
            ```
            """
        ),
        "DOC.md",
    )
    forward = _forward_runs(result.data)
    assert "./rebuild_index.sh products" in forward and "%%bash" not in forward
    assert "ES_HOST" not in forward
    assert not result.report["executable"]
    assert any("notebook" in r for r in result.report["not_executable"])


@pytest.mark.parametrize(
    "lead",
    [
        "Remove the old bucket once nobody has complained for 14 days:",
        "If it stays quiet for a week, drop the old bucket:",
    ],
)
def test_work_deferred_by_days_is_not_done_in_this_run(lead: str) -> None:
    data = _import(
        f"""
        # Migration
        ## Switch
        ```bash
        ./switch-bucket.sh new
        ```
        ## Cleanup

        {lead}

        ```bash
        aws s3 rb s3://old-bucket --force
        ```
        """
    )
    assert "./switch-bucket.sh new" in _forward_runs(data)
    assert "s3 rb" not in _forward_runs(data)


@pytest.mark.parametrize(
    "tabs",
    [
        # Docusaurus / MDX
        """
        <Tabs>
          <TabItem value="apt" label="Debian">

        ```bash
        sudo apt-get install -y agent=2.1
        ```

          </TabItem>
          <TabItem value="yum" label="RHEL">

        ```bash
        sudo yum install -y agent-2.1
        ```

          </TabItem>
        </Tabs>
        """,
    ],
)
def test_tabs_are_alternatives_only_one_runs(tabs: str) -> None:
    doc = "# Agent upgrade\n## Install\n" + textwrap.dedent(tabs)
    doc += "\n## Verify\n```bash\nagent --version\n```\n"
    data = import_markdown(doc, "DOC.md").data
    steps = data["phases"][0]["steps"]
    decision = steps[0]
    assert decision["pause"]["choose"]["options"] == ["debian", "rhel"], steps
    var = decision["pause"]["choose"]["var"]
    assert [s.get("when") for s in steps[1:]] == [
        f"vars.{var} == 'debian'",
        f"vars.{var} == 'rhel'",
    ]
    assert "apt-get" not in _forward_runs(data) and "yum" not in _forward_runs(data)
