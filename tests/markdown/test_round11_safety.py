"""Blind round 11's safety classes (issue 11), each a general rule tested on wordings written
here, never the round's documents: what runs forward, what runs on rollback, what pauses for a
person (plan_walk.py walks the imported plans)."""

from __future__ import annotations

import pytest

from tests.markdown.plan_walk import (
    bindings_of,
    imported,
    manual_texts,
    roles_of,
    runs_forward,
    runs_of,
)

# A forward procedure, then a section whose heading is the wording under test.
_DOC = """# Upgrade the billing service

## Steps

```bash
systemctl restart billing-forward
```

## {heading}

```bash
systemctl restart billing-other
```
"""

# Class A: the way back / an undo / a restore / an emergency stop, in the languages round 11
# showed missing: the section's commands run on rollback, never forward.
WAY_BACK = [
    ("bg", "Ръчно връщане"),
    ("bg", "Връщане назад"),
    ("bg", "Възстановяване"),
    ("bg", "Аварийно спиране"),
    ("da", "Tilbagerulning"),
    ("da", "Rul tilbage"),
    ("da", "Gendannelse"),
    ("da", "Fortryd ændringen"),
    ("da", "Nødstop"),
    ("no", "Tilbakerulling"),
    ("no", "Gjenoppretting"),
    ("no", "Angre endringen"),
    ("no", "Nødstopp"),
    ("sv", "Rulla tillbaka"),
    ("sv", "Ångra ändringen"),
    ("sv", "Nödstopp"),
    ("hr", "Vraćanje na prethodnu verziju"),
    ("hr", "Poništavanje promjena"),
    ("hr", "Hitno zaustavljanje"),
    ("sr", "Враћање на претходну верзију"),
    ("sr", "Povratak na staru verziju"),
    ("sr", "Опоравак"),
    ("sk", "Vrátenie zmien"),
    ("sk", "Núdzové zastavenie"),
    ("sl", "Povrnitev"),
    ("sl", "Razveljavitev sprememb"),
    ("sl", "Obnovitev"),
    ("ca", "Marxa enrere"),
    ("ca", "Tornar enrere"),
    ("ca", "Desfer el canvi"),
    ("ca", "Aturada d'emergència"),
    ("ms", "Undur semula"),
    ("ms", "Pulihkan versi lama"),
    ("ms", "Hentian kecemasan"),
    ("id", "Pengembalian"),
    ("id", "Penghentian darurat"),
    ("tl", "Pagbabalik"),
    ("tl", "Kung kailangang itigil"),
    ("tl", "Ibalik ang dating bersyon"),
    ("ja", "切り戻し"),
    ("ja", "復元手順"),
    ("ja", "緊急停止"),
    ("zh", "回滚"),
    ("zh", "恢复旧版本"),
    ("zh", "紧急停止"),
    ("ko", "롤백"),
    ("ko", "긴급 중지"),
    ("el", "Επαναφορά"),
    ("el", "Αναίρεση αλλαγών"),
    ("el", "Έκτακτη διακοπή"),
    ("he", "שחזור"),
    ("he", "עצירת חירום"),
    ("hi", "रोलबैक"),
    ("hi", "आपातकालीन रोक"),
    ("th", "ย้อนกลับ"),
    ("th", "หยุดฉุกเฉิน"),
    ("en", "Step 6 — Manual restore"),
]


@pytest.mark.parametrize(("lang", "heading"), WAY_BACK)
def test_a_way_back_heading_runs_on_rollback_never_forward(lang: str, heading: str) -> None:
    data = imported(_DOC.format(heading=heading)).data
    assert not runs_forward(data, "billing-other"), (lang, heading)
    assert roles_of(data, "billing-other") == [("rollback", None)], (lang, heading)
    # the forward procedure is still the path
    assert runs_forward(data, "billing-forward")


