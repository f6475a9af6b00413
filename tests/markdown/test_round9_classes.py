"""The classes of the ninth round of fixes (issue 11), each on small synthetic documents in
wordings and languages the blind round 9 documents do not use: a rule must hold for the class,
not for one document's text."""

from __future__ import annotations

import pytest

from phasegate.markdown import import_markdown
from tests.markdown.plan_walk import (
    bindings_of,
    code_of,
    imported,
    manual_texts,
    roles_of,
    runs_forward,
    runs_of,
)

# -- the way back, named in more wordings and languages ------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "Going back",
        "Getting back to the old version",
        "Zurück zur alten Version",
        "Kembali ke versi lama",
        "Επαναφορά",
        "回滾",
        "การยกเลิก",
        "Rulla tillbaka",
    ],
)
def test_a_section_naming_the_way_back_is_rollback_in_any_wording(heading: str) -> None:
    result = imported(
        f"""\
        # Upgrade the worker

        ## 1. Deploy

        ```bash
        kubectl -n jobs set image deploy/worker worker=registry.local/worker:2.4.0
        ```

        ## {heading}

        ```bash
        kubectl -n jobs rollout undo deploy/worker
        ```
        """
    )
    data = result.data
    assert runs_forward(data, "set image deploy/worker")
    assert not runs_forward(data, "rollout undo")
    assert ("rollback", None) in roles_of(data, "rollout undo")


@pytest.mark.parametrize(
    "heading",
    [
        "Gdy coś pójdzie nie tak",
        "אם משהו משתבש",
        "Αν κάτι πάει στραβά",
        "Jika migrasi gagal",
        "หากเกิดปัญหา",
        "如果出錯",
        "Om något går fel",
    ],
)
def test_a_section_naming_trouble_is_recovery_in_any_language(heading: str) -> None:
    data = imported(
        f"""\
        # Cache migration

        ## 1. Switch

        ```bash
        redis-cli -h cache-new CONFIG SET maxmemory 8gb
        ```

        ## {heading}

        ```bash
        redis-cli -h cache-new FLUSHALL
        ```
        """
    ).data
    assert not runs_forward(data, "FLUSHALL")
    assert [r for r, _ in roles_of(data, "FLUSHALL")] == ["rollback"]


@pytest.mark.parametrize(
    "lead",
    [
        "這些是繼續的條件，並非回滾條件：",
        "以下不是回滚原因：",
        "Ini bukan alasan untuk kembali:",
        "To nie są powody do wycofania:",
    ],
)
def test_a_list_said_not_to_be_rollback_conditions_makes_no_trigger(lead: str) -> None:
    data = imported(
        f"""\
        # Canary

        ## 1. Shift 10 %

        ```bash
        kubectl -n web annotate ingress web-canary \\
          nginx.ingress.kubernetes.io/canary-weight="10" --overwrite
        ```

        ## 回滾條件 / Rollback conditions

        {lead}

        - error rate < 0.5%
        - p95 < 300 ms
        """
    ).data
    assert data.get("triggers", []) == []


# -- work the document says is done is never run again ------------------------------------------


def test_a_ticked_item_with_a_command_is_confirmed_never_run_again() -> None:
    data = imported(
        """\
        # Search reindex

        ## Checklist

        - [x] Snapshot taken on Monday: `curator snapshot --repository nightly --index products`
        - [x] Reindex of 2025 done (do not repeat, it duplicates): `./reindex --year 2025 --append`
        - [ ] Reindex 2026: `./reindex --year 2026 --append`
        """
    ).data
    assert not runs_forward(data, "./reindex --year 2025")
    assert not runs_forward(data, "curator snapshot")
    assert runs_forward(data, "./reindex --year 2026")
    confirms = [m for m in manual_texts(data) if "./reindex --year 2025 --append" in m]
    assert confirms and "do not run again" in confirms[0]


def test_a_ticked_read_only_command_under_success_criteria_is_still_checked() -> None:
    data = imported(
        """\
        # Release

        ## Phase 1: Deploy

        ```bash
        ./deploy.sh 3.2.0
        ```

        **Success criteria:**

        - [x] the version endpoint answers: `curl -sf http://127.0.0.1:8080/version`
        """
    ).data
    assert runs_forward(data, "curl -sf http://127.0.0.1:8080/version")


