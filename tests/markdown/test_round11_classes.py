"""The classes of the eleventh round of fixes (issue 11: the misses of red-team rounds 7–10),
each on small synthetic documents in wordings I wrote, not the blind documents' text: a rule
holds for the class in several wordings and languages, never for one document."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from tests.conftest import CLI
from tests.markdown.cases_harness import import_case
from tests.markdown.plan_walk import (
    imported,
    manual_texts,
    roles_of,
    runs_forward,
    runs_of,
)

# -- class 1a: a table of Owner | Action | Command | Rollback, in several languages -------------

_TABLE_HEADERS = {
    "en": ("Owner", "Action", "Command", "Rollback"),
    "tr": ("Sahip", "Eylem", "Komut", "Geri alma"),
    "hu": ("Felelős", "Teendő", "Parancs", "Visszaállítás"),
    "ro": ("Responsabil", "Acțiune", "Comandă", "Revenire"),
    "de": ("Verantwortlich", "Aktion", "Befehl", "Rückfallplan"),
    "pt": ("Dono", "Ação", "Comando", "Reversão"),
}


def _table_doc(header: tuple[str, str, str, str], decide: str) -> str:
    owner, action, command, back = header
    return f"""\
        # Move the queues

        ## Steps

        | # | {owner} | {action} | {command} | {back} |
        |---|---|---|---|---|
        | 1 | Ana | create | `echo r1 >> log.txt` | `echo u1 >> log.txt` |
        | 2 | Ana | switch | `echo r2 >> log.txt` | `echo u2 >> log.txt` |
        | 3 | Lead | {decide} | — | — |
        """


@pytest.mark.parametrize("lang", sorted(_TABLE_HEADERS))
def test_a_command_table_runs_its_commands_with_the_rollback_column_as_undo(lang: str) -> None:
    data = imported(_table_doc(_TABLE_HEADERS[lang], "Is the old queue empty? Decide")).data
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    assert [s["run"] for s in steps] == ["echo r1 >> log.txt", "echo r2 >> log.txt"], lang
    assert [s.get("undo") for s in steps] == ["echo u1 >> log.txt", "echo u2 >> log.txt"], lang
    assert not runs_forward(data, "u1") and not runs_forward(data, "u2"), lang
    # the row with no command is a person's decision in its place, after rows 1 and 2
    names = [str(s.get("name", "")) for p in data["phases"] for s in p.get("steps", [])]
    decide = next(i for i, n in enumerate(names) if "Decide" in n)
    assert decide == 2 and any("Decide" in t for t in manual_texts(data)), (lang, names)


def test_a_command_table_undoes_the_completed_rows_in_reverse_on_a_real_failure(cli: CLI) -> None:
    """A real run: rows 1 and 2 run, the decision row pauses for a person, the check after the
    table fails, and the rollback column undoes row 2 then row 1."""
    doc = textwrap.dedent(_table_doc(_TABLE_HEADERS["tr"], "Karar ver")) + textwrap.dedent(
        """\

        ## Kontrol

        ```bash
        test -f healthy-marker
        ```
        """
    )
    imp = import_case(cli, "doc.md", doc)
    assert imp.returncode == 0, imp.stderr
    first = imp.run("--yes")
    assert first.returncode == 4, first.stderr[-3000:]  # paused at the decision row
    assert (cli.cwd / "log.txt").read_text().split() == ["r1", "r2"]
    second = imp.approve(first)
    assert second.returncode == 1
    assert (cli.cwd / "log.txt").read_text().split() == ["r1", "r2", "u2", "u1"]


# -- class 1b: Windows cmd.exe blocks: run by cmd.exe, never by bash ----------------------------

_CMD_FORMS = {
    "transcript": ("", "C:\\> ", "        STATE : 1  STOPPED\n"),
    "tagged-bat": ("bat", "", ""),
    "tagged-cmd": ("cmd", "", ""),
    "other-drive": ("", "D:\\deploy> ", "The command completed successfully.\n"),
}


def _cmd_doc(form: str) -> str:
    lang, prompt, output = _CMD_FORMS[form]
    return f"""\
# Update the agent

## 1. Version

```{lang}
{prompt}set PKG=agent-2.1.msi
```

## 2. Stop

```{lang}
{prompt}sc stop Agent
{output}{prompt}copy /Y "C:\\Agent\\agent.cfg" "C:\\Agent\\agent.cfg.bak"
```

## 3. Install