# Class A: a condition ("if it fails"), an "only if", and work put days later: never forward.
NOT_FORWARD = [
    ("bg", "Ако обновяването се провали"),
    ("bg", "Само ако DBA одобри"),
    ("bg", "Почистване след 7 дни"),
    ("da", "Hvis opgraderingen fejler"),
    ("da", "Kun hvis testeren siger nej"),
    ("da", "Oprydning efter 7 dage"),
    ("no", "Hvis oppgraderingen feiler"),
    ("no", "Bare hvis vaktlederen sier ja"),
    ("no", "Opprydding etter 14 dager"),
    ("sv", "Endast om kunden ber om det"),
    ("hr", "Ako nadogradnja ne uspije"),
    ("hr", "Samo ako voditelj odobri"),
    ("hr", "Čišćenje nakon 7 dana"),
    ("sr", "Ако не успе"),
    ("sr", "Само ако вођа тима одобри"),
    ("sk", "Ak aktualizácia zlyhá"),
    ("sk", "Iba ak to schváli vedúci"),
    ("sk", "Upratovanie po 7 dňoch"),
    ("sl", "Če nadgradnja ne uspe"),
    ("sl", "Samo če vodja odobri"),
    ("sl", "Čiščenje po 7 dneh"),
    ("ca", "Si l'actualització falla"),
    ("ca", "Només si el responsable ho aprova"),
    ("ca", "Neteja després de 7 dies"),
    ("ms", "Jika naik taraf gagal"),
    ("ms", "Hanya jika ketua pasukan setuju"),
    ("ms", "Pembersihan selepas 7 hari"),
    ("id", "Jika pembaruan gagal"),
    ("id", "Hanya jika DBA setuju"),
    ("id", "Pembersihan setelah 7 hari"),
    ("tl", "Kung pumalya ang upgrade"),
    ("tl", "Lamang kung pumayag ang DBA"),
    ("tl", "Paglilinis pagkalipas ng 7 araw"),
    ("ja", "アップグレードに失敗した場合"),
    ("ja", "DBA が承認した場合のみ"),
    ("ja", "1 週間問題がなければ"),
    ("zh", "如果升级失败"),
    ("zh", "仅当组长批准时"),
    ("ko", "업그레이드 실패 시"),
    ("ko", "팀장이 승인한 경우에만"),
    ("el", "Αν η αναβάθμιση αποτύχει"),
    ("el", "Μόνο αν εγκρίνει ο υπεύθυνος"),
    ("el", "Καθαρισμός μετά από 7 ημέρες"),
    ("he", "אם השדרוג נכשל"),
    ("he", "רק אם ראש הצוות מאשר"),
    ("he", "ניקוי אחרי 7 ימים"),
    ("hi", "अगर अपग्रेड विफल हो"),
    ("hi", "केवल तभी जब लीड मंज़ूरी दे"),
    ("hi", "7 दिन बाद सफ़ाई"),
    ("th", "หากการอัปเกรดล้มเหลว"),
    ("th", "เฉพาะเมื่อหัวหน้าอนุมัติ"),
    ("th", "ล้างข้อมูลหลังจาก 7 วัน"),
]


@pytest.mark.parametrize(("lang", "heading"), NOT_FORWARD)
def test_a_conditional_only_if_and_later_sections_never_run_forward(
    lang: str, heading: str
) -> None:
    data = imported(_DOC.format(heading=heading)).data
    assert not runs_forward(data, "billing-other"), (lang, heading, roles_of(data, "billing-other"))
    # it still exists: a rollback/recovery action or a step bound to a person's decision
    roles = roles_of(data, "billing-other")
    assert roles and all(role == "rollback" or when for role, when in roles), (lang, heading)
    assert runs_forward(data, "billing-forward")


# Class C: commands that stream until someone stops them are never plain steps or gates.
_STREAM_DOC = """# Roll the edge config

## 1. Apply

```bash
systemctl reload edge-forward
```

## 2. Watch it

```bash
{command}
```

## 3. Finish

```bash
systemctl restart edge-finish
```
"""