@pytest.mark.parametrize("done", ["✅", "T-2d ✅", "[x]", "erledigt", "done"])
def test_a_run_sheet_row_marked_done_is_confirmed_never_run_again(done: str) -> None:
    data = imported(
        f"""\
        # Cutover run sheet

        ## Rows

        | When | Action | Command |
        |---|---|---|
        | {done} | Import the price list | `./prices import --file prices-2026.csv` |
        | T-0 | Switch the shop | `./shop switch --to v2` |
        """
    ).data
    assert not runs_forward(data, "./prices import")
    assert runs_forward(data, "./shop switch --to v2")
    assert any("./prices import" in m for m in manual_texts(data))


# -- a collapsed recovery stays recovery up to </details> ------------------------------------


def test_a_details_block_whose_summary_is_a_failure_stays_recovery_to_its_end() -> None:
    data = imported(
        """\
        # Broker upgrade

        ## 2. Upgrade

        ```bash
        apt-get install -y rabbitmq-server=3.13.7-1
        ```

        <details>
        <summary>When the node does not rejoin</summary>

        Look at the cluster first:

        ```bash
        rabbitmqctl forget_cluster_node rabbit@mq-3
        ```

        </details>

        Then:

        ```bash
        rabbitmqctl cluster_status
        ```
        """
    ).data
    assert not runs_forward(data, "forget_cluster_node")
    assert [r for r, _ in roles_of(data, "forget_cluster_node")] == ["rollback"]
    assert runs_forward(data, "rabbitmqctl cluster_status")


# -- a person's call is never the run's -----------------------------------------------------


@pytest.mark.parametrize(
    "lead",
    [
        "The on-call SRE runs this and answers the prompt with `yes`:",
        "The release manager types (reply to each question by hand):",
    ],
)
def test_a_fence_a_named_person_runs_at_its_prompt_is_a_manual_step(lead: str) -> None:
    result = imported(
        f"""\
        # Promote

        ## 1. Promote the replica

        {lead}

        ```bash
        repmgr standby switchover -f /etc/repmgr.conf --siblings-follow
        ```
        """
    )
    data = result.data
    assert not runs_forward(data, "repmgr standby switchover")
    assert any("repmgr standby switchover" in m for m in manual_texts(data))
    assert result.report["executable"] is False


def test_in_recovery_what_a_person_may_do_is_never_an_automatic_rollback_action() -> None:
    data = imported(
        """\
        # Promote

        ## 1. Promote

        ```bash
        ./promote.sh db-2
        ```

        ## If the promotion fails

        If both nodes are down, the DBA may restore from last night's backup:

        ```bash
        pgbackrest --stanza=main restore --delta
        ```
        """
    ).data
    # a way back the person chooses when the rollback comes: never run unchosen
    roles = roles_of(data, "pgbackrest")
    assert [r for r, _ in roles] == ["rollback"]
    assert roles[0][1] is not None and roles[0][1].startswith("vars.ROLLBACK_WAY_")


@pytest.mark.parametrize(
    "lead",
    [
        "Only the release manager decides when to flip it. To flip:",
        "Der Teamleiter entscheidet, wann umgeschaltet wird:",
        "Solo el responsable de guardia lo decide:",
        "רק ראש הצוות מחליט מתי להפעיל:",
        "Keputusan ada di tangan lead, dia yang memutuskan:",
    ],
)
def test_what_a_person_decides_is_a_decision(lead: str) -> None:
    data = imported(
        f"""\
        # Flag flip

        ## 2. Flip

        {lead}

        ```bash
        flipt flag enable checkout-v2 --namespace prod
        ```
        """
    ).data
    assert not runs_forward(data, "flipt flag enable")
    assert [w is not None for r, w in roles_of(data, "flipt flag enable") if r == "step"] == [True]


