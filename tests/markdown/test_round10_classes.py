"""The classes of the tenth round of fixes (issue 11), each on small synthetic documents in
wordings I wrote, not the blind round 10 documents' text: a rule must hold for the class in
every language the importer claims, not for one document."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import CLI
from tests.markdown.plan_walk import (
    imported,
    manual_texts,
    roles_of,
    runs_forward,
    runs_of,
)

# -- class 1: the way back (or the halt) named in every language the importer claims ------------

_WAY_BACK = {
    "es": ["Reversión", "Marcha atrás", "Volver a la versión anterior", "Detener el despliegue"],
    "pt": ["Reversão", "Voltar atrás", "Interromper a implantação", "Suspender o lançamento"],
    "fr": ["Retour arrière", "Annulation du déploiement", "Revenir à la version précédente"],
    "de": ["Rückfallplan", "Zurückrollen", "Rücknahme", "Wiederherstellung"],
    "it": ["Ripristino", "Tornare indietro", "Annullamento del rilascio"],
    "nl": ["Terugdraaien", "Terugzetten", "Herstel"],
    "sv": ["Återställning", "Återgång", "Rulla tillbaka"],
    "pl": ["Wycofanie", "Przywrócenie", "Cofnięcie zmian"],
    "cs": ["Návrat", "Vrácení změn", "Obnovení"],
    "ru": ["Откат", "Возврат", "Восстановление", "Отмена изменений"],
    "uk": ["Відкат", "Повернення", "Відновлення"],
    "tr": ["Geri alma", "Geri dönüş", "Eski sürüme dönüş"],
    "ro": ["Revenire", "Anularea modificărilor", "Restaurare", "Întoarcere la versiunea veche"],
    "hu": ["Visszaállítás", "Visszagörgetés", "Visszatérés az előző verzióra"],
    "fi": ["Paluu edelliseen versioon", "Peruutus", "Palauttaminen"],
    "el": ["Επαναφορά", "Αναίρεση"],
    "ar": ["التراجع", "العودة إلى الإصدار السابق", "استعادة"],
    "fa": ["برگرداندن تغییرات", "بازگردانی"],
    "he": ["חזרה לאחור", "שחזור", "גלגול לאחור"],
    "hi": ["वापस लेना", "रोलबैक", "पुनर्स्थापना"],
    "vi": ["Hoàn tác", "Khôi phục", "Quay lui"],
    "th": ["ย้อนกลับ", "กู้คืน"],
    "id": ["Pemulihan", "Pengembalian", "Kembali ke versi lama"],
    "ja": ["切り戻し", "元のバージョンに戻す", "復旧手順"],
    "ko": ["롤백", "되돌림", "복구"],
    "zh": ["回滚", "撤销变更", "回滾"],
}
_HEADINGS = [(lang, h) for lang, hs in _WAY_BACK.items() for h in hs]


@pytest.mark.parametrize(("lang", "heading"), _HEADINGS, ids=[f"{k}-{h}" for k, h in _HEADINGS])
@pytest.mark.parametrize("form", ["## {h}", "## 5. {h}", "## Step 5 — {h}"])
def test_a_heading_naming_the_way_back_is_rollback_in_every_claimed_language(
    lang: str, heading: str, form: str
) -> None:
    title = form.format(h=heading)
    data = imported(
        f"""\
        # Upgrade the worker

        ## 1. Deploy

        ```bash
        kubectl -n jobs set image deploy/worker worker=registry.local/worker:2.4.0
        ```

        {title}

        ```bash
        kubectl -n jobs rollout undo deploy/worker
        ```
        """
    ).data
    assert runs_forward(data, "set image deploy/worker"), lang
    assert not runs_forward(data, "rollout undo"), (lang, title)
    assert ("rollback", None) in roles_of(data, "rollout undo"), (lang, title)


@pytest.mark.parametrize(
    "heading", ["Halt the rollout", "Parar a distribuição", "Arrêter le déploiement"]
)
def test_a_heading_halting_a_staged_rollout_never_runs_forward(heading: str) -> None:
    data = imported(
        f"""\
        # Staged release

        ## Day 1

        ```bash
        relctl rollout --percent 5
        ```

        ## {heading}

        Halt if the crash-free rate drops below 99%:

        ```bash
        relctl rollout --halt
        ```
        """
    ).data
    assert runs_forward(data, "--percent 5")
    assert not runs_forward(data, "--halt")
    assert roles_of(data, "--halt"), "the halt is kept, off the forward path"


@pytest.mark.parametrize(
    "word",
    ["Mở dashboard rồi quay lại trang chủ để xem số liệu.", "Kirjaa palautusaika ylös."],
)
def test_a_broad_way_back_word_inside_a_sentence_is_no_rollback(word: str) -> None:
    """The broad words are read only where a heading or lead-in starts with them."""
    data = imported(
        f"""\
        # Deploy

        ## 1. Ship

        {word} Then:

        ```bash
        deployctl ship --tag 2.4.0
        ```
        """
    ).data
    assert runs_forward(data, "deployctl ship")


def test_a_rollback_section_in_another_language_runs_only_when_the_run_fails(cli: CLI) -> None:
    """A real run: the verify step fails, only then the Hungarian "Visszaállítás" section runs;
    on a healthy run it never does."""
    doc = """\
        # Frissítés

        ## 1. Telepítés

        ```bash
        echo deployed >> log.txt
        ```

        ## 2. Ellenőrzés

        ```bash
        test -f {marker}
        ```

        ## Visszaállítás

        ```bash
        echo restored >> log.txt
        ```
        """
    (cli.cwd / "ok").write_text("", encoding="utf-8")
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc.format(marker="ok")), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    healthy = cli("run", "plan.yaml", "--yes")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed"]
    (cli.cwd / "log.txt").unlink()
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc.format(marker="nope")), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    failing = cli("run", "plan.yaml", "--yes")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed", "restored"]


# -- class 2: conditional, optional and later-dated blocks never run forward --------------------


@pytest.mark.parametrize(
    "lead",
    [
        "Ha a frissítés hibával áll le, nézd meg a naplót:",
        "Dacă migrarea eșuează, verificați jurnalul:",
        "Jos päivitys epäonnistuu, katso loki:",
        "Nếu cập nhật bị lỗi, xem nhật ký:",
        "اگر به‌روزرسانی با خطا متوقف شد، لاگ را ببینید:",
        "Eğer güncelleme başarısız olursa, günlüğe bakın:",
        "إذا فشل التحديث، راجع السجل:",
        "अगर अपडेट विफल हो जाए, तो लॉग देखें:",
        "更新に失敗したら、ログを確認してください:",
        "업데이트에 실패하면 로그를 확인하세요:",
    ],
)
def test_a_lead_in_naming_a_failure_keeps_its_fence_off_the_forward_path(lead: str) -> None:
    data = imported(
        f"""\
        # Upgrade

        ## 1. Upgrade

        ```bash
        upgradectl run --to 16
        ```

        {lead}

        ```bash
        upgradectl logs --last 200
        ```

        ## 2. Start

        ```bash
        upgradectl start
        ```
        """
    ).data
    assert runs_forward(data, "upgradectl run --to 16")
    assert runs_forward(data, "upgradectl start")
    assert not runs_forward(data, "upgradectl logs"), lead


@pytest.mark.parametrize(
    "heading",
    [
        "Pasul 5 (opțional) — Reindexare",
        "Vaihe 5 (valinnainen): uudelleenindeksointi",
        "5. lépés (opcionális)",
        "Bước 5 (tùy chọn)",
        "گام ۵ (اختیاری)",
        "Adım 5 (isteğe bağlı)",
        "Passo 5 (facoltativo)",
        "Stap 5 (optioneel)",
        "Krok 5 (opcjonalnie)",
        "Шаг 5 (необязательно)",
        "手順5（任意）".replace("（", " (").replace("）", ")"),
        "5단계 (선택 사항)",
    ],
)
def test_an_optional_step_in_any_language_is_never_run_unasked(heading: str) -> None:
    data = imported(
        f"""\
        # Migration

        ## Step 4 — Migrate

        ```bash
        migratectl apply
        ```

        ## {heading}

        ```bash
        dbctl reindex --table addresses
        ```
        """
    ).data
    assert runs_forward(data, "migratectl apply")
    assert not runs_forward(data, "dbctl reindex"), heading


@pytest.mark.parametrize(
    "lead",
    [
        "Chỉ khi còn tệp cũ trên CDN:",
        "Doar dacă raportul arată interogări lente:",
        "Csak ha a jelentés lassú lekérdezéseket mutat:",
        "Vain jos raportti näyttää hitaita kyselyitä:",
        "Только если отчёт показывает медленные запросы:",
        "Solo si el informe muestra consultas lentas:",
        "Somente se o relatório mostrar consultas lentas:",
        "Nur wenn der Bericht langsame Abfragen zeigt:",
        "Alleen als het rapport trage queries toont:",
        "فقط اگر گزارش کوئری‌های کند نشان دهد:",
    ],
)
def test_an_only_if_lead_in_is_a_decision_never_run_unasked(lead: str) -> None:
    data = imported(
        f"""\
        # Tuning

        ## 1. Deploy

        ```bash
        deployctl ship --tag 3.1.0
        ```

        {lead}

        ```bash
        cdnctl purge --all
        ```
        """
    ).data
    assert runs_forward(data, "deployctl ship")
    assert not runs_forward(data, "cdnctl purge"), lead


@pytest.mark.parametrize(
    "when",
    [
        "Másnap, ha nem volt hiba:",
        "A doua zi, dacă nu au fost incidente:",
        "Seuraavana päivänä, jos virheitä ei ollut:",
        "Ngày hôm sau, nếu không có sự cố:",
        "روز بعد، اگر خطایی نبود:",
        "Bir hafta sonra, sorun yoksa:",
        "На следующий день, если не было инцидентов:",
        "Al día siguiente, si no hubo incidentes:",
        "No dia seguinte, se não houve incidentes:",
        "Le lendemain, s'il n'y a pas eu d'incident :",
        "Am nächsten Tag, wenn es keine Vorfälle gab:",
        "Only after 24 h without errors:",
        "A week later, if nothing broke:",
    ],
)
def test_work_put_a_day_or_more_later_is_never_run_by_the_run(when: str) -> None:
    data = imported(
        f"""\
        # Move the ledger

        ## Step 2 — Switch

        ```bash
        routectl switch --to new
        ```

        ## Step 3 — Stop the old one

        {when}

        ```bash
        kubectl --context old -n ledger scale deploy/ledger --replicas=0
        ```
        """
    ).data
    assert runs_forward(data, "routectl switch")
    assert not runs_forward(data, "--replicas=0"), when


@pytest.mark.parametrize(
    "condition",
    [
        "If the runners cannot reach the bucket:",
        "When the node is unreachable:",
        "If the new pods keep crashing:",
        "If the agent won't start:",
    ],
)
def test_a_numbered_item_naming_a_failure_keeps_its_nested_fences_off_the_forward_path(
    condition: str,
) -> None:
    """ "5. If …:" with "a. Check the logs:" / "b. Point back at the old store:" under it:
    every fence of the item is the remedy, none a forward step or gate."""
    data = imported(
        f"""\
        # Move the cache

        1. Point the runners at the new bucket.

           ```bash
           cachectl point --to s3
           ```

        2. {condition}
           a. Check the agent's status:

              ```bash
              cachectl status --verbose
              ```

           b. Point back at the old store:

              ```bash
              cachectl point --to minio
              ```
        """
    ).data
    assert runs_forward(data, "cachectl point --to s3")
    assert not runs_forward(data, "cachectl point --to minio"), condition
    assert not runs_forward(data, "cachectl status"), condition


# -- class 3: a pre-mortem runs nothing; a point of no return asks first ------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "Pre-mortem: what could go wrong",
        "What can go wrong",
        "Failure scenarios",
        "Risks and mitigations",
        "Was schiefgehen kann",
        "O que pode dar errado",
        "Что может пойти не так",
    ],
)
def test_a_pre_mortem_section_is_never_a_phase_that_runs(heading: str) -> None:
    data = imported(
        f"""\
        # Broker upgrade

        ## Step 1: Roll the brokers

        ```bash
        brokerctl upgrade --to 3.7
        ```

        ## {heading}

        - **A broker crash-loops.** Look at its log:

          ```bash
          brokerctl logs --previous broker-3
          ```

        - **We need to go back.** Set the version back:

          ```bash
          brokerctl upgrade --to 3.6
          ```
        """
    ).data
    assert runs_forward(data, "brokerctl upgrade --to 3.7")
    assert not runs_forward(data, "brokerctl logs"), heading
    assert not runs_forward(data, "brokerctl upgrade --to 3.6"), heading


@pytest.mark.parametrize(
    "lead",
    [
        "Only once every broker runs 3.7 (this is the point of no return):",
        "There is no going back after this:",
        "Ab hier gibt es kein Zurück:",
        "C'est le point de non-retour :",
        "Este es el punto de no retorno:",
        "Это точка невозврата:",
    ],
)
def test_a_point_of_no_return_waits_for_a_person_before_it(lead: str) -> None:
    data = imported(
        f"""\
        # Broker upgrade

        ## Step 1: Roll the brokers

        ```bash
        brokerctl upgrade --to 3.7
        ```

        ## Step 2: Bump the protocol

        {lead}

        ```bash
        brokerctl protocol --set 3.7
        ```
        """
    ).data
    assert runs_forward(data, "brokerctl upgrade --to 3.7")
    steps = data["phases"][-1]["steps"]
    pause = next(i for i, s in enumerate(steps) if "pause" in s)
    runs = next(i for i, s in enumerate(steps) if "brokerctl protocol" in str(s.get("run")))
    assert pause < runs, steps  # the person confirms, then the irreversible command runs
    assert lead.rstrip(":： ") in str(steps[pause]["name"])


# -- class 4: a SQL change the run cannot send is never dropped while "executable" is claimed ---


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE orders ADD CONSTRAINT c CHECK (currency IS NOT NULL) NOT VALID;",
        "UPDATE orders SET currency = 'EUR' WHERE currency IS NULL;",
        "CREATE INDEX CONCURRENTLY orders_currency ON orders (currency);",
    ],
)
def test_a_sql_change_without_a_client_is_a_manual_step_and_not_executable(sql: str) -> None:
    result = imported(
        f"""\
        # Migration

        ## 1. Deploy the reader

        ```bash
        deployctl ship --tag 4.0.0
        ```

        ## 2. Change the schema

        ```sql
        {sql}
        ```

        ## 3. Deploy the writer

        ```bash
        deployctl ship --tag 4.0.1
        ```
        """
    )
    data = result.data
    manual = manual_texts(data)
    assert any(sql.split(maxsplit=1)[0] in m for m in manual), manual
    steps = [str(s.get("run") or s.get("name")) for p in data["phases"] for s in p.get("steps", [])]
    order = [
        next(i for i, s in enumerate(steps) if key in s)
        for key in ("4.0.0", sql.split(maxsplit=1)[0], "4.0.1")
    ]
    assert order == sorted(order), steps  # in its place between the two deploys
    assert not result.report.get("executable", True) or result.report.get("by_hand")


def test_a_read_only_sql_query_stays_documentation() -> None:
    result = imported(
        """\
        # Migration

        ## 1. Deploy

        ```bash
        deployctl ship --tag 4.0.0
        ```

        The table looks like this:

        ```sql
        SELECT currency, count(*) FROM orders GROUP BY 1;
        ```
        """
    )
    assert not manual_texts(result.data)
    assert not result.report.get("by_hand")


# -- class 5: a command that asks for a password is a manual step, never a hung step ------------


@pytest.mark.parametrize(
    "command",
    [
        'mysql -u root -p -e "SELECT VERSION();"',
        "mysqlcheck -u root -p --all-databases --check-upgrade",
        "mysqldump --password -u backup shop",
        'psql -W -h db1 -U admin -c "SELECT 1"',
        "docker login registry.example.com -u deploy",
        "htpasswd /etc/nginx/.htpasswd ops",
    ],
)
def test_a_command_asking_for_a_password_is_a_manual_step(command: str) -> None:
    data = imported(
        f"""\
        # Upgrade

        ## 1. Upgrade

        ```bash
        sudo systemctl restart mysqld
        {command}
        ```
        """
    ).data
    assert runs_forward(data, "systemctl restart mysqld")
    assert not runs_forward(data, command.split(maxsplit=1)[0] + " "), command
    assert any(command.split(maxsplit=1)[0] in m for m in manual_texts(data)), manual_texts(data)


@pytest.mark.parametrize("command", ["mysql -u root -pS3cret -e 'SELECT 1'", "psql -c 'SELECT 1'"])
def test_a_password_given_on_the_line_is_no_prompt(command: str) -> None:
    data = imported(
        f"""\
        # Check

        ## 1. Check

        ```bash
        {command}
        ```
        """
    ).data
    assert runs_forward(data, command.split(maxsplit=1)[0])


def test_a_password_prompt_pauses_the_real_run_for_a_person(cli: CLI) -> None:
    """A real run: the step before runs, the run pauses (exit 4) at the prompting command
    instead of hanging on it, and the step after it has not run."""
    doc = """\
        # Upgrade

        ## 1. Upgrade

        ```bash
        echo stopped >> log.txt
        ```

        ```bash
        mysql -u root -p -e "SELECT VERSION();"
        ```

        ```bash
        echo started >> log.txt
        ```
        """
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml", "--yes", timeout=60)
    assert first.returncode == 4, first.stdout + first.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["stopped"]


# -- outside the labels: a fence disowned after it; tabs in a rollback -------------------------


@pytest.mark.parametrize(
    "after",
    [
        "(the command above is what NOT to run — it is here so you recognise it.)",
        "Do not run the command above on production.",
        "Führen Sie den obigen Befehl nicht aus.",
        "Ne pas exécuter la commande ci-dessus.",
        "No ejecutes el comando anterior.",
        "Не запускайте команду выше.",
    ],
)
@pytest.mark.parametrize("where", ["## 2. Switch", "## Rollback"])
def test_a_fence_the_text_after_it_disowns_never_runs_on_either_path(
    after: str, where: str
) -> None:
    data = imported(
        f"""\
        # Switch

        ## 1. Deploy

        ```bash
        deployctl ship --tag 5.0
        ```

        {where}

        ```bash
        routectl weight --new 100
        ```

        ```bash
        proxyctl logging --level debug
        ```

        {after}
        """
    ).data
    assert roles_of(data, "routectl weight"), "the fence before it is kept"
    assert roles_of(data, "proxyctl logging") == [], (after, where)


def test_a_do_not_run_until_sentence_after_a_fence_keeps_the_fence() -> None:
    """An order about later work is no disowning of the fence before it."""
    data = imported(
        """\
        # Migrate

        ## 1. Back up

        ```bash
        dbctl backup --full
        ```

        Do not run the migration until the backup above has finished.

        ## 2. Migrate

        ```bash
        dbctl migrate
        ```
        """
    ).data
    assert runs_forward(data, "dbctl backup --full")
    assert runs_forward(data, "dbctl migrate")


_TABBED_WAY_BACK = """\
    # Agent upgrade

    ## Step 1: Install

    ```bash
    echo installed >> log.txt
    ```

    ## Step 2: Verify

    ```bash
    false
    ```

    ## Rollback

    Downgrade the agent:

    <Tabs groupId="distro">
      <TabItem value="deb" label="Debian / Ubuntu">

    ```bash
    echo apt-downgrade >> log.txt
    ```

      </TabItem>
      <TabItem value="rpm" label="RHEL / Rocky">

    ```bash
    echo dnf-downgrade >> log.txt
    ```

      </TabItem>
    </Tabs>
    """


def test_tabs_in_a_rollback_are_ways_back_one_chosen() -> None:
    data = imported(_TABBED_WAY_BACK).data
    apt = roles_of(data, "apt-downgrade")
    dnf = roles_of(data, "dnf-downgrade")
    assert [role for role, _ in apt + dnf] == ["rollback", "rollback"]
    assert apt[0][1] and dnf[0][1] and apt[0][1] != dnf[0][1], (apt, dnf)


def test_only_the_chosen_tab_of_a_rollback_runs(cli: CLI) -> None:
    """A real run: verify fails, the rollback asks which tab (nothing of either has run),
    the operator chooses Debian, resume runs the apt downgrade alone."""
    (cli.cwd / "doc.md").write_text(textwrap.dedent(_TABBED_WAY_BACK), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml", "--yes")
    assert first.returncode == 4, first.stdout + first.stderr  # paused for the choice
    assert (cli.cwd / "log.txt").read_text().split() == ["installed"]
    approved = cli("approve", "last", "--choose", "debian-ubuntu")
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # failed, rolled back
    assert (cli.cwd / "log.txt").read_text().split() == ["installed", "apt-downgrade"]


# -- class 4: code blocks in another site's syntax are read, in order ---------------------------


@pytest.mark.parametrize(
    ("open_", "close"),
    [
        ("{{< highlight bash >}}", "{{< /highlight >}}"),
        ('{{< highlight bash "linenos=table" >}}', "{{< /highlight >}}"),
        ('{{< code lang="bash" >}}', "{{< /code >}}"),
        ("{{% highlight sh %}}", "{{% /highlight %}}"),
    ],
)
def test_hugo_code_shortcodes_are_fences_run_in_order(open_: str, close: str) -> None:
    data = imported(
        f"""\
        # Rotate the certificate

        ## Steps

        1. Upload.

        {open_}
        certctl upload --name c-2027
        {close}

        2. Activate.

        {open_}
        certctl activate --name c-2027
        {close}

        ## Rollback

        {open_}
        certctl activate --name c-2026
        {close}
        """
    ).data
    steps = [r for r in runs_of(data) if r[0] == "step"]
    assert [t for _, t, _ in steps] == [
        "certctl upload --name c-2027",
        "certctl activate --name c-2027",
    ]
    assert ("rollback", None) in roles_of(data, "certctl activate --name c-2026")


def test_confluence_wiki_markup_code_macros_headings_and_items_are_read() -> None:
    data = imported(
        """\
        h1. Search cluster upgrade

        h2. Pre-checks

        {code:bash}
        searchctl health --expect green
        {code}

        h2. Per node

        # Disable allocation:
        {code:bash}
        searchctl allocation --disable
        {code}
        # Upgrade the node:
        {code:bash}
        searchctl upgrade --to 8.11
        {code}

        h2. Rollback

        {code:bash|title=Back to 8.10}
        searchctl upgrade --to 8.10
        {code}
        """
    ).data
    names = [p["name"] for p in data["phases"]]
    assert "Disable allocation:" not in names, "a '# item' of wiki markup is no heading"
    forward = [t for role, t, when in runs_of(data) if role in ("step", "gate") and when is None]
    assert [t.split()[1] for t in forward] == ["health", "allocation", "upgrade"], forward
    assert roles_of(data, "--to 8.10") == [("rollback", None)]


def test_a_hash_line_in_a_markdown_document_stays_a_heading() -> None:
    """Without wiki markup (no `{code}` macros, no `h2.` headings) `# Title` is a heading."""
    data = imported(
        """\
        # Deploy

        ## 1. Ship

        ```bash
        deployctl ship
        ```
        """
    ).data
    assert data["description"] == "Deploy"


# -- class 6: the nearest lead-in's weaker action wins over a "Rollback triggers" heading -------


@pytest.mark.parametrize(
    ("lead", "action"),
    [
        ("Pause (do not continue to the next step, page the traffic lead) when:", "pause"),
        ("Halt the ramp if:", "pause"),
        ("Anhalten (nicht weiter ausrollen), wenn:", "pause"),
        ("Automatic rollback when any of:", "rollback"),
    ],
)
def test_a_pause_list_under_a_rollback_triggers_heading_pauses(lead: str, action: str) -> None:
    data = imported(
        f"""\
        # Gateway rollout

        ## 1. Shift

        ```bash
        routectl weight --new 10
        ```

        ## 2. Rollback triggers

        {lead}

        - CPU of the gateway pods above 80% for 15 minutes
        """
    ).data
    found = [t for t in data.get("triggers", []) if "80" in str(t)]
    assert found, data.get("triggers")
    assert {t.get("action") for t in found} == {action}, found


# -- class 8: waits and decisions written as prose stay where they are in the flow --------------


@pytest.mark.parametrize(
    "said",
    [
        "Hold each weight 15 minutes and watch the error rate.",
        "Каждое значение держим 15 минут.",
        "Run one line per day, on the date in the table.",
        "Rode uma linha por dia, na data da tabela.",
        "If some are still running, wait for them or cancel them — your call.",
        "Verschillen ze, dan **niet** doorgaan: zoek uit waarom.",
        "팀장 승인 후에만 진행합니다.",
        "Toista jokaiselle alueelle järjestyksessä: us-east-1, eu-west-1, ap-south-1.",
        "Lặp lại cho từng vùng theo thứ tự.",
        "Repetați pentru fiecare regiune, în ordine.",
    ],
)
def test_a_wait_or_a_persons_call_before_a_fence_pauses_for_a_person(said: str) -> None:
    data = imported(
        f"""\
        # Shift traffic

        ## 1. Prepare

        ```bash
        lbctl drain --pool old
        ```

        ## 2. Shift

        {said}

        ```bash
        lbctl weight --new 25
        lbctl weight --new 50
        ```
        """
    ).data
    steps = data["phases"][-1]["steps"]
    pause = [i for i, s in enumerate(steps) if "pause" in s]
    runs = [i for i, s in enumerate(steps) if "lbctl weight" in str(s.get("run"))]
    assert pause and runs and min(pause) < min(runs), steps  # the person first, then the run


# -- class 7: a measured failure condition in a rollback lead-in is a trigger ------------------


@pytest.mark.parametrize(
    "lead",
    [
        "Palauta alue, jos virheprosentti ylittää 2 % viiden minuutin ajan:",
        "Állítsd vissza, ha a hibaarány 2 % fölé megy 5 percig:",
        "Reveniți, dacă rata erorilor depășește 2 % timp de 5 minute:",
    ],
)
def test_a_measured_condition_leading_a_rollback_fence_is_a_trigger(lead: str) -> None:
    data = imported(
        f"""\
        # Update

        ## 1. Update

        ```bash
        fnctl update --version 2.4.0
        ```

        ## Rollback

        {lead}

        ```bash
        fnctl alias --version 2.3.9
        ```
        """
    ).data
    assert ("rollback", None) in roles_of(data, "fnctl alias")
    found = [t for t in data.get("triggers", []) if "2 %" in str(t) or "2%" in str(t)]
    assert [t.get("action") for t in found] == ["rollback"], data.get("triggers")