STREAMING = [
    "ssh -t edge-07 'sudo varnishlog -g request'",
    'ssh cache-3 "journalctl -u nginx -f"',
    "ssh -t db-1 'sudo tail -F /var/log/postgresql/main.log'",
    "varnishncsa -F '%s %U'",
    "gcloud beta run services logs tail billing-api --region europe-west1",
    "gcloud alpha logging tail 'resource.type=cloud_run_revision'",
    "az webapp log tail --name shop --resource-group rg",
    "istioctl dashboard grafana",
    "linkerd viz dashboard",
    "minikube dashboard --url",
    "sudo tcpdump -i eth0 port 443",
    "dmesg -w",
    "redis-cli -h cache monitor",
    "inotifywait -m /etc/nginx",
    "kafka-console-consumer --bootstrap-server k:9092 --topic orders",
    "vmstat 5",
]


@pytest.mark.parametrize("command", STREAMING)
def test_c_streaming_commands_are_never_plain_steps(command: str) -> None:
    data = imported(_STREAM_DOC.format(command=command)).data
    local = not command.startswith(("ssh", "sudo"))
    needle = command.split(maxsplit=1)[0] if local else command[-12:]
    assert not any(role in ("step", "gate") for role, _ in roles_of(data, needle)), (
        command,
        roles_of(data, needle),
    )
    # it is kept: a monitor beside the phase, or a manual step a person runs in another window
    watched = [m for p in data["phases"] for m in p.get("monitors", [])]
    assert any(needle in str(m) for m in watched) or any(
        needle in text for text in manual_texts(data)
    ), (command, data["phases"])
    # the steps around it still run, in order
    assert runs_forward(data, "edge-forward") and runs_forward(data, "edge-finish")


BOUNDED = [
    "ssh edge-07 'sudo varnishadm vcl.list'",
    "varnishlog -d -g request -q 'RespStatus >= 500'",
    "sudo tcpdump -c 100 -i eth0 port 443",
    "vmstat 5 3",
    "gcloud run services describe billing-api --region europe-west1",
    "kubectl get --raw /api/v1/nodes",
]


@pytest.mark.parametrize("command", BOUNDED)
def test_c_bounded_commands_stay_steps(command: str) -> None:
    data = imported(_STREAM_DOC.format(command=command)).data
    assert runs_forward(data, command.split("'", maxsplit=1)[0].strip()), (command, runs_of(data))


# Class D: MyST / Quarto directive fences. Code directives hold commands (their option lines
# are the renderer's); text directives are text, never run.
def test_d_myst_code_block_runs_without_its_options_and_admonitions_never_run() -> None:
    doc = """# Rotate the cache config

## Prepare

```{code-block} bash
:caption: on cache-3
:linenos:

rsync -a build/cache.conf cache-3:/etc/cache/next.conf
```

```{danger}
If `reload` prints `syntax error near line 4`, the config is broken. Stop.
```

```{note}
rm -rf /etc/cache/old is what the previous team did; we keep the old file.
```

## Apply

```{code} sh
ssh cache-3 'sudo cachectl reload next'
```
"""
    data = imported(doc).data
    runs = runs_of(data)
    # the commands run, in order, without the option lines
    steps = [text for role, text, _ in runs if role == "step"]
    assert steps[0].strip() == "rsync -a build/cache.conf cache-3:/etc/cache/next.conf"
    assert "cachectl reload next" in steps[1]
    assert not any(":caption:" in text or ":linenos:" in text for _, text, _ in runs)
    # the admonitions' text never runs; the warning is acknowledged by a person
    assert not any("syntax error" in text or "rm -rf" in text for _, text, _ in runs)
    assert any("syntax error near line 4" in text for text in manual_texts(data))


def test_d_quarto_chunks_are_commands_in_their_language() -> None:
    doc = """# Swap the reporting table

## Build

```{bash}
#| label: build
#| echo: true
make -C reports build-v2
```

## Swap

```{bash, eval=FALSE}
make -C reports swap
```
"""
    data = imported(doc).data
    steps = [text.strip() for role, text, _ in runs_of(data) if role == "step"]
    assert steps == ["make -C reports build-v2", "make -C reports swap"]