def test_a_program_that_decides_is_no_person() -> None:
    data = imported(
        """\
        # Reschedule

        ## 1. Drain

        The scheduler decides where the pods go:

        ```bash
        kubectl drain node-7 --ignore-daemonsets --delete-emptydir-data
        ```
        """
    ).data
    assert runs_forward(data, "kubectl drain node-7")


@pytest.mark.parametrize(
    ("lead", "command", "chosen"),
    [
        (
            "Skip this step if the cache was already warmed by the nightly job:",
            "redis-cli -h cache FLUSHDB",
            True,
        ),
        (
            "Pomiń ten krok, jeśli indeks już istnieje i był budowany wczoraj po południu:",
            "psql -c 'CREATE INDEX CONCURRENTLY idx_a ON a (b)'",
            True,
        ),
        (
            "Diesen Schritt überspringen, wenn der Cache schon leer ist:",
            "redis-cli -h cache FLUSHDB",
            True,
        ),
        # a step that only reads stays on the path (skipping a look changes nothing)
        ("Skip this step if the queue is already empty:", "rabbitmqctl list_queues", False),
        # the check before it already stops the run in that case
        (
            "Skip this step if the verification above found differences:",
            "redis-cli -h cache FLUSHDB",
            False,
        ),
    ],
)
def test_skip_this_step_if_is_a_decision_for_changes(lead: str, command: str, chosen: bool) -> None:
    data = imported(
        f"""\
        # Cache work

        ## 3. Reset

        {lead}

        ```bash
        {command}
        ```
        """
    ).data
    assert runs_forward(data, command) is not chosen
    assert roles_of(data, command)


def test_a_list_item_deferring_its_fence_by_weeks_is_a_decision() -> None:
    data = imported(
        """\
        # Schema change

        ## Procedure

        1. Add the column:

           ```bash
           psql -c 'ALTER TABLE orders ADD COLUMN note text'
           ```

        2. Only after two weeks without incidents, drop the old column. This cannot be undone,
           so never in the same window:

           ```bash
           psql -c 'ALTER TABLE orders DROP COLUMN legacy_note'
           ```
        """
    ).data
    assert runs_forward(data, "ADD COLUMN note")
    assert not runs_forward(data, "DROP COLUMN legacy_note")


# -- reference sections numbered in a table of contents --------------------------------------


@pytest.mark.parametrize(
    "heading", ["7. Troubleshooting", "8) Appendix: handy commands", "9. FAQ", "10. Reference"]
)
def test_a_numbered_reference_heading_is_reference_not_a_phase(heading: str) -> None:
    data = imported(
        f"""\
        # Migration

        ## 1. Copy

        ```bash
        rsync -a /srv/data/ new-host:/srv/data/
        ```

        ## {heading}

        ```bash
        rsync -a --delete /srv/archive/ new-host:/srv/archive/
        ```
        """
    ).data
    assert runs_forward(data, "rsync -a /srv/data/")
    assert roles_of(data, "--delete /srv/archive/") == []


# -- a condition, then the way back in the sentences it governs ------------------------------


@pytest.mark.parametrize(
    "lead",
    [
        "If the smoke test shows anything but `OK`, stop. Switch back to the previous release:",
        "If `haproxy -c` complains, do not reload. Roll back to the last config:",
    ],
)
def test_an_if_sentence_then_the_way_back_is_recovery(lead: str) -> None:
    data = imported(
        f"""\
        # Release

        ## 2. Release

        ```bash
        ./release.sh 5.1.0
        ```

        {lead}

        ```bash
        ./release.sh 5.0.9
        ```
        """
    ).data
    assert runs_forward(data, "./release.sh 5.1.0")
    assert not runs_forward(data, "./release.sh 5.0.9")
    assert [r for r, _ in roles_of(data, "./release.sh 5.0.9")] == ["rollback"]


# -- a "not in production" comment holds for its paragraph -----------------------------------


@pytest.mark.parametrize(
    "mark", ["# staging only: wipes the data", "# DO NOT RUN IN PROD", "# nur Entwicklung"]
)
def test_a_not_in_production_comment_holds_for_its_whole_paragraph(mark: str) -> None:
    data = imported(
        f"""\
        # Reset and deploy

        ## 1. Deploy

        ```bash
        {mark}
        dropdb shop_stage
        createdb shop_stage

        ./deploy.sh shop 7.0.1
        ```
        """
    ).data
    assert not runs_forward(data, "dropdb shop_stage")
    assert not runs_forward(data, "createdb shop_stage")
    assert runs_forward(data, "./deploy.sh shop 7.0.1")