```{lang}
{prompt}msiexec /i "\\\\fs01\\pkgs\\%PKG%" /qn
```

## Going back

```{lang}
{prompt}msiexec /i "\\\\fs01\\pkgs\\agent-2.0.msi" /qn
```
"""


@pytest.mark.parametrize("form", sorted(_CMD_FORMS))
def test_a_cmd_exe_block_runs_under_cmd_exe_with_its_sets_carried(form: str) -> None:
    data = imported(_cmd_doc(form)).data
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    # every command runs under cmd.exe, never bash; the output line is no command
    assert steps and all(s.get("shell") == "cmd.exe /d /s /c" for s in steps), steps
    runs = [s["run"] for s in steps]
    assert runs[0] == (
        'sc stop Agent && copy /Y "C:\\Agent\\agent.cfg" "C:\\Agent\\agent.cfg.bak"'
    ), form
    # the value set in an earlier block is set again, and the line reading it expands it late
    assert runs[1] == 'set "PKG=agent-2.1.msi" && call msiexec /i "\\\\fs01\\pkgs\\%PKG%" /qn'
    assert not any("STOPPED" in r or "completed" in r for r in runs)
    back = [a for p in data["phases"] for a in p.get("rollback", [])]
    assert [a["run"] for a in back] == ['msiexec /i "\\\\fs01\\pkgs\\agent-2.0.msi" /qn']
    assert back[0]["shell"] == "cmd.exe /d /s /c"
    assert not runs_forward(data, "agent-2.0.msi")


@pytest.mark.parametrize(
    "line",
    ["pause", "set /p ANSWER=Continue? ", "ping -t db01", "msiexec /i %UNSET_PACKAGE% /qn"],
)
def test_a_cmd_exe_block_that_waits_or_reads_an_unset_value_is_done_by_hand(line: str) -> None:
    data = imported(
        f"""\
        # Windows

        ## 1. Run

        ```bat
        sc stop Agent
        {line}
        ```
        """
    ).data
    assert not [r for r in runs_of(data) if "sc stop" in r[1]], "nothing of it runs"
    assert any("sc stop Agent" in t and "cmd.exe by hand" in t for t in manual_texts(data))


def test_a_cmd_exe_plan_never_runs_its_commands_by_bash_on_a_real_run(cli: CLI) -> None:
    """A real run here (no cmd.exe): the step fails to start, nothing is run by bash (bash
    would write the marker file through the `>` redirection)."""
    doc = """\
        # Windows

        ## 1. Write

        ```
        C:\\> echo done> marker.txt
        ```
        """
    imp = import_case(cli, "doc.md", textwrap.dedent(doc))
    assert imp.returncode == 0, imp.stderr
    ran = imp.run("--yes")
    assert ran.returncode == 1
    assert "cmd.exe" in ran.stdout + ran.stderr
    assert not (cli.cwd / "marker.txt").exists()


# -- class 1c: fish blocks: run by fish with fish's own `set`, never by bash --------------------


_FISH_DOC = """\
    # Fish deploy

    ## Variables

    ```fish
    set -x TARGET (echo blue)
    set COLOR green
    ```

    ## Deploy

    ```fish
    echo deploy-$TARGET-$COLOR >> log.txt
    ```

    ## Check

    ```fish
    test -f {marker}
    ```

    ## Rollback

    ```fish
    echo undo-$TARGET >> log.txt
    ```
    """


def test_a_fish_block_runs_under_fish_with_its_sets_carried() -> None:
    data = imported(_FISH_DOC.format(marker="ok")).data
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    assert all(s["shell"] == "fish --no-config -c" for s in steps)
    deploy = steps[1]["run"].splitlines()
    # the sets of the earlier block come first (one terminal session), then the command,
    # which ends the step with its status when it fails (fish has no `set -e`)
    assert deploy == [
        "set -x TARGET (echo blue)",
        "set COLOR green",
        "echo deploy-$TARGET-$COLOR >> log.txt; or exit $status",
    ]
    assert ("rollback", None) in roles_of(data, "echo undo-$TARGET")
    assert not runs_forward(data, "undo-")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("while true\n    kubectl get pods\n    sleep 5\nend", "never ends"),
        ("function deploy --on-event x\n    echo hi\nend", "does not read"),
        ("kubectl apply -f app.yaml\nthis is not a command at all", "does not read"),
        ("kubectl scale deploy/web --replicas $REPLICAS", "set nowhere"),
        ("kubectl delete pod <pod-name>", "set nowhere"),
    ],
)
def test_a_fish_block_the_rules_do_not_read_is_done_by_hand(body: str, why: str) -> None:
    fence = textwrap.indent(body, "        ")
    data = imported(
        f"""\
        # Fish

        ## 1. Run

        ```fish
{fence}
        ```
        """
    ).data
    assert not [r for r in runs_of(data) if r[0] == "step"], runs_of(data)
    texts = manual_texts(data)
    assert len(texts) == 1 and "fish by hand" in texts[0] and why in texts[0], texts


def test_a_fish_block_under_a_conditional_last_sentence_never_runs_forward() -> None:
    data = imported(
        """\
        # Refresh

        ## Checkpoint

        Compare search latency for the new hosts against the old ones on the dashboard.
        If the new ones are worse by more than 20%, cancel:

        ```fish
        aws autoscaling cancel-instance-refresh --auto-scaling-group-name web
        ```
        """
    ).data
    assert not runs_forward(data, "cancel-instance-refresh")
    assert [w for _, w in roles_of(data, "cancel-instance-refresh")] != [None]
    assert any("Compare search latency" in t for t in manual_texts(data))


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_a_fish_plan_runs_for_real_and_rolls_back_on_failure(cli: CLI) -> None:
    (cli.cwd / "ok").write_text("", encoding="utf-8")
    healthy = import_case(cli, "doc.md", textwrap.dedent(_FISH_DOC.format(marker="ok")))
    ran = healthy.run("--yes")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["deploy-blue-green"]
    (cli.cwd / "log.txt").unlink()
    failing = import_case(cli, "doc2.md", textwrap.dedent(_FISH_DOC.format(marker="nope")))
    ran = failing.run("--yes")
    assert ran.returncode == 1
    assert (cli.cwd / "log.txt").read_text().split() == ["deploy-blue-green", "undo-blue"]


# -- class 2: phrased triggers, in several wordings and languages --------------------------------


def _deploy_then(section: str) -> str:
    return (
        "# Deploy\n\n## 1. Deploy\n\n```bash\nkubectl apply -f app.yaml\n```\n\n"
        + textwrap.dedent(section)
    )


@pytest.mark.parametrize(
    ("section", "action"),
    [
        (
            "## Rollback\n\nRoll back if the error rate is above 2% for 5 minutes after step 1.\n\n"
            "```bash\nkubectl rollout undo deploy/app\n```\n",
            "rollback",
        ),
        (
            "## Reverting\n\n```bash\nkubectl rollout undo deploy/app\n```\n\n"
            "Revert when more than 0.5% of handshakes fail for 3 minutes on the dashboard.\n",
            "rollback",
        ),
        (
            "## 2. Verify\n\n```bash\ncurl -fsS https://shop.example.com/up\n```\n\n"
            "If `/up` does not return 200 within 2 minutes, roll back:\n\n"
            "```bash\nkamal rollback v1\n```\n",
            "rollback",
        ),
        (
            "## 2. Watch\n\n1. Wait for the sync:\n   ```bash\n   argocd app wait app --health\n"
            "   ```\n   - If the app stays `Degraded` for more than 10 minutes, go to"
            " **Rollback**.\n\n"
            "## Rollback\n\n```bash\nargocd app rollback app\n```\n",
            "rollback",
        ),
        (
            "## Parar o lançamento\n\nPare (halt) se a taxa de usuários sem crash cair abaixo de "
            "99% em qualquer dia:\n\n```bash\nfastlane supply --release_status halted\n```\n",
            "pause",
        ),
        (
            "## Geri alma koşulları\n\n- Hata oranı %3'ün üzerine çıkar ve 10 dakika sürerse: "
            "geri alın.\n",
            "rollback",
        ),
    ],
)
def test_a_phrased_failure_condition_is_a_trigger_with_the_action_it_names(
    section: str, action: str
) -> None:
    data = imported(_deploy_then(section)).data
    made = data.get("triggers", [])
    assert [t["action"] for t in made] == [action], made
    # the metric or endpoint is the document's to give: bound before the plan runs
    assert all(t.get("needs_binding") or t.get("http") for t in made), made
    assert runs_forward(data, "kubectl apply -f app.yaml")


@pytest.mark.parametrize(
    "section",
    [
        "## Success criteria\n\n- Error rate below 1% for 30 minutes.\n",
        "## 2. Verify\n\nIf `/up` returns 200 within 2 minutes, go on to step 3.\n",
        "## Sikerkritériumok\n\n- A hibaarány 1% alatt marad.\n",
        "## Critérios de sucesso\n\n- Usuários sem crash acima de 99,5%.\n",
        "## Geri alma koşulları\n\n- Kuyruk derinliği 50.000'i geçerse: önce ekip liderine haber "
        "verin, geri almaya o karar verir.\n",
    ],
)
def test_a_success_criterion_or_a_persons_call_is_no_rollback_trigger(section: str) -> None:
    data = imported(_deploy_then(section)).data
    assert not [t for t in data.get("triggers", []) if t.get("action") in ("rollback", "pause")]


# -- class 3: what a person decides, compares or does in a UI is asked in its place ------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Compare the p95 latency of the new pool against the old one.", "Compare the p95"),
        ("Do not activate on more POPs until it matches.", "until it matches"),
        ("Print a test label and check it with the shift lead.", "shift lead"),
        ("Un DBA citește planul și confirmă în tichet înainte de pasul 3.", "confirmă în tichet"),
        ("Between regions we wait one business day.", "one business day"),
        (
            "백업 로그에 `completed OK!` 가 있어야 합니다. 없으면 여기서 중단합니다.",
            "completed OK!",
        ),
    ],
)
def test_a_persons_part_in_prose_pauses_the_run_between_the_steps_around_it(
    text: str, said: str
) -> None:
    data = imported(
        f"""\
        # Change

        ## 1. Prepare

        ```bash
        touch prepared
        ```

        {text}

        ```bash
        touch changed
        ```
        """
    ).data
    steps = [s for p in data["phases"] for s in p.get("steps", [])]
    names = [str(s.get("name", "")) + str(s.get("run", "")) for s in steps]
    asked = next(i for i, n in enumerate(names) if said in n and "pause" in steps[i])
    assert names.index("touch prepared") < asked, names
    # and the command after it is still there, never swallowed by the pause
    assert [r for r in runs_of(data) if "touch changed" in r[1]], runs_of(data)


@pytest.mark.parametrize(
    "lead",
    [
        "Ha már elindult, visszaállás csak a mentésből lehetséges — erről az ügyeletes DBA dönt.",
        "팀장 승인 후에만 진행합니다.",
        "Back-out is restoring the snapshot only on the platform lead's decision:",
        "Only after the incident commander's approval:",
        "Geri almaya ekip lideri karar verir.",
    ],
)
def test_a_person_who_decides_the_way_back_is_asked_when_the_rollback_comes(lead: str) -> None:
    data = imported(
        f"""\
        # Upgrade

        ## 1. Upgrade

        ```bash
        pg-upgrade --to 16
        ```

        ## Rollback

        {lead}

        ```bash
        pg-restore --from nightly
        ```
        """
    ).data
    back = [a for p in data["phases"] for a in p.get("rollback", [])]
    back += data.get("rollback", []) or []
    decision = [p["rollback_decision"] for p in data["phases"] if "rollback_decision" in p]
    decision += [data["rollback_decision"]] if "rollback_decision" in data else []
    assert len(back) == 1 and decision, (back, decision)
    # the restore runs only when the person chose it
    assert back[0]["when"] == f"vars.{decision[0]['var']} == '{decision[0]['options'][0]}'"
    assert not runs_forward(data, "pg-restore")


@pytest.mark.parametrize(
    "text",
    [
        "Rollback: reverse the steps above.",
        "Rollback: inversați pașii de mai sus.",
        "Rückweg: die Schritte in umgekehrter Reihenfolge zurücknehmen.",
        "Reversión: ejecute los pasos en orden inverso.",
    ],
)
def test_a_way_back_with_no_command_pauses_the_real_rollback_for_a_person(
    cli: CLI, text: str
) -> None:
    """A real run: the check fails; the rollback does not "succeed" doing nothing, it pauses
    and asks a person to do the way back the document describes."""
    doc = f"""\
        # Upgrade

        ## 1. Deploy

        ```bash
        echo deployed >> log.txt
        ```

        ## 2. Check

        ```bash
        test -f healthy-marker
        ```

        ## Rollback

        {text}
        """
    imp = import_case(cli, "doc.md", textwrap.dedent(doc))
    ran = imp.run("--yes")
    assert ran.returncode == 4, ran.stdout + ran.stderr  # paused, not rolled back
    assert "paused" in ran.stdout, ran.stdout
    assert "rollback:1-deploy/decide" in ran.stderr, ran.stderr  # the way back asks a person
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed"]


# -- class 4: "repeat for each X: a, b, c" over one fence runs it once per value ---------------


@pytest.mark.parametrize(
    "lead",
    [
        "Repeat for each region, in order: eu-1, eu-2, us-1.",
        "Toista jokaiselle alueelle järjestyksessä: eu-1, eu-2, us-1.",
        "Für jede Region wiederholen: eu-1, eu-2 und us-1.",
        "Repita para cada região: eu-1, eu-2 e us-1.",
        "Répétez pour chaque région : eu-1, eu-2, us-1.",
    ],
)
@pytest.mark.parametrize(
    "fence",
    [
        "export REGION=eu-1   # change per region\ndeployctl ship --region $REGION",
        "deployctl ship --region ${REGION}",
    ],
)
def test_a_fence_under_repeat_for_each_runs_once_per_value_in_order(lead: str, fence: str) -> None:
    body = textwrap.indent(fence, "        ")
    data = imported(
        f"""\
        # Ship

        ## 2. Ship

        {lead}

        ```bash
{body}
        ```
        """
    ).data
    ships = [text for role, text, _ in runs_of(data) if role == "step" and "deployctl" in text]
    assert [s.split("--region ")[1].strip() for s in ships] == ["eu-1", "eu-2", "us-1"], ships
    assert not any("$REGION" in s or "${REGION}" in s for s in ships), "never run unset"
    # a plain "repeat for each" asks no person; the plan does the repeating
    assert manual_texts(data) == []


def test_a_repeat_lead_that_asks_for_a_soak_pauses_between_the_values() -> None:
    data = imported(
        """\
        # Ship

        ## 2. Ship

        Repeat for each region: eu-1, eu-2. Start the next region only after the previous one
        ran 30 minutes without errors.

        ```bash
        deployctl ship --region $REGION
        ```
        """
    ).data
    steps = data["phases"][0]["steps"]
    kinds = ["pause" if "pause" in s else s["run"] for s in steps]
    assert kinds[-3:] == [
        "deployctl ship --region eu-1",
        "pause",
        "deployctl ship --region eu-2",
    ], kinds
    assert "30 minutes" in str(steps[-2]["name"])


@pytest.mark.parametrize(
    "lead",
    [
        "Repeat for each region: see the list in the wiki.",  # no plain list of values
        "Repeat for each region: eu-1, eu-2.",  # a fence whose variables take none of them
    ],
)
def test_a_repeat_lead_without_values_for_the_fence_expands_nothing(lead: str) -> None:
    data = imported(
        f"""\
        # Ship

        ## 2. Ship

        {lead}

        ```bash
        export TAG=v2
        deployctl ship --tag $TAG
        ```
        """
    ).data
    ships = [text for role, text, _ in runs_of(data) if "deployctl" in text]
    assert len(ships) == 1, ships


def test_a_repeated_fence_runs_once_per_value_on_a_real_run(cli: CLI) -> None:
    doc = """\
        # Ship

        ## 1. Ship

        Repeat for each host in this order: web-1, web-2, web-3.

        ```bash
        export HOST=web-1   # change per host
        echo "shipped $HOST" >> log.txt
        ```
        """
    imp = import_case(cli, "doc.md", textwrap.dedent(doc))
    ran = imp.run("--yes")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (cli.cwd / "log.txt").read_text().splitlines() == [
        "shipped web-1",
        "shipped web-2",
        "shipped web-3",
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "If the serial is still the old one, the POP cached the handshake config; wait 60 "
            "seconds and run the `openssl s_client` line again, and look at the dashboard for "
            "the edge pool too. Do not activate on more POPs until it matches.",
            "until it matches",
        ),
        (
            "v5 replaces the Lua filters with Wasm filters and moves rate limiting to the global "
            "service. The rollout goes region by region, smallest first, through a canary. "
            "Between regions we wait one business day.",
            "one business day",
        ),
    ],
)
def test_a_long_paragraph_asks_the_person_in_the_sentence_that_asks(text: str, said: str) -> None:
    data = imported(
        f"""\
        # Change

        ## 1. Go

        ```bash
        touch prepared
        ```

        {text}
        """
    ).data
    assert any(said in t for t in manual_texts(data)), manual_texts(data)


@pytest.mark.parametrize(
    "text",
    [
        "If any region prints `RATELIMIT DOWN`, stop: v5 fails closed without it.",
        "If the replica lag is not zero, stop here.",
        "Wenn der Cluster nicht grün ist, stopp.",
    ],
)
def test_a_bare_stop_after_a_condition_pauses_and_the_next_step_stays_forward(text: str) -> None:
    data = imported(
        f"""\
        # Change

        ## 1. Check

        ```bash
        ./check-all-regions.sh
        ```

        {text}

        ## 2. Go

        ```bash
        deployctl ship --all
        ```
        """
    ).data
    said = text.split(",", 1)[0].replace("`", "")
    assert any(said in t for t in manual_texts(data)), manual_texts(data)
    assert runs_forward(data, "deployctl ship --all")


@pytest.mark.parametrize(
    "sub",
    [
        "a. Compare the queue depth against yesterday's.",
        "a. Check it with the DBA on call first.",
    ],
)
def test_a_persons_sub_step_inside_an_item_over_a_fence_is_asked_before_it(sub: str) -> None:
    data = imported(
        f"""\
        # Move

        1. Freeze the runners.
           {sub}
           b. Make sure no job is running:

           ```bash
           gitlab-rails runner 'puts Ci::Build.running.count'
           ```
        """
    ).data
    steps = [s for p in data["phases"] for s in p.get("steps", [])]
    said = sub.split(" ", 2)[1]
    asked = [i for i, s in enumerate(steps) if "pause" in s and said in str(s.get("name"))]
    assert asked, steps
    runs = [text for role, text, _ in runs_of(data) if "Ci::Build" in text]
    assert runs, "the fence still runs"


@pytest.mark.parametrize(
    "text",
    [
        "Všechny PDB musí mít `ALLOWED DISRUPTIONS` >= 1. Pokud ne, nepokračujte.",
        "Alle PDBs brauchen `ALLOWED DISRUPTIONS` >= 1. Wenn nicht, nicht fortfahren.",
        "Tous les PDB doivent avoir `ALLOWED DISRUPTIONS` >= 1. Sinon, ne continuez pas.",
        "Todos os PDBs precisam de `ALLOWED DISRUPTIONS` >= 1. Se não, não continue.",
    ],
)
def test_a_do_not_continue_in_another_language_pauses_for_a_person(text: str) -> None:
    data = imported(
        f"""\
        # Drain

        ## 1. Check

        ```bash
        kubectl get pdb -A
        ```

        {text}

        ## 2. Drain

        ```bash
        kubectl drain node-1 --ignore-daemonsets
        ```
        """
    ).data
    assert any("ALLOWED DISRUPTIONS" in t for t in manual_texts(data)), manual_texts(data)
    assert runs_forward(data, "kubectl drain node-1")


def test_a_persons_way_back_in_code_the_run_cannot_type_is_asked_on_rollback() -> None:
    data = imported(
        """\
        # Backfill

        ## 1. Load

        ```bash
        ./load-march.sh
        ```

        ## Undo

        Only if the numbers look wrong to finance:

        ```python
        !psql -d analytics -c "DELETE FROM daily_revenue WHERE loaded_by = 'backfill'"
        ```
        """
    ).data
    holders = [p for p in data["phases"] if "rollback_decision" in p] + (
        [data] if "rollback_decision" in data else []
    )
    assert holders, data
    var = holders[0]["rollback_decision"]["var"]
    assert "finance" in str(data["vars"][var]["description"])
    assert not runs_forward(data, "DELETE FROM daily_revenue")


@pytest.mark.parametrize(
    "entry",
    [
        "**Use only when** Vault reports `Sealed: true` AND the KMS key is unreachable.",
        "Run this runbook only if the primary region is down for more than 30 minutes.",
        "Nur verwenden, wenn der Primärcluster nicht erreichbar ist.",
        "Usar solo cuando el clúster primario no responde.",
    ],
)
def test_a_runbooks_entry_condition_is_confirmed_before_anything_runs(entry: str) -> None:
    data = imported(
        f"""\
        # Break-glass: unseal by hand

        {entry}

        ## 1. Unseal

        ```bash
        kubectl -n vault rollout restart statefulset/vault
        ```
        """
    ).data
    first = data["phases"][0]["steps"][0]
    assert "pause" in first and entry.rsplit(" ", 1)[-1].rstrip(".") in str(first["name"]), first
    assert runs_forward(data, "rollout restart statefulset/vault")