@pytest.mark.parametrize(
    "opener", [":::{dropdown} Roll back", ":::{admonition} Revert", ":::details Undo"]
)
def test_d_titled_container_rollback_runs_on_rollback_only(opener: str) -> None:
    doc = f"""# Rotate the cache config

## Apply

```bash
ssh cache-3 'sudo cachectl use next'
```

{opener}
:color: danger

Switch back if the hit ratio drops:

```bash
ssh cache-3 'sudo cachectl use previous'
```
:::

## Finish

```bash
ssh cache-3 'sudo cachectl discard old'
```
"""
    data = imported(doc).data
    assert roles_of(data, "cachectl use previous") == [("rollback", None)]
    # the container's end ends the rollback: what follows is forward again
    assert runs_forward(data, "cachectl use next") and runs_forward(data, "cachectl discard old")


@pytest.mark.parametrize(
    "heading",
    [
        "Don't",
        "Do not",
        "What we do NOT do",
        "Må ikke",
        "Какво НЕ правим",
        "Què no fer",
        "Huwag",
        "禁止",
    ],
)
def test_d_a_prohibition_heading_is_never_run(heading: str) -> None:
    data = imported(_DOC.format(heading=heading)).data
    assert roles_of(data, "billing-other") == []
    assert runs_forward(data, "billing-forward")


def _decision_steps(data: dict[str, object], needle: str) -> list[str | None]:
    return [when for role, when in roles_of(data, needle) if role == "step"]


# Class B: alternatives become one decision; only the chosen branch runs.
@pytest.mark.parametrize(
    ("open_group", "tab_a", "tab_b", "end_tab", "close_group"),
    [
        (
            "{% tabs %}",
            '{% tab title="Debian" %}',
            '{% tab title="RHEL" %}',
            "{% endtab %}",
            "{% endtabs %}",
        ),
        (
            "{{< tabs >}}",
            '{{< tab "Debian" >}}',
            '{{< tab "RHEL" >}}',
            "{{< /tab >}}",
            "{{< /tabs >}}",
        ),
        ("<Tabs>", '<Tab title="Debian">', '<Tab title="RHEL">', "</Tab>", "</Tabs>"),
    ],
)
def test_b_tab_syntaxes_are_one_decision(
    open_group: str, tab_a: str, tab_b: str, end_tab: str, close_group: str
) -> None:
    doc = f"""# Install the agent

## 1. Install

{open_group}
{tab_a}

```bash
sudo apt-get install -y metrics-agent
```

{end_tab}

{tab_b}

```bash
sudo dnf install -y metrics-agent
```

{end_tab}
{close_group}

## 2. Start

```bash
sudo systemctl enable --now metrics-agent
```
"""
    data = imported(doc).data
    apt, dnf = _decision_steps(data, "apt-get install"), _decision_steps(data, "dnf install")
    # each runs only when chosen, and never both: two different conditions
    assert len(apt) == 1 and len(dnf) == 1 and apt[0] and dnf[0] and apt[0] != dnf[0]
    assert not runs_forward(data, "apt-get install") and not runs_forward(data, "dnf install")
    assert any(text.startswith("Decide:") for text in manual_texts(data))
    assert runs_forward(data, "systemctl enable --now metrics-agent")