# -- PowerShell pasted from a console ----------------------------------------------------------


def test_a_powershell_transcript_runs_its_commands_never_the_printed_output() -> None:
    data = imported(
        """\
        # IIS

        ## 1. Restart

        ```powershell
        PS C:\\inetpub> Restart-WebAppPool -Name Shop
        PS C:\\inetpub> Get-WebAppPoolState -Name Shop

        Value
        -----
        Started
        ```
        """
    ).data
    steps = [text for role, text, _ in runs_of(data) if role == "step"]
    assert len(steps) == 1
    assert "Restart-WebAppPool -Name Shop" in steps[0] and "Get-WebAppPoolState" in steps[0]
    assert "PS C:" not in steps[0] and "-----" not in steps[0] and "Started" not in steps[0]


@pytest.mark.parametrize(
    "command",
    [
        "Get-Content C:\\logs\\shop.log -Tail 20 -Wait",
        "Test-Connection web-02 -Continuous",
        "ping -t web-02",
        "while ($true) { Get-Counter '\\Processor(_Total)\\% Processor Time'; Start-Sleep 5 }",
    ],
)
def test_never_ending_powershell_is_a_manual_step_never_a_hung_step(command: str) -> None:
    data = imported(
        f"""\
        # IIS

        ## 1. Restart

        ```powershell
        Restart-WebAppPool -Name Shop
        {command}
        ```
        """
    ).data
    runs = [text for role, text, _ in runs_of(data) if role == "step"]
    assert runs and all(command not in text for text in runs)
    assert any("Restart-WebAppPool" in text for text in runs)
    assert any(command in m for m in manual_texts(data))


# -- credentials the prose says are needed ----------------------------------------------------


@pytest.mark.parametrize(
    "prose",
    [
        "The CLI needs `DEPLOYCTL_API_TOKEN` from Vault (`secret/deploy`).",
        "Requires SENTRY_AUTH_TOKEN (1Password, vault 'ops').",
        "Potrzebny jest `REGISTRY_PASSWORD` z menedżera haseł.",
    ],
)
def test_a_credential_the_prose_needs_and_nothing_sets_needs_binding(prose: str) -> None:
    result = imported(
        f"""\
        # Deploy

        {prose}

        ## 1. Deploy

        ```bash
        deployctl release shop --version 4.0.0
        ```
        """
    )
    assert result.report["executable"] is False
    assert bindings_of(result.data)


def test_a_credential_the_document_sets_or_a_placeholder_needs_no_extra_binding() -> None:
    result = imported(
        """\
        # Deploy

        The CLI needs `DEPLOYCTL_API_TOKEN` from Vault.
        Unseal with `vault operator unseal <UNSEAL_KEY>`.

        ## 1. Deploy

        ```bash
        export DEPLOYCTL_API_TOKEN=$(vault kv get -field=token secret/deploy)
        deployctl release shop --version 4.0.0
        ```
        """
    )
    names = set(result.data.get("vars", {}))
    assert "DEPLOYCTL_API_TOKEN" not in names and "UNSEAL_KEY" not in names


# -- a rollback's measured condition in any language is a trigger to bind --------------------


@pytest.mark.parametrize(
    ("heading", "lead"),
    [
        ("Wycofanie", "Jeśli odsetek błędów 5xx przekroczy 2% przez 5 minut:"),
        ("Επαναφορά", "Αν ο χρόνος απόκρισης p95 ξεπεράσει τα 800 ms για 10 λεπτά:"),
        ("Rollback", "Jika error 5xx naik di atas 1% selama 5 menit:"),
        ("回滾", "如果 5xx 比例超過 1% 持續 5 分鐘："),
    ],
)
def test_a_measured_condition_over_a_rollback_is_a_trigger_needing_its_query(
    heading: str, lead: str
) -> None:
    result = imported(
        f"""\
        # Weights

        ## 1. Shift

        ```bash
        echo "set weight be/new 50" | socat stdio /run/haproxy/admin.sock
        ```

        ## {heading}

        {lead}

        ```bash
        echo "set weight be/new 0" | socat stdio /run/haproxy/admin.sock
        ```
        """
    )
    triggers = result.data.get("triggers", [])
    assert [t["action"] for t in triggers] == ["rollback"]
    assert triggers[0].get("needs_binding")
    assert result.report["executable"] is False  # nothing watches it until it is bound
    assert not runs_forward(result.data, "set weight be/new 0")


