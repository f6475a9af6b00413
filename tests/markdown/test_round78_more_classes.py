"""The classes of the ninth round of fixes (issue 11), each on small synthetic documents in
wordings and languages the blind rounds' documents do not use: a rule must hold for the class,
not for one document's text."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, prose_actions
from tests.conftest import CLI
from tests.markdown.cases_harness import import_case


def _imported(doc: str) -> Any:
    return import_markdown(textwrap.dedent(doc), "DOC.md")


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in data["phases"] for s in p.get("steps", [])]


# -- actions written only in prose are done by a person ---------------------------------------

_CONSOLE_ROLLOUT = """\
# Rolling out the VPN client

## Wave 1

```bash
touch "$RUN_DIR/packaged"
```

## Support team

{sentence}

## Notes

The client reconnects by itself after an update.
"""


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("In the Intune admin center, add the group `Wave-2` to the app's assignments.", "Wave-2"),
        ("Click **Assign** and pick the group `Wave-2`.", "Wave-2"),
        ("Open the Kandji library and change the blueprint to `Wave-2`.", "Wave-2"),
        ("Ajoutez le groupe `Wave-2` à l'affectation dans la console Intune.", "Wave-2"),
        ("Klicken Sie in der Konsole auf `Wave-2` und speichern Sie.", "Wave-2"),
        ("Seleccione el grupo `Wave-2` en la consola.", "Wave-2"),
        ("콘솔에서 `Wave-2` 그룹을 할당에 추가합니다.", "Wave-2"),
        ("在管理控制台中选择 `Wave-2` 分组并保存。", "Wave-2"),
        ("管理コンソールで `Wave-2` グループを割り当てに追加してください。", "Wave-2"),
        ("- Open the Intune admin center\n- Add `Wave-2` to the assignments", "Wave-2"),
    ],
)
def test_a_section_of_prose_actions_is_a_step_done_by_hand(sentence: str, name: str) -> None:
    result = _imported(_CONSOLE_ROLLOUT.format(sentence=sentence))
    wave1, wave2 = result.data["phases"]
    assert [s.get("run") for s in wave1["steps"]] == ['touch "$RUN_DIR/packaged"']
    [step] = wave2["steps"]
    assert step["pause"] == "approve" and "run" not in step  # a person does it; nothing runs
    assert name in step["name"]
    assert step["name"].startswith("Do by hand, then approve: Support team")
    # the rollout is partly done in a console: not executable as written, and it says why
    assert result.report["executable"] is False
    [why] = [r for r in result.report["not_executable"] if "written in prose" in r]
    assert "lines 9" in why
    assert [h["line"] for h in result.report["by_hand"]] == [9]


@pytest.mark.parametrize(
    "sentence",
    [
        "The client reconnects by itself after an update.",  # a description
        "Wave 2 starts on Monday and covers the support team.",  # a schedule, no order
        "Click-through rates are reported in the weekly dashboard.",  # a noun, not "click"
        "Upgrade Types",  # a heading-like line of Title Case words
        "See the vendor's release notes for what changed.",  # a pointer to read
        "Go to step 3 if the package was already signed.",  # a route in the document
    ],
)
def test_prose_that_orders_nothing_stays_prose(sentence: str) -> None:
    result = _imported(_CONSOLE_ROLLOUT.format(sentence=sentence))
    assert [p["name"] for p in result.data["phases"]] == ["Wave 1"]
    assert not result.report.get("by_hand")
    assert result.report["executable"] is True


def test_a_list_that_is_not_only_actions_is_no_procedure_of_a_person() -> None:
    """A list of what a playbook does, with notes between its items, describes automation."""
    doc = _CONSOLE_ROLLOUT.format(
        sentence="- Enable maintenance mode for the cluster\n"
        "  - Notes: the playbook pauses Patroni first\n"
        "- Reload the proxy service"
    )
    result = _imported(doc)
    assert not result.report.get("by_hand")


def test_an_objective_heading_states_what_not_how() -> None:
    result = _imported(
        "# Flag rollout\n\n## Step 1\n\n```bash\necho go\n```\n\n### Objective\n\n"
        "Add the flag check at the call site.\n"
    )
    assert not result.report.get("by_hand")
    assert result.report["executable"] is True


@pytest.mark.parametrize(
    "lead",
    [
        "In the Argo CD UI, click **Sync** on `shop-canary`. Then check from a terminal:",
        "Sélectionnez l'application `shop-canary` dans la console. Ensuite, vérifiez :",
        "콘솔에서 `shop-canary` 배포를 선택합니다. 그다음 터미널에서 확인합니다:",
    ],
)
def test_actions_before_a_lead_in_are_done_by_hand_before_its_fence(lead: str) -> None:
    result = _imported(
        f"# Canary\n\n## Step 1: Sync\n\n{lead}\n\n```bash\ncurl -fsS http://127.0.0.1:9/ok\n```\n"
    )
    [phase] = result.data["phases"]
    entries = [(s.get("pause"), s.get("run")) for s in phase.get("steps", [])]
    entries += [(None, g.get("command")) for g in phase.get("gates", [])]
    first = phase["steps"][0]
    assert first["pause"] == "approve" and "shop-canary" in first["name"]
    assert "check from a terminal" not in first["name"]  # the lead-in introduces the fence
    assert entries[-1][1] == "curl -fsS http://127.0.0.1:9/ok"  # the command, after the person
    assert result.report["executable"] is False


def test_a_conditional_action_before_a_lead_in_is_not_ordered() -> None:
    result = _imported(
        "# Canary\n\n## Step 1: Sync\n\nIf the sync is stuck, click **Terminate**. Then run:\n\n"
        "```bash\necho sync\n```\n"
    )
    assert not result.report.get("by_hand")


@pytest.mark.parametrize(
    ("sentence", "action"),
    [
        ("スコープを `All Managed Macs` に変更する。", True),
        ("`status: connected` と表示されること。", False),
        ("端末が Jamf の管理から外れ、再登録が必要になる。", False),
        ("Then, run the following:", False),
        ("Promote the release to the beta track in the Play Console.", True),
        ("Active runtime is PostgreSQL-only.", False),
        ("Nhấn nút `Purge` trong bảng điều khiển.", True),
        ("The policy will run automatically every 15 minutes.", False),
    ],
)
def test_what_reads_as_an_action(sentence: str, action: bool) -> None:
    assert prose_actions.is_action(sentence) is action


def test_the_run_stops_for_the_person_before_the_next_wave(cli: CLI) -> None:
    """For real: the first wave's command runs, then the run waits at the console step and the
    command after it has not run; approved, the run goes on."""
    doc = (
        '# VPN client\n\n## Wave 1\n\n```bash\ntouch "$RUN_DIR/wave1"\n```\n\n'
        "## Wave 2\n\nAdd the group `Wave-2` to the assignments in the Intune admin center.\n\n"
        '## Wave 3\n\n```bash\ntouch "$RUN_DIR/wave3"\n```\n'
    )
    case = import_case(cli, "vpn.md", text=doc)
    assert case.returncode == 0, case.stderr
    ran = case.run("--yes")
    assert ran.returncode == 4, ran.stderr
    assert ran.markers == {"wave1"}
    [waiting] = ran.awaiting()
    assert waiting["phase"] == "wave-2"
    done = case.approve(ran)
    assert done.returncode == 0, done.stderr
    assert done.markers == {"wave1", "wave3"}


# -- AsciiDoc in a Markdown file ----------------------------------------------------------------

_ASCIIDOC = """\
= Rotate the edge certificates
:toc:

.Before you start
* The new bundle is in the vault

== Stage the bundle on edge-2

[source,sh]
----
echo stage >> "$RUN_DIR/order.txt"
----

== Swap on edge-1

----
echo swap >> "$RUN_DIR/order.txt"
----

....
Certificate will not expire
....

== Rollback

[source,bash]
----
touch "$RUN_DIR/ROLLED-BACK"
----
"""


def test_asciidoc_sections_and_listing_blocks_are_read_as_sections_and_fences() -> None:
    result = _imported(_ASCIIDOC)
    data = result.data
    names = [p["name"] for p in data["phases"]]
    assert names[-2:] == ["Stage the bundle on edge-2", "Swap on edge-1"]
    runs = [s.get("run") for p in data["phases"] for s in p.get("steps", [])]
    assert runs == ['echo stage >> "$RUN_DIR/order.txt"', 'echo swap >> "$RUN_DIR/order.txt"']
    # the rollback section's block is rollback only, never forward
    rollback = [r["run"] for p in data["phases"] for r in p.get("rollback", [])]
    rollback += [r["run"] for r in data.get("rollback", [])]
    assert rollback == ['touch "$RUN_DIR/ROLLED-BACK"']
    # the literal block (sample output) and the delimiters run nothing
    assert not any("----" in str(r) or "Certificate" in str(r) for r in runs)
    # lines stay the document's: the step cites the command's own line
    assert [s["line"] for s in result.report["steps"]] == [11, 17]
    # read through a translation: a person checks it first
    assert result.report["asciidoc"][0]["line"] == 1
    assert any("AsciiDoc" in r for r in result.report["not_executable"])


def test_a_source_block_in_a_markdown_document_is_a_fence_of_its_language() -> None:
    doc = (
        "# Deploy\n\n## Step 1: Ship\n\n[source,bash]\n----\n"
        "kubectl set image deploy/api api=api:2.4.1\n----\n"
    )
    result = _imported(doc)
    [step] = result.data["phases"][0]["steps"]
    assert step["run"] == "kubectl set image deploy/api api=api:2.4.1"
    assert [s["line"] for s in result.report["steps"]] == [7]


def test_markdown_rules_and_setext_headings_are_no_asciidoc() -> None:
    doc = (
        "# Deploy\n\nStep 1: Ship\n----\n\n```bash\necho ship\n```\n\n----\n\n"
        "== not a heading here\n"
    )
    result = _imported(doc)
    assert not result.report.get("asciidoc")
    assert [p["name"] for p in result.data["phases"]] == ["Step 1: Ship"]
    assert result.report["executable"] is True


def test_an_asciidoc_runbook_runs_in_its_order_and_rolls_back_for_real(cli: CLI) -> None:
    case = import_case(cli, "certs.md", text=_ASCIIDOC)
    assert case.returncode == 0, case.stderr
    ran = case.run("--yes")
    awaiting = ran.awaiting()
    while awaiting:  # the "Before you start" check is a person's
        ran = case.approve(ran)
        awaiting = ran.awaiting()
    assert ran.returncode == 0, ran.stderr
    from pathlib import Path

    run_dir = Path(ran.status["vars"]["RUN_DIR"])
    assert (run_dir / "order.txt").read_text().split() == ["stage", "swap"]
    assert "ROLLED-BACK" not in ran.markers
    back = case.rollback(ran)
    assert "ROLLED-BACK" in back.markers


# -- MkDocs content tabs are alternatives -------------------------------------------------------

_MKDOCS_TABS = """\
# Install the agent