@pytest.mark.parametrize(
    ("heading", "a", "b"),
    [
        ("2. Run the import (pick A or B)", "**A. In tmux**", "**B. With nohup**"),
        ("2. Run the import", "**A) In tmux**", "**B) With nohup**"),  # sentence says choose
        ("2. Kør importen (vælg A eller B)", "**A. I tmux**", "**B. Med nohup**"),
        ("2. Jalankan impor (pilih A atau B)", "**A. Dengan tmux**", "**B. Dengan nohup**"),
        ("2. インポートを実行（どちらか一方）", "**A. tmux で**", "**B. nohup で**"),
    ],
)
def test_b_lettered_ways_after_a_choice_are_one_decision(heading: str, a: str, b: str) -> None:
    choose = (
        "Choose one of the two ways:\n\n" if "pick" not in heading and "(" not in heading else ""
    )
    doc = f"""# Import the ledger

## 1. Prepare

```bash
./bin/prepare-import
```

## {heading}

{choose}{a}

```bash
./bin/import-ledger --from 2024 | tee import.log
```

{b}

```bash
nohup ./bin/import-ledger --from 2024 > import.log 2>&1 &
```

## 3. Verify

```bash
./bin/verify-import
```
"""
    data = imported(doc).data
    first = _decision_steps(data, "import-ledger --from 2024 | tee")
    second = _decision_steps(data, "nohup ./bin/import-ledger")
    assert len(first) == 1 and len(second) == 1 and first[0] and second[0]
    assert first[0] != second[0]
    assert runs_forward(data, "prepare-import") and runs_forward(data, "verify-import")


def test_b_lettered_substeps_without_a_choice_all_run() -> None:
    doc = """# Import the ledger

## 2. Run the import

**A. Stop the writers**

```bash
./bin/stop-writers
```

**B. Import**

```bash
./bin/import-ledger --from 2024
```
"""
    data = imported(doc).data
    assert runs_forward(data, "stop-writers") and runs_forward(data, "import-ledger")


@pytest.mark.parametrize(
    "mark", ["# training cluster ONLY", "# test environment only", "# only against the lab cluster"]
)
def test_b_a_fence_marked_for_a_non_production_environment_never_runs(mark: str) -> None:
    doc = f"""# Replace a node

## Environment

```bash
# production
export DB_HOST=db-prod-1.internal:26257
```

```bash
{mark}
dbctl node status --insecure --host=localhost:26257
```

## 1. Replace

```bash
dbctl node decommission 7 --host=$DB_HOST
```
"""
    data = imported(doc).data
    assert not runs_forward(data, "--insecure")
    assert runs_forward(data, "export DB_HOST") and runs_forward(data, "decommission 7")


def test_b_a_check_whose_sentence_names_a_restore_is_a_check_not_a_rollback() -> None:
    doc = """# Migrate the node pool

## Pre-flight

1.  Confirm nothing else is restoring right now:

    ```bash
    velero restore get
    ```

## 1. Migrate

```bash
kubectl drain node-a --ignore-daemonsets
```
"""
    data = imported(doc).data
    assert "rollback" not in [role for role, _ in roles_of(data, "velero restore get")]
    assert roles_of(data, "velero restore get")


# Class F: placeholders in other forms need binding; the plan is not executable as written.
@pytest.mark.parametrize(
    ("command", "placeholder"),
    [
        ("git tag -s v{{ .Version }} -m release", "{{ .Version }}"),
        ("gh api -X PATCH repos/acme/x/milestones/{{.MilestoneNumber}}", "{{.MilestoneNumber}}"),
        ("sudo nft -f /root/nft-backup-ГГГГ-ММ-ДД-ЧЧММ.conf", "ГГГГ-ММ-ДД-ЧЧММ"),
        ("pg_restore -d shop /backups/shop-JJJJ-MM-TT.dump", "JJJJ-MM-TT"),
        ("tar -xzf /srv/backup-AAAA-MM-JJ.tgz", "AAAA-MM-JJ"),
        ("kubectl drain <节点名> --ignore-daemonsets", "<节点名>"),
        (
            "gcloud run services update-traffic api --to-revisions=<新リビジョン>=10",
            "<新リビジョン>",
        ),
        ("kubectl drain <имя_узла> --ignore-daemonsets --timeout=10m", "<имя_узла>"),
    ],
)
def test_f_placeholders_in_other_forms_need_binding(command: str, placeholder: str) -> None:
    doc = f"# Change\n\n## 1. Do it\n\n```bash\n{command}\n```\n"
    result = imported(doc)
    bindings = bindings_of(result.data)
    assert any(placeholder in text for text in bindings), bindings
    # the command runs with the bound variable, never the literal
    assert not any(placeholder in text for _, text, _ in runs_of(result.data))
    assert result.report["executable"] is False