def test_an_abort_rule_that_leaves_the_call_to_people_only_alerts() -> None:
    data = imported(
        """\
        # Canary

        ## 1. Shift

        ```bash
        kubectl -n web annotate ingress web-canary \\
          nginx.ingress.kubernetes.io/canary-weight="10" --overwrite
        ```

        ## Abort

        - p99 above 900 ms for 10 minutes → alert #web-oncall, the on-call lead decides
        - 5xx above 2% for 5 minutes → abort at once

        ```bash
        kubectl -n web annotate ingress web-canary \\
          nginx.ingress.kubernetes.io/canary-weight="0" --overwrite
        ```
        """
    ).data
    actions = sorted(t["action"] for t in data.get("triggers", []))
    assert actions == ["alert", "rollback"]


# -- SQL typed into the session the document opened -------------------------------------------


def test_sql_typed_into_the_opened_client_runs_through_it_and_stops_at_the_first_error() -> None:
    data = imported(
        """\
        # Add a column

        ## 1. Open the client

        ```
        $ mysql -u app shop
        ```

        ## 2. Change

        ```sql
        ALTER TABLE orders ADD COLUMN note TEXT;
        ```

        ## If the change fails

        ```sql
        ALTER TABLE orders DROP COLUMN note;
        ```
        """
    ).data
    assert runs_forward(data, "ADD COLUMN note")
    step = next(t for r, t, _ in runs_of(data) if r == "step" and "ADD COLUMN" in t)
    assert step.startswith("mysql --batch -u app shop <<'SQL'")
    assert [r for r, _ in roles_of(data, "DROP COLUMN note")] == ["rollback"]


@pytest.mark.parametrize(
    "opening",
    [
        "",  # no session opened: the SQL stays out of the plan as before
        '```bash\npsql "$DATABASE_URL"\n```\n\nor explicitly:\n\n'
        "```bash\npsql -h host -U user\n```",
    ],
)
def test_sql_without_one_opened_client_is_not_run(opening: str) -> None:
    doc = (
        "# Drop\n\n## 1. Connect\n\n"
        + opening
        + "\n\n## 2. Drop\n\n```sql\nDROP TABLE old;\n```\n\n```bash\n./notify.sh done\n```\n"
    )
    data = import_markdown(doc, "DOC.md").data
    assert roles_of(data, "DROP TABLE old") == []


# -- tables: rows done by people, columns named in other languages ---------------------------


def test_a_run_sheet_row_without_a_command_is_a_manual_step_in_its_place() -> None:
    data = imported(
        """\
        # Switch

        ## Run sheet

        | Time | Owner | Action | Command / where |
        |---|---|---|---|
        | T-10m | Finance | Confirm the day's invoices are exported | ERP console |
        | T-0 | SRE | Switch the router | `kubectl -n pay set env deploy/router MODE=new` |
        | T+5m | Support | Place a test order with the staff account | phone |
        """
    ).data
    steps = data["phases"][0]["steps"]
    kinds = ["pause" if "pause" in s else str(s.get("run", "")) for s in steps]
    assert kinds[0] == "pause" and "invoices are exported" in str(steps[0]["name"])
    assert "MODE=new" in kinds[1]
    assert kinds[2] == "pause" and "test order" in str(steps[2]["name"])