## Step 1: Install

=== "macOS"

    ```bash
    touch "$RUN_DIR/brew"
    ```

=== "Debian / Ubuntu"

    ```bash
    touch "$RUN_DIR/apt"
    ```

    Then enable it:

    ```bash
    touch "$RUN_DIR/enabled"
    ```

## Step 2: Verify

```bash
test -f "$RUN_DIR/enabled"
```
"""


def test_mkdocs_tabs_are_options_of_one_decision() -> None:
    result = _imported(_MKDOCS_TABS)
    install, verify = result.data["phases"]
    decide, *steps = install["steps"]
    choose = decide["pause"]["choose"]
    assert len(choose["options"]) == 2
    macos, debian = (f"vars.{choose['var']} == '{o}'" for o in choose["options"])
    assert [(s["run"], s["when"]) for s in steps] == [
        ('touch "$RUN_DIR/brew"', macos),
        ('touch "$RUN_DIR/apt"', debian),
        ('touch "$RUN_DIR/enabled"', debian),  # the tab's second block, still its tab
    ]
    # after the group, the document goes on at the margin, for every reader
    assert verify["gates"] == [{"command": 'test -f "$RUN_DIR/enabled"'}]
    # lines stay the document's
    assert {8, 14, 20} <= {s["line"] for s in result.report["steps"]}


def test_a_single_mkdocs_tab_is_read_but_decides_nothing() -> None:
    doc = '# A\n\n## Step 1\n\n=== "Linux"\n\n    ```bash\n    echo one\n    ```\n'
    [phase] = _imported(doc).data["phases"]
    assert [s.get("run") for s in phase["steps"]] == ["echo one"]
    assert "when" not in phase["steps"][0]


def test_tab_syntax_shown_inside_a_fence_is_no_tab() -> None:
    doc = '# A\n\n## Step 1\n\n```bash\n=== "Linux"\n    echo one\n```\n'
    assert '=== "Linux"' in _imported(doc).data["phases"][0]["steps"][0]["run"]


def test_only_the_chosen_tab_runs_for_real(cli: CLI) -> None:
    case = import_case(cli, "tabs.md", text=_MKDOCS_TABS)
    assert case.returncode == 0, case.stderr
    ran = case.run("--yes")
    assert ran.returncode == 4, ran.stderr  # the reader's platform is asked first
    assert ran.markers == set()
    choice = case.plan["phases"][0]["steps"][0]["pause"]["choose"]["options"][1]
    approved = cli("approve", ran.run_id, "--choose", choice, input="")
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", ran.run_id, "--no-output", input="")
    assert resumed.returncode == 0, resumed.stderr
    run_dir = ran.status["vars"]["RUN_DIR"]
    from pathlib import Path

    assert {p.name for p in Path(run_dir).iterdir()} >= {"apt", "enabled"}
    assert not Path(run_dir, "brew").exists()


# -- PowerShell smoke checks are checks -------------------------------------------------------


def _pwsh_doc(check: str, after: str = "") -> str:
    return (
        "# IIS\n\n## 1. Deploy\n\n```powershell\n"
        "Invoke-Command -ComputerName APP-02 -ScriptBlock { Start-WebAppPool -Name 'Shop' }\n"
        f"```\n\n## 2. Verify\n\n```powershell\n{check}\n```\n\n{after}\n"
    )


@pytest.mark.parametrize(
    ("check", "after", "expect"),
    [
        (
            "(Invoke-WebRequest -Uri 'http://APP-02/shop/ping' -UseBasicParsing).StatusCode",
            "Expected: `200`.",
            {"exit": 0, "stdout_contains": "200"},
        ),
        ("Invoke-RestMethod -Uri 'http://APP-02/api/health'", "", {"exit": 0}),
        (
            "Invoke-Command -ComputerName APP-02 -ScriptBlock { (Get-Service W3SVC).Status }",
            "Both must be `Running`.",
            {"exit": 0, "stdout_contains": "Running"},
        ),
    ],
)
def test_a_powershell_check_that_only_reads_is_a_pwsh_check(
    check: str, after: str, expect: dict[str, Any]
) -> None:
    data = _imported(_pwsh_doc(check, after)).data
    [gate] = data["phases"][1]["gates"]
    assert gate["shell"].startswith("pwsh ")
    assert gate["command"].endswith(check) and gate["expect"] == expect


def test_test_netconnection_is_a_tcp_check() -> None:
    data = _imported(_pwsh_doc("Test-NetConnection -ComputerName db-01 -Port 1433")).data
    assert data["phases"][1]["gates"] == [{"tcp": "db-01:1433"}]


@pytest.mark.parametrize(
    "check",
    [
        "Restart-Service W3SVC",  # a change under a check's heading is no check
        "Invoke-RestMethod -Method Post -Uri 'http://APP-02/api/cache/flush'",
        "Get-Service W3SVC | Stop-Service",
        "(Get-Service W3SVC).Status",  # reads, but what passing looks like is not said
    ],
)
def test_a_powershell_check_that_changes_or_says_nothing_is_a_persons(check: str) -> None:
    data = _imported(_pwsh_doc(check)).data
    verify = data["phases"][1]
    assert not verify.get("gates")
    [step] = verify["steps"]
    assert step["pause"] == "approve" and "run" not in step


def test_a_value_an_earlier_powershell_block_queried_is_queried_again() -> None:
    doc = (
        "# POS\n\n## 1. Pilot\n\n```powershell\n"
        '$pilot = Get-ADComputer -Filter * -SearchBase "OU=Store7,DC=corp"\n'
        "$Version = '5.2.0'\n"
        "Invoke-Command -ComputerName $pilot.Name -ScriptBlock { choco upgrade agent -y }\n"
        "```\n\n## 2. Check\n\n```powershell\n"
        "Invoke-Command -ComputerName $pilot.Name -ScriptBlock { (Get-Service Agent).Status }\n"
        "```\n\nAll must be `Running`.\n\n## 3. Tag\n\n```powershell\n"
        "$stamp = New-Guid\nSet-Content -Path C:/pos/version.txt -Value $Version\n```\n\n"
        "## 4. Use the stamp\n\n```powershell\nWrite-Output $stamp\n```\n"
    )
    data = _imported(doc).data
    [gate] = data["phases"][1]["gates"]
    assert gate["command"].splitlines()[1] == (
        '$pilot = Get-ADComputer -Filter * -SearchBase "OU=Store7,DC=corp"'
    )
    # a literal is set again too; a value made by a change (`New-Guid`) is not: a person runs it
    [tag] = data["phases"][2]["steps"]
    assert "$Version = '5.2.0'" in tag["run"]
    [stamp] = data["phases"][3]["steps"]
    assert stamp["pause"] == "approve" and "run" not in stamp


# -- human decisions written as prose are manual gates ------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Soak for 45 minutes. Watch the latency panel.",
        "Leave it in canary for at least two hours and look at the error budget.",
        "Wait for the release manager to confirm in the release channel.",
        "Wait for the PM's OK.",
        "Proceed only after the on-call lead's sign-off.",
        "The DBA must be on the bridge before you continue.",
        "Do ghante ruko, phir dashboard dekho.",
        "Se la replica non è allineata, non procedere.",
        "Si la réplica no está sincronizada, no continúes.",
        "Wenn die Replik nicht synchron ist, nicht fortfahren.",
        "Keep a separate root terminal open on the host while you change sshd.",
    ],
)
def test_a_persons_word_written_as_prose_pauses_the_run_there(sentence: str) -> None:
    doc = (
        "# Rollout\n\n## Step 1: Canary\n\n```bash\necho canary\n```\n\n"
        f"{sentence}\n\n```bash\nkubectl scale deploy/web --replicas=10\n```\n"
    )
    [phase] = _imported(doc).data["phases"]
    kinds = [("pause" if "pause" in s else s["run"]) for s in phase["steps"]]
    assert kinds == ["echo canary", "pause", "kubectl scale deploy/web --replicas=10"]


def test_a_stop_over_a_fence_keeps_the_fence_a_remedy() -> None:
    doc = (
        "# Rollout\n\n## Step 1: Check\n\n```bash\necho check\n```\n\n"
        "Se la replica non è allineata, non procedere ed esegui:\n\n"
        "```bash\necho resync-replica\n```\n"
    )
    [phase] = _imported(doc).data["phases"]
    forward = [s.get("run") for s in phase.get("steps", []) if "when" not in s]
    assert "echo resync-replica" not in forward


# -- tables: a change is a step; a rollback table's condition is a trigger -----------------------


def test_a_changing_command_in_a_steps_table_is_a_step_not_a_check() -> None:
    doc = (
        "# Rotate\n\n## Switch\n\n| Step | Command | Expected |\n|---|---|---|\n"
        "| 1 | `aws s3api put-bucket-versioning --bucket b --versioning-configuration "
        "Status=Enabled` | exit 0 |\n"
        "| 2 | `aws s3api get-bucket-versioning --bucket b` | exit 0 |\n"
    )
    [phase] = _imported(doc).data["phases"]
    assert [s["run"].split()[2] for s in phase["steps"]] == ["put-bucket-versioning"]
    assert [g["command"].split()[2] for g in phase["gates"]] == ["get-bucket-versioning"]


def test_a_rollback_table_of_conditions_and_commands() -> None:
    doc = (
        "# Rotate\n\n## Switch\n\n```bash\necho switch\n```\n\n## Rollback\n\n"
        "| When | Then run |\n|---|---|\n"
        "| logins fail with `401` | `kubectl rollout undo deploy/auth` |\n"
    )
    result = _imported(doc)
    data = result.data
    rollback = [r["run"] for p in data["phases"] for r in p.get("rollback", [])]
    rollback += [r["run"] for r in data.get("rollback", [])]
    assert rollback == ["kubectl rollout undo deploy/auth"]
    forward = [s.get("run") for p in data["phases"] for s in p.get("steps", [])]
    assert "kubectl rollout undo deploy/auth" not in forward
    [trigger] = data["triggers"]
    assert trigger["action"] == "rollback" and "401" in trigger["name"]


# -- rollback triggers stated in other languages --------------------------------------------------


@pytest.mark.parametrize(
    ("lead", "metric", "value"),
    [
        ("エラー率が 2% を超える場合は、以前のバージョンに戻す：", "エラー率", 0.02),
        ("レイテンシが 800 ms 以上になったら、次を実行する：", None, None),  # no 場合: no trigger
        ("Nếu độ trễ p99 vượt quá 800 ms trong 5 phút:", "độ trễ p99", 0.8),
        ("Agar error rate 3% se zyada ho jaye:", "error rate", 0.03),
        ("如果错误率超过 2%：", "错误率", 0.02),
        ("If queue depth grows past 50k messages:", "queue depth", 50000.0),
    ],
)
def test_a_rollback_lead_in_in_another_language_states_its_trigger(
    lead: str, metric: str | None, value: float | None
) -> None:
    doc = (
        "# Deploy\n\n## Step 1: Deploy\n\n```bash\necho deploy\n```\n\n## Rollback\n\n"
        f"{lead}\n\n```bash\nkubectl rollout undo deploy/web\n```\n"
    )
    data = _imported(doc).data
    forward = [s.get("run") for p in data["phases"] for s in p.get("steps", [])]
    assert "kubectl rollout undo deploy/web" not in forward  # rollback only, in every case
    found = data.get("triggers") or []
    if metric is None:
        assert not found
        return
    [trigger] = found
    assert trigger["action"] == "rollback"
    assert metric in trigger["description"]
    op, number = trigger["check"]["failure"].removeprefix("value ").split()
    assert (op, float(number)) == (">", value)  # it fires on the bad side only


def test_an_action_first_lead_in_names_its_trigger_anywhere() -> None:
    doc = (
        "# Canary\n\n## Step 1: Canary\n\n```bash\necho canary\n```\n\n"
        "Roll back the canary if its p99 latency is more than 250 ms:\n\n"
        "```bash\nkubectl argo rollouts abort web\n```\n"
    )
    data = _imported(doc).data
    [trigger] = data["triggers"]
    assert trigger["action"] == "rollback" and "p99 latency" in trigger["description"]
    assert trigger["check"]["failure"] == "value > 0.25"
    forward = [s.get("run") for p in data["phases"] for s in p.get("steps", []) if "when" not in s]
    assert "kubectl argo rollouts abort web" not in forward


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("error rate in the past 5 minutes > 2%", "> 2%"),  # "past" alone is a window
        ("CPU 使用率が 30% を超える", "30% を超える"),
        ("오류율 1% 초과", "1% 초과"),
        ("p99 가 500 ms 이상", "500 ms 이상"),
    ],
)
def test_comparisons_after_the_number(text: str, shown: str) -> None:
    from phasegate.markdown import thresholds

    found = thresholds.parse(text)
    assert found is not None and found.shown == shown


# -- an edit a person makes in a file, a release done by hand in a console -------------------------


@pytest.mark.parametrize(
    ("lead", "lang"),
    [
        ("In `values.yaml`, under `image`, change the `tag`:", "yaml"),
        ("Set the pool size in `pgbouncer.ini`:", "ini"),
        ("Then add the upstream to `nginx.conf`:", "nginx"),
        ("Ändern Sie in `app.toml` den Wert:", "toml"),
        ("Dans `config.json`, remplacez l'origine :", "json"),
    ],
)
def test_a_config_listing_under_an_edit_is_a_step_done_by_hand_before_the_apply(
    lead: str, lang: str
) -> None:
    doc = (
        "# Config\n\n## Step 1: Change\n\n"
        f"{lead}\n\n```{lang}\nkey = value\n```\n\n```bash\n./apply-config.sh\n```\n"
    )
    [phase] = _imported(doc).data["phases"]
    first, second = phase["steps"]
    assert first["pause"] == "approve" and "run" not in first
    assert f"the {lang} listing at line 7" in first["name"]
    assert second["run"] == "./apply-config.sh"  # applied after the person edited the file


@pytest.mark.parametrize(
    "lead",
    [
        "For example, a minimal `values.yaml` looks like this:",  # an illustration
        "The resulting file:",  # shows, orders nothing
        "The current settings, as they are today:",  # a state shown
    ],
)
def test_a_listing_that_orders_no_edit_stays_data(lead: str) -> None:
    doc = (
        f"# Config\n\n## Step 1: Change\n\n{lead}\n\n```yaml\nkey: value\n```\n\n"
        "```bash\necho go\n```\n"
    )
    [phase] = _imported(doc).data["phases"]
    assert [s.get("run") for s in phase["steps"]] == ["echo go"]


def test_a_release_done_manually_in_a_console_before_a_table_is_a_persons_step() -> None:
    doc = (
        "# App release\n\n## Submit\n\n```bash\nfastlane ios release\n```\n\n"
        "Once the review passes, publish it manually from the Play Console → *Release*. "
        "The rollout then follows the store's schedule:\n\n"
        "| Day | Users |\n|---|---|\n| 1 | 1 % |\n| 2 | 5 % |\n"
    )
    result = _imported(doc)
    steps = result.data["phases"][0]["steps"]
    assert steps[0]["run"] == "fastlane ios release"
    assert steps[1]["pause"] == "approve" and "Play Console" in steps[1]["name"]
    assert result.report["executable"] is False


@pytest.mark.parametrize(
    ("lead", "trigger"),
    [
        ("Check the dashboard. If checkout success rate is below 97 %, turn the flag off:", True),
        ("Watch Grafana. If the error rate exceeds 2%, disable the feature:", True),
        ("If p99 latency is above 800 ms, roll back:", True),
        ("If the success rate is above 99 %, turn the old path off:", False),  # a good state
        ("If you no longer need it, turn the flag off:", False),  # no measured condition
    ],
)
def test_a_measured_bad_state_and_its_undo_is_a_trigger_and_the_undo_stays_an_option(
    lead: str, trigger: bool
) -> None:
    doc = (
        "# Launch\n\n## T-0\n\n```bash\n./flag.sh shop on\n```\n\n## T+15m\n\n"
        f"{lead}\n\n```bash\n./flag.sh shop off\n```\n"
    )
    data = _imported(doc).data
    forward = [s.get("run") for p in data["phases"] for s in p.get("steps", []) if "when" not in s]
    assert "./flag.sh shop off" not in forward  # never run unconditionally
    found = data.get("triggers") or []
    assert bool(found) is trigger
    if trigger:
        assert found[0]["action"] == "rollback"
        assert "off" not in found[0]["description"]  # the condition, not the remedy


# -- a MkDocs admonition titled by a condition holds that condition's remedy ----------------------


@pytest.mark.parametrize(
    "title",
    ["If clients report certificate errors", "When the canary fails", "Rollback"],
)
def test_a_conditional_mkdocs_admonition_holds_a_remedy_never_forward(title: str) -> None:
    doc = (
        "# TLS\n\n## 1. Swap\n\n```bash\nkubectl apply -f new-cert.yaml\n```\n\n"
        f'!!! danger "{title}"\n    Switch back immediately:\n\n'
        "    ```bash\n    kubectl apply -f old-cert.yaml\n    ```\n\n## 2. Verify\n\n"
        "```bash\ncurl -fsS https://example.com/health\n```\n"
    )
    data = _imported(doc).data
    forward = [s.get("run") for p in data["phases"] for s in p.get("steps", []) if "when" not in s]
    assert forward[0] == "kubectl apply -f new-cert.yaml"
    assert "kubectl apply -f old-cert.yaml" not in forward
    rollback = [r["run"] for p in data["phases"] for r in p.get("rollback", [])]
    rollback += [r["run"] for r in data.get("rollback", [])]
    assert "kubectl apply -f old-cert.yaml" in rollback


def test_an_mkdocs_admonition_of_another_title_stays_text() -> None:
    doc = (
        "# TLS\n\n## 1. Swap\n\n```bash\nkubectl apply -f new-cert.yaml\n```\n\n"
        '!!! example "A bigger cluster"\n    ```bash\n    kubectl apply -f big.yaml\n    ```\n'
    )
    data = _imported(doc).data
    runs = [s.get("run") for p in data["phases"] for s in p.get("steps", [])]
    runs += [r.get("run") for p in data["phases"] for r in p.get("rollback", [])]
    assert runs == ["kubectl apply -f new-cert.yaml"]


@pytest.mark.parametrize("glyph", ["⚠️", "🚨", "❗"])
def test_a_quoted_warning_led_by_a_glyph_is_acknowledged_where_it_stands(glyph: str) -> None:
    doc = (
        "# Undo\n\n## Step 1: Reverse\n\n```bash\n./manage.py migrate shop 0041\n```\n\n"
        f"> {glyph} Migration `0042` drops a column on the way back: check first that "
        "`SELECT count(*) FROM shop_order WHERE note_v2 IS NOT NULL;` returns 0.\n\n"
        "## Step 2: Restart\n\n```bash\nsudo systemctl restart shop\n```\n"
    )
    first, second = _imported(doc).data["phases"]
    runs = [s.get("run") for s in first["steps"]]
    assert runs[0] == "./manage.py migrate shop 0041"
    [warning] = [s for s in first["steps"] if "pause" in s]
    assert warning["name"].startswith("Confirm (warning):") and "note_v2" in warning["name"]
    assert [s["run"] for s in second["steps"]] == ["sudo systemctl restart shop"]


def test_output_a_person_saves_as_files_is_a_step_before_the_command_that_reads_them() -> None:
    doc = (
        "# Move\n\n## Step 1: Plan\n\n```bash\nkafka-reassign-partitions.sh --generate > plan.txt\n"
        "```\n\nIt prints two blobs. Copy them into `back.json` and `move.json`:\n\n```\n"
        'Current assignment\n{"version":1}\n\nProposed assignment\n{"version":1}\n```\n\n'
        "```bash\nkafka-reassign-partitions.sh --reassignment-json-file move.json --execute\n```\n"
    )
    [phase] = _imported(doc).data["phases"]
    kinds = [("pause" if "pause" in s else s["run"].split()[1]) for s in phase["steps"]]
    assert kinds == ["--generate", "pause", "--reassignment-json-file"]
    assert "the text listing at line 11" in phase["steps"][1]["name"]