def test_f_two_placeholders_in_another_script_are_two_variables() -> None:
    doc = (
        "# Shift traffic\n\n## 1. Shift\n\n```bash\n"
        "gcloud run services update-traffic api --to-revisions=<新リビジョン>=10\n"
        "gcloud run services update-traffic api --to-revisions=<旧リビジョン>=90\n```\n"
    )
    data = imported(doc).data
    assert len([v for v in data["vars"].values() if "needs_binding" in v]) == 2


@pytest.mark.parametrize(
    "command",
    [
        "docker images --format '{{.Repository}}:{{.Tag}}'",
        "docker inspect -f '{{.State.Running}}' web",
        "kubectl get pods -o go-template='{{.Name}}'",
    ],
)
def test_f_a_tools_own_go_template_is_no_placeholder(command: str) -> None:
    doc = f"# Check\n\n## 1. Look\n\n```bash\n{command}\n```\n"
    result = imported(doc)
    assert bindings_of(result.data) == []
    assert any(command.split()[1] in text for _, text, _ in runs_of(result.data))


# Class F: a signing command that stops for a passphrase is a manual step at its place, and
# the plan is not executable as written.
@pytest.mark.parametrize(
    "command",
    [
        "aptly publish switch -gpg-key=Repo2026 jammy filesystem:www:internal internal-jammy-2",
        "aptly publish snapshot -distribution=jammy internal-jammy-2",
        "gpg --armor --detach-sign release.tar.gz",
        "debsign ../agent_2.8.0_amd64.changes",
        "rpm --addsign agent-2.8.0.x86_64.rpm",
    ],
)
def test_f_signing_commands_that_prompt_are_manual(command: str) -> None:
    doc = f"""# Publish the package

## 1. Build

```bash
make package
```

## 2. Sign and publish

```bash
{command}
```

## 3. Verify

```bash
curl -fsS https://apt.example.org/dists/jammy/Release
```
"""
    result = imported(doc)
    program = command.split(maxsplit=1)[0]
    assert not any(
        role in ("step", "gate") and program in text for role, text, _ in runs_of(result.data)
    )
    assert any(command[:20] in text for text in manual_texts(result.data))
    assert result.report["executable"] is False
    # the steps around it keep their order
    assert runs_forward(result.data, "make package") and runs_forward(result.data, "curl -fsS")


@pytest.mark.parametrize(
    "command",
    [
        "aptly publish switch -batch -passphrase-file=/run/secrets/gpg jammy filesystem:www:x s2",
        "aptly publish snapshot -skip-signing internal-jammy-2",
        "gpg --batch --pinentry-mode loopback --passphrase-file /run/secrets/p --detach-sign f",
        "aptly snapshot create internal-jammy-2 from repo internal-jammy",
    ],
)
def test_f_signing_given_its_passphrase_stays_a_step(command: str) -> None:
    doc = f"# Publish\n\n## 1. Sign\n\n```bash\n{command}\n```\n"
    assert runs_forward(imported(doc).data, command.split(" -", 1)[0])


# Class F: a fence typed at a network device's prompt is a person's, never the local shell's.
def test_f_device_cli_sessions_are_manual_and_block_executable() -> None:
    doc = """# Drain a spine

## 1. Pre-check

```bash
ssh ops@spine-7 'show ip bgp summary'
```

## 2. Drain

```
spine-7# configure session drain-CHG1
spine-7(config-s-drain-)# router bgp 65010
spine-7(config-s-drain-router-bgp)# maintenance
spine-7(config-s-drain-router-bgp)# commit
```

## 3. Undrain

```
spine-7# configure session undrain-CHG1
spine-7(config-s-undrai)# router bgp 65010
spine-7(config-s-undrai-router-bgp)# no maintenance
spine-7(config-s-undrai-router-bgp)# commit
```

## Rollback

```
spine-7# configure replace checkpoint:pre-CHG1
```
"""
    result = imported(doc)
    data = result.data
    # nothing typed at the switch runs in the local shell, on either path
    assert not any("configure" in text or "maintenance" in text for _, text, _ in runs_of(data)), (
        runs_of(data)
    )
    manual = manual_texts(data)
    drain = next(i for i, t in enumerate(manual) if "configure session drain-CHG1" in t)
    undrain = next(i for i, t in enumerate(manual) if "no maintenance" in t)
    assert drain < undrain  # in the document's order
    assert result.report["executable"] is False
    assert runs_forward(data, "show ip bgp summary")