@pytest.mark.parametrize(
    ("step", "command"),
    [("Krok", "Polecenie"), ("Schritt", "Befehl"), ("Langkah", "Perintah"), ("Βήμα", "Εντολή")],
)
def test_a_command_table_with_columns_named_in_another_language_runs_in_order(
    step: str, command: str
) -> None:
    data = imported(
        f"""\
        # Weights

        ## Shift

        | {step} | {command} |
        |---|---|
        | 1 | `echo "set weight be/new 10" \\| socat stdio /run/haproxy/admin.sock` |
        | 2 | `echo "set weight be/new 50" \\| socat stdio /run/haproxy/admin.sock` |
        """
    ).data
    runs = [text for role, text, when in runs_of(data) if role == "step" and when is None]
    assert [("be/new 10" in r, "be/new 50" in r) for r in runs] == [(True, False), (False, True)]
    assert all("| socat" in r for r in runs)  # the escaped pipe is a pipe


# -- abort rules written as lines of one paragraph --------------------------------------------


def test_each_abort_sentence_of_a_paragraph_is_a_trigger_of_its_own() -> None:
    result = imported(
        """\
        # Ramp

        ## Guardrails

        Roll back if the error rate is above 3% for 5 minutes on `cart-api`.
        Abort if p99 of `GET /cart` is above 1200 ms for 10 minutes.
        If the queue depth is above 500, stop and investigate first.

        ## 1. Ramp

        ```bash
        flagctl set cart.v2 --percent 10
        ```
        """
    )
    triggers = result.data.get("triggers", [])
    assert sorted(t["action"] for t in triggers) == ["rollback", "rollback"]
    said = " ".join(str(t.get("description", "")) for t in triggers)
    assert "3%" in said and "1200 ms" in said and "queue depth" not in said


def test_the_last_sentence_of_a_lead_in_states_the_condition_of_its_fence() -> None:
    result = imported(
        """\
        # Release

        ## 1. Deploy

        ```bash
        helm upgrade shop charts/shop --set image.tag=9.1.0 --atomic --timeout 10m
        ```

        ## Rollback

        If the deploy is unhealthy, `--atomic` already rolled back. If the error rate stays
        above 2% for 10 minutes later on, pin the old image:

        ```bash
        helm upgrade shop charts/shop --set image.tag=9.0.4
        ```
        """
    )
    said = [str(t.get("description", "")) for t in result.data.get("triggers", [])]
    assert said and all("2%" in d and "unhealthy" not in d for d in said)


# -- a person's part in the flow, in more wordings --------------------------------------------


@pytest.mark.parametrize(
    "prose",
    [
        "Then wait 2×TTL of the old record before the next step.",
        "Keep the old load balancer running for 48 hours after the switch.",
        "Plan first, and read the diff:",
        "Das Ergebnis prüft eine zweite Person:",
        "Wynik sprawdza druga osoba:",
        'Der Schichtleiter gibt im Kanal ein "go" für den nächsten Schritt.',
        "Ο υπεύθυνος δίνει το «ΟΚ» πριν από το επόμενο βήμα.",
    ],
)
def test_what_a_person_does_or_waits_for_pauses_the_run_before_what_follows(prose: str) -> None:
    data = imported(
        f"""\
        # Change

        ## 1. Change

        ```bash
        ./prepare.sh
        ```

        {prose}

        ```bash
        ./switch.sh
        ```
        """
    ).data
    steps = data["phases"][0]["steps"]
    kinds = ["pause" if "pause" in s else code_of(s.get("run", "")) for s in steps]
    assert kinds[0] == "./prepare.sh" and kinds[-1] == "./switch.sh"
    assert "pause" in kinds[1:-1]  # the person's part comes between, in its place


@pytest.mark.parametrize(
    ("prose", "asks"),
    [
        ("Then do the other host.", True),
        ("Do the same on the remaining nodes.", True),
        ("Danach dasselbe auf dem zweiten Server.", True),
        ("Potem to samo na drugim serwerze.", True),
        ("Then run the migration.", False),
    ],
)
def test_a_repeat_on_other_hosts_is_a_person_s_part(prose: str, asks: bool) -> None:
    data = imported(
        f"""\
        # Change

        ## 1. Change

        ```bash
        ./switch.sh
        ```

        {prose}
        """
    ).data
    assert any(prose.rstrip(".") in m for m in manual_texts(data)) is asks