@pytest.mark.parametrize(
    "fence",
    [
        "mysql> SELECT 1;\nmysql> SELECT 2;",  # a SQL session, not a device
        "web-1# systemctl restart nginx",  # a host's root prompt
    ],
)
def test_f_other_prompts_are_not_device_sessions(fence: str) -> None:
    from phasegate.markdown import devicecli

    assert devicecli.device_session(fence) is None


# Class F: a repeat instruction without a loop blocks "executable as written".
_REPEAT_DOC = """# Roll the cache config

## 1. Copy

```bash
scp build/cache.conf cache-01:/etc/cache/next.conf
```

## 2. Activate

```bash
ssh cache-01 'sudo cachectl use next'
```

## 3. The other nodes

{text}
"""


@pytest.mark.parametrize(
    "text",
    [
        "Repeat steps 1–2 for `cache-02` and `cache-03`, one at a time.",
        "Do the same two steps for cache-02, cache-03 and cache-04.",
        "Same steps for the other nodes, ten minutes apart.",
        "Repetiu els passos 1–2 a `cache-02`.",
        "Ulang Langkah 1 hingga 2 pada setiap pelayan.",
        "Mêmes commandes que l'étape 2 pour `cache-02` et `cache-03`.",
        "Wiederholen Sie Schritt 1–2 für `cache-02`.",
        "对 `cache-02` 重复步骤 1–2。",
    ],
)
def test_f_a_repeat_without_a_loop_blocks_executable(text: str) -> None:
    result = imported(_REPEAT_DOC.format(text=text))
    assert result.report["executable"] is False
    assert [r["line"] for r in result.report["repeats"]] == [17]
    # the commands for the first node still run, in order
    assert runs_forward(result.data, "scp build/cache.conf") and runs_forward(
        result.data, "cachectl use next"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Same command plus `--execute` when the dry run looks right.",
        "It is safe to repeat this step if it times out.",
        "Repeat the health check until it passes.",
        "Nothing else to do: the change is complete.",
    ],
)
def test_f_sentences_that_are_no_repeat_elsewhere_do_not_block(text: str) -> None:
    result = imported(_REPEAT_DOC.format(text=text))
    assert not result.report.get("repeats")


# Outside the labels: a way back only a named person decides is the rollback's decision, never
# an automatic rollback action.
@pytest.mark.parametrize(
    "sentence",
    [
        "Only the DBA on call can decide this:",
        "Only the team lead may approve the restore:",
        "Si Marco (DBA on-call) lang ang puwedeng mag-desisyon nito:",
        "只有在组长批准后，才从快照恢复：",
        "O tom rozhodne vedúci tímu:",
    ],
)
def test_person_decided_way_back_is_a_rollback_decision(sentence: str) -> None:
    doc = f"""# Backfill the points

## 1. Run

```bash
./bin/backfill --from 2024-01-01
```

## Rollback

{sentence}

```bash
psql "$DSN" -c "DELETE FROM points WHERE source = 'backfill';"
```
"""
    data = imported(doc).data
    roles = roles_of(data, "DELETE FROM points")
    assert roles and all(role == "rollback" and when for role, when in roles), roles


def test_a_hostname_holding_a_possessive_word_is_no_placeholder() -> None:
    doc = "# TLS\n\n## 1. Copy\n\n```bash\nscp tls.patch web-seu-01:/tmp/\n```\n"
    data = imported(doc).data
    assert runs_forward(data, "scp tls.patch web-seu-01:/tmp/")
    assert bindings_of(data) == []


# Outside the labels: a cleanup days later inside a rollback section never runs automatically
# in the rollback that sends the traffic back (scaling the old colour to 0 there is an outage).
@pytest.mark.parametrize(
    "lead",
    [
        "Keep blue running for 48 hours after the switch. Only then:",
        "Blue stays up for 72 hours. Then:",
        "Plavo okruženje ostaje upaljeno 48 sati nakon prebacivanja. Tek onda:",
        "Blå miljø kører videre i 48 timer efter skiftet. Først derefter:",
    ],
)
def test_a_cleanup_days_later_is_no_automatic_rollback_action(lead: str) -> None:
    doc = f"""# Switch to green

## 1. Switch

```bash
aws elbv2 modify-listener --listener-arn L --default-actions green
```

## Rollback

Send all traffic back to blue:

```bash
aws elbv2 modify-listener --listener-arn L --default-actions blue
```

{lead}

```bash
aws autoscaling update-auto-scaling-group --auto-scaling-group-name blue --desired-capacity 0
```
"""
    data = imported(doc).data
    assert roles_of(data, "--default-actions blue") == [("rollback", None)]
    cleanup = roles_of(data, "--desired-capacity 0")
    assert cleanup and all(when for _, when in cleanup), cleanup
    assert not runs_forward(data, "--desired-capacity 0")


# Outside the labels: two ways back told by when they happen are one or the other.
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Before 6.3 (the database not failed over yet), aborting is cheap:", "After 6.3:"),
        ("Before the cut-over:", "After the cut-over, only the DBA decides:"),
        ("Vor Schritt 4:", "Nach Schritt 4:"),
    ],
)
def test_rollback_cases_told_by_time_are_one_or_the_other(before: str, after: str) -> None:
    doc = f"""# Fail over the store

## 1. Fail over

```bash
./bin/failover --to eu-central-1
```

## Abort and roll back

{before}

```bash
./bin/scale-down --region eu-central-1
```

{after}

```bash
./bin/failback-database --to eu-west-1
```
"""
    data = imported(doc).data
    cheap = roles_of(data, "scale-down")
    costly = roles_of(data, "failback-database")
    assert len(cheap) == 1 and len(costly) == 1
    assert cheap[0][0] == costly[0][0] == "rollback"
    # each bound to its own choice: never both on one rollback
    assert cheap[0][1] and costly[0][1] and cheap[0][1] != costly[0][1]


def test_a_paragraph_saying_do_not_roll_back_makes_no_rollback_action() -> None:
    doc = """# Replace the alert rules

## 1. Apply

```bash
kubectl -n monitoring apply -f rules/slo.yaml
```

## 2. Verify

If an alert fires right after the reload, that is a real burn: page the owner, do not roll
back the rules.

```bash
curl -fsS http://prometheus:9090/api/v1/rules
```

## Rollback

```bash
kubectl -n monitoring apply -f rules/legacy.yaml
```
"""
    data = imported(doc).data
    assert "rollback" not in [role for role, _ in roles_of(data, "/api/v1/rules")]
    assert runs_forward(data, "/api/v1/rules")
    assert roles_of(data, "rules/legacy.yaml") == [("rollback", None)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Only after the IC says go (steps 6.2 and 6.3 must be done first):",
        "Only once the DBA gives the OK:",
    ],
)
def test_only_after_a_persons_go_pauses_then_runs(sentence: str) -> None:
    doc = f"""# Fail over

## 1. Switch

```bash
./bin/switch-region eu-central-1
```

## 2. Re-enable writes

{sentence}

```bash
./bin/writes --enable
```
"""
    data = imported(doc).data
    steps = data["phases"][1]["steps"]
    assert steps[0].get("pause") == "approve" and "run" not in steps[0]
    assert "writes --enable" in steps[1]["run"] and "when" not in steps[1]
