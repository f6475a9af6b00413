"""Blind round 12's safety classes (issue 11), each a general rule tested on wordings written
here, never the round's documents: what runs forward, what runs on rollback, what pauses for a
person (plan_walk.py walks the imported plans)."""

from __future__ import annotations

import pytest

from tests.markdown.plan_walk import imported, manual_texts, roles_of, runs_forward, runs_of

# A forward procedure, then a section whose heading is the wording under test, over a command.
_DOC = """# Upgrade the ledger service

## Upgrade

```bash
systemctl restart ledger-forward
```

## {heading}

```bash
{command}
```

## Verify

```bash
curl -fsS http://localhost:8080/ledger-health
```
"""

# Class 1: a heading no rule classifies (not a phase, a numbered step, a check, a procedure,
# nor a forward act or the act itself) over commands that undo or destroy: the operator is
# asked first (a decision), the commands never run forward.
UNKNOWN_HEADINGS = [
    "Pitfalls",
    "Things to keep in mind",
    "Heads-up",
    "Ennen kuin lähdet",  # fi: before you leave
    "Kilka uwag",  # pl: a few remarks
    "Ek bilgiler",  # tr: additional information
    "Πριν φύγετε",  # el: before you leave
    "나중에",  # ko: later
    "Hal-hal lain",  # id: other things
]
UNDOING = [
    "kubectl -n ledger rollout undo deployment/ledger-other",
    "helm rollback ledger-other 0 --wait",
    "sudo rm -rf /var/lib/ledger-other/cache",
    'psql ledger-other -c "DROP TABLE legacy;"',
    'mysql ledger-other -e "DELETE FROM entries WHERE id > 0"',
    "terraform -chdir=ledger-other destroy -auto-approve",
    "gh run cancel 4242 --repo acme/ledger-other",
    "redis-cli -h ledger-other FLUSHALL",
    "git revert --no-edit ledger-other-sha",
    "curl -fsS -X DELETE https://api.internal/ledger-other",
    "aws cloudformation delete-stack --stack-name ledger-other",
    "nixos-rebuild switch --rollback --target-host ledger-other",
    "sqitch revert -y --to @HEAD^ db:pg://ledger-other",
]


@pytest.mark.parametrize("heading", UNKNOWN_HEADINGS)
@pytest.mark.parametrize("command", UNDOING)
def test_an_unclassified_heading_over_an_undo_asks_first(heading: str, command: str) -> None:
    data = imported(_DOC.format(heading=heading, command=command)).data
    roles = roles_of(data, "ledger-other")
    assert roles, (heading, command)
    # never the path: run only when the operator chose it
    assert not runs_forward(data, "ledger-other"), (heading, command, roles)
    assert all(when and when.startswith("vars.DECISION_") for _, when in roles), roles
    # the operator is asked, before it, with the heading's words
    asked = [t for t in manual_texts(data) if "Decide" in t and heading.lower() in t.lower()]
    assert asked, (heading, manual_texts(data))
    # the procedure around it is still the path, in its order
    assert runs_forward(data, "ledger-forward")
    assert runs_forward(data, "ledger-health")


def test_the_decision_comes_before_the_commands_it_holds() -> None:
    doc = _DOC.format(heading="Pitfalls", command="sudo rm -rf /var/lib/ledger-other/cache")
    steps = [s for p in imported(doc).data["phases"] for s in p.get("steps", [])]
    asked = next(i for i, s in enumerate(steps) if "pause" in s and "Decide" in s["name"])
    held = next(i for i, s in enumerate(steps) if "ledger-other" in s.get("run", ""))
    assert asked < held
    choose = steps[asked]["pause"]["choose"]
    assert "none" in choose["options"]  # not doing it is a choice
    assert steps[held]["when"] == f"vars.{choose['var']} == '{choose['options'][0]}'"


# What the rule leaves alone: the document says to run it there.
FORWARD = [
    # a heading naming the act itself
    ("Drop the legacy table", 'psql ledger-other -c "DROP TABLE legacy;"'),
    ("Delete the old bucket", "aws s3 rb s3://ledger-other --force && rm -rf /tmp/ledger-other"),
    ("Tear down the blue stack", "terraform -chdir=ledger-other destroy -auto-approve"),
    # a heading naming forward work, whose fence cleans up after itself
    ("Full deploy", "kubectl apply -f ledger.yaml && rm -rf /tmp/ledger-other"),
    ("Genomförande", "rm -rf /tmp/ledger-other && ./deploy.sh"),
    ("Wdrożenie", "rm -rf /tmp/ledger-other && ./deploy.sh"),
    ("Tasks", 'psql ledger-other -c "DELETE FROM runs WHERE id = 999;"'),
    # a numbered step, in several languages
    ("3. Wipe the new VM", "sudo rm -rf /var/lib/ledger-other/data"),
    ("Krok 3: wyczyść", "sudo rm -rf /var/lib/ledger-other/data"),
    ("Adım 3", "sudo rm -rf /var/lib/ledger-other/data"),
    # an option's value is a setting of a forward command, not an undo
    (
        "Ažuriranje",
        "docker service update --update-failure-action rollback --image ledger:2 ledger-other",
    ),
    ("Ažuriranje", "aws cloudformation deploy --on-failure=DELETE --stack-name ledger-other"),
]


@pytest.mark.parametrize(("heading", "command"), FORWARD)
def test_a_heading_that_says_to_do_it_keeps_it_on_the_path(heading: str, command: str) -> None:
    data = imported(_DOC.format(heading=heading, command=command)).data
    assert runs_forward(data, "ledger-other"), (heading, command, roles_of(data, "ledger-other"))
    assert not [t for t in manual_texts(data) if "Decide" in t], manual_texts(data)


def test_a_rollback_runbook_runs_its_undo_forward() -> None:
    doc = """# Rollback runbook: ledger 4.2 → 4.1

## Notes before you start

```bash
kubectl -n ledger rollout undo deployment/ledger-other
```
"""
    data = imported(doc).data
    assert runs_forward(data, "rollout undo deployment/ledger-other"), roles_of(data, "ledger")


# Class 2: what waits for a person or never ends, in forms forever.py missed: a `select`
# menu, a sign-in that asks for a password or opens a browser, a live statistics view. Never a
# plain step or gate (a manual step or a monitor), and the commands around it still run.
_WAIT_DOC = """# Rotate the ledger cache

## 1. Prepare

```bash
systemctl restart ledger-forward
```

## 2. Look

```bash
{command}
```

## 3. Finish

```bash
systemctl restart ledger-finish
```
"""

WAITING = [
    "kcadm.sh config credentials --server https://sso.example.net --realm master --user admin",
    "$KCADM config credentials --server https://sso.example.net --realm master --user admin",
    "oc login https://api.ocp.example.net:6443 -u admin",
    "gh auth login --hostname github.example.net",
    "az login --tenant example.onmicrosoft.com",
    "gcloud auth login ops@example.net",
    "aws sso login --profile prod",
    "aws configure",
    "npm login --registry https://npm.example.net",
    "kinit ops@EXAMPLE.NET",
    "redis-cli -h cache-1 --stat",
    "redis-cli -h cache-1 --latency-history -i 5",
    "redis-cli -h cache-1 -r -1 -i 1 INFO clients",
    "mongostat --host mongo-1 5",
    "docker stats",
    "docker events --filter type=container",
]


@pytest.mark.parametrize("command", WAITING)
def test_a_command_that_waits_or_never_ends_is_no_plain_step(command: str) -> None:
    data = imported(_WAIT_DOC.format(command=command)).data
    word = command.split()[1] if command.startswith("$") else command.split(maxsplit=1)[0]
    assert not [
        text for role, text, _ in runs_of(data) if role in ("step", "gate") and word in text
    ], (command, runs_of(data))
    assert runs_forward(data, "ledger-forward")
    assert runs_forward(data, "ledger-finish")


NOT_WAITING = [
    "kcadm.sh config credentials --server https://sso.example.net --realm master --user admin "
    '--password "$KC_PASS"',
    "oc login https://api.ocp.example.net:6443 --token=$OC_TOKEN",
    "echo $GH_TOKEN | gh auth login --with-token",
    "redis-cli -h cache-1 INFO stats",
    "docker stats --no-stream",
    "mongostat --host mongo-1 -n 3 5",
    "kinit -kt /etc/ledger.keytab ledger@EXAMPLE.NET",
]


@pytest.mark.parametrize("command", NOT_WAITING)
def test_the_same_tools_given_what_they_need_stay_steps(command: str) -> None:
    data = imported(_WAIT_DOC.format(command=command)).data
    word = command.rsplit("|", maxsplit=1)[-1].split(maxsplit=1)[0]
    assert [text for role, text, when in runs_of(data) if role == "step" and word in text], (
        command,
        runs_of(data),
    )


def test_a_select_menu_s_pick_is_a_value_a_person_gives_before_the_run() -> None:
    doc = """# Release the gateway

## Release script

```bash
set -euo pipefail
select TARGET in staging production; do break; done
kubectl config use-context "gke-$TARGET"
kubectl -n pay set image deploy/gateway gateway=registry.example.net/gateway:3.8.0
```
"""
    result = imported(doc)
    data = result.data
    # the rest of the script runs, with the pick bound beforehand, never an empty $TARGET
    assert runs_forward(data, "kubectl -n pay set image deploy/gateway")
    assert not runs_forward(data, "select TARGET in")
    binding = str(data["vars"]["TARGET"]["needs_binding"])
    assert "staging | production" in binding and "select" in binding
    assert result.report["executable"] is False


# Class 3: what the document conditions, in wordings the tables lacked. A heading or lead-in
# naming trouble that is no "failure" word (it hangs, stalls, gets stuck, something goes
# wrong), work put in the next sprint/week/quarter: never forward (a recovery action or a
# step bound to a decision). The way back in the Baltic languages and Finnish: rollback.
TROUBLE_OR_LATER = [
    ("en", "If the backfill stalls for 20 minutes"),
    ("en", "When the job hangs"),
    ("en", "If anything goes sideways"),
    ("sr", "Ako nešto krene naopako"),
    ("hr", "Ako se proces zaglavi"),
    ("ro", "Dacă rularea se blochează"),
    ("pl", "Jeśli zadanie się zawiesi"),
    ("cs", "Pokud se něco pokazí"),
    ("fi", "Jos ajo jumittuu"),
    ("tr", "Bir şeyler ters giderse"),
    ("tr", "İş takılırsa"),
    ("hu", "Ha valami elromlik"),
    ("uk", "Якщо щось піде не так"),
    ("ru", "Если что-то пойдёт не так"),
    ("id", "Jika ada yang salah"),
    ("vi", "Nếu tiến trình bị treo"),
    ("lt", "Jei kas nors nepavyks"),
    ("lv", "Ja kaut kas noiet greizi"),
    ("et", "Kui midagi läheb valesti"),
    ("de", "Wenn der Job hängt"),
    ("sv", "Om jobbet hänger sig"),
    ("en", "Cleanup (next sprint)"),
    ("tr", "Temizlik (sonraki sprint)"),
    ("el", "Καθαρισμός (επόμενο sprint)"),
    ("ko", "정리 (다음 주)"),
    ("pl", "Sprzątanie (następny sprint)"),
    ("fi", "Siivous (seuraava sprintti)"),
    ("hu", "Takarítás (következő sprint)"),
    ("ro", "Curățenie (sprintul următor)"),
    ("uk", "Прибирання (наступний спринт)"),
    ("it", "Pulizia (prossimo sprint)"),
    ("de", "Aufräumen (nächster Sprint)"),
    ("lt", "Valymas (kitas sprintas)"),
    ("ja", "後片付け（来週）"),
    ("lt", "Tik jei naujame serveryje darbas krenta"),
    ("lv", "Tikai ja vadītājs piekrīt"),
    ("et", "Ainult siis, kui juht nõustub"),
]


@pytest.mark.parametrize(("lang", "heading"), TROUBLE_OR_LATER)
def test_trouble_and_later_work_never_run_forward(lang: str, heading: str) -> None:
    doc = _DOC.format(heading=heading, command="systemctl restart ledger-other")
    data = imported(doc).data
    roles = roles_of(data, "ledger-other")
    assert roles and not runs_forward(data, "ledger-other"), (lang, heading, roles)
    assert all(role == "rollback" or when for role, when in roles), (lang, heading, roles)
    assert runs_forward(data, "ledger-forward")
    assert runs_forward(data, "ledger-health")


WAY_BACK = [
    ("lt", "Atšaukimas"),
    ("lt", "Atstatymas"),
    ("lt", "Grąžinimas į seną versiją"),
    ("lv", "Atcelšana"),
    ("lv", "Atjaunošana"),
    ("et", "Tagasipööramine"),
    ("et", "Taastamine"),
    ("fi", "Peruminen"),
]


@pytest.mark.parametrize(("lang", "heading"), WAY_BACK)
def test_a_way_back_heading_runs_on_rollback_never_forward(lang: str, heading: str) -> None:
    doc = _DOC.format(heading=heading, command="systemctl restart ledger-other")
    data = imported(doc).data
    assert roles_of(data, "ledger-other") == [("rollback", None)], (lang, heading)
    assert runs_forward(data, "ledger-forward")


# "STOP if … In that case delete it:" in a blockquote over a quoted fence: that fence is for
# that case only; the review after the quote is still the operator's gate before what follows.
IN_THAT_CASE = [
    "**STOP** if the diff shows a replacement. In that case delete the change set:",
    "**PARE** se aparecer uma substituição. Nesse caso apague o change set:",
    "**STOPP** om diffen visar en ersättning. I så fall ta bort ändringen:",
    "**ARRÊTEZ** si le diff montre un remplacement. Dans ce cas supprimez le change set :",
    "**STOP** jeśli diff pokazuje zamianę. W takim przypadku usuń change set:",
    "**DUR** — fark bir değiştirme gösterirse. Bu durumda change set'i silin:",
]


@pytest.mark.parametrize("lead", IN_THAT_CASE)
def test_a_quoted_in_that_case_fence_never_runs_forward(lead: str) -> None:
    doc = f"""# Update the payments stack

## 3. Review

```bash
aws cloudformation describe-change-set --stack-name pay --change-set-name c1
```

> {lead}
>
> ```bash
> aws cloudformation delete-change-set --stack-name pay --change-set-name c1
> ```

Two people read the change set. Proceed only after the reviewer says OK.

## 4. Execute

```bash
aws cloudformation execute-change-set --stack-name pay --change-set-name c1
```
"""
    data = imported(doc).data
    assert not runs_forward(data, "delete-change-set"), (lead, roles_of(data, "delete-change"))
    assert roles_of(data, "delete-change-set"), lead
    assert runs_forward(data, "execute-change-set")
    assert [t for t in manual_texts(data) if "reviewer" in t], (lead, manual_texts(data))


def test_an_obsidian_callout_title_introduces_what_it_holds() -> None:
    doc = """# Replace a node

## 3. Start

```bash
systemctl start ledger-forward
```

> [!failure]- If the bootstrap stalls for more than 20 minutes
> Restart it once; if it stalls again, page the storage on-call.
> ```bash
> systemctl restart ledger-other
> ```

## 4. Verify

```bash
curl -fsS http://localhost:8080/ledger-health
```
"""
    data = imported(doc).data
    assert roles_of(data, "ledger-other") and not runs_forward(data, "ledger-other")
    assert runs_forward(data, "ledger-forward") and runs_forward(data, "ledger-health")


# Class 4: a placeholder whose name is one of the engine's own variables (`<RUN_ID>`, the id
# `gh run list` shows; `<PLAN_NAME>`) is the reader's value: it needs binding under a name of
# its own, forward or on rollback, and never runs literally (`<RUN_ID>` is a redirection);
# the engine's `$RUN_DIR` written as such stays the engine's.
@pytest.mark.parametrize("placeholder", ["<RUN_ID>", "<PLAN_NAME>", "<STATE_DIR>", "<RUN_DIR>"])
@pytest.mark.parametrize("where", ["Deploy", "Rollback"])
def test_a_placeholder_named_like_an_engine_variable_needs_binding(
    placeholder: str, where: str
) -> None:
    doc = f"""# Release

## Deploy

```bash
echo deploy > "$RUN_DIR/deployed"
```

## {where}

```bash
gh run cancel {placeholder} --repo acme/ledger-other
```
"""
    result = imported(doc)
    data = result.data
    texts = [text for _, text, _ in runs_of(data) if "ledger-other" in text]
    assert texts and not [t for t in texts if placeholder in t], texts
    bound = [v for v in data.get("vars", {}).values() if placeholder in str(v.get("needs_binding"))]
    assert bound, data.get("vars")
    assert result.report["executable"] is False
    # the engine's own variable, written as one, is left to the engine
    assert any('"$RUN_DIR/deployed"' in text for _, text, _ in runs_of(data))


# Class 5: a marked optional part in the middle of a pasted script runs only when the
# operator chooses it; what comes before and after it still runs, in order.
OPTIONAL_MARKERS = [
    ("# --- optional: warm the cache (skip if there is no traffic) ---", "# --- end optional ---"),
    ("# (optional) warm the cache", ""),
    ("# Optional — warm the cache", "# end"),
    ("# --- ส่วนที่ไม่บังคับ: อุ่นแคช ---", "# --- จบส่วนที่ไม่บังคับ ---"),
    ("# --- opcional: calentar la caché ---", "# --- fin ---"),
    ("# === opcjonalne: rozgrzanie cache ===", "# === koniec ==="),
    ("# -- isteğe bağlı: önbelleği ısıt --", "# -- bitiş --"),
    ("# --- valinnainen: lämmitä välimuisti ---", "# --- loppu ---"),
    ("# skip this if the cache is already warm", ""),
]


@pytest.mark.parametrize(("opening", "closing"), OPTIONAL_MARKERS)
def test_a_marked_optional_part_of_a_script_runs_only_when_chosen(
    opening: str, closing: str
) -> None:
    closing_line = f"{closing}\n" if closing else "\n"
    doc = f"""# Release the gateway

## Release script

```bash
set -euo pipefail
systemctl restart ledger-forward
{opening}
for i in 1 2 3; do curl -s -o /dev/null "http://localhost/ledger-warm?i=$i"; done
{closing_line}
systemctl restart ledger-finish
```
"""
    data = imported(doc).data
    warm = roles_of(data, "ledger-warm")
    assert warm and not runs_forward(data, "ledger-warm"), (opening, warm)
    assert all(when and when.startswith("vars.DECISION_") for _, when in warm), warm
    assert runs_forward(data, "ledger-forward") and runs_forward(data, "ledger-finish")
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    order = [next(i for i, s in enumerate(steps) if w in s["run"]) for w in ("-forward", "-warm")]
    assert order[0] < order[1] < next(i for i, s in enumerate(steps) if "-finish" in s["run"])
    # the script's `set -e…` holds in the parts after the cut too
    assert all("set -euo pipefail" in s["run"] for s in steps if "ledger-" in s["run"])


def test_a_comment_that_only_mentions_an_option_is_no_optional_part() -> None:
    doc = """# Release

## Steps

```bash
systemctl restart ledger-forward
# the --optional-deps flag is not needed any more
systemctl restart ledger-finish
```
"""
    data = imported(doc).data
    assert runs_forward(data, "ledger-forward") and runs_forward(data, "ledger-finish")


# Class 6: an rST literal block (`::`) of OpenStack commands is read as shell (its placeholder
# needs binding), and an emergency procedure in other languages is a note, never the path.
def test_rst_literal_blocks_of_openstack_commands_are_steps() -> None:
    doc = """Compute maintenance
===================

Disable scheduling
------------------

::

    openstack compute service set --disable --disable-reason "RAM" cmp-9 nova-compute

Retry one instance with block migration::

    openstack server migrate --live-migration --block-migration --wait <INSTANCE_ID>
"""
    result = imported(doc)
    assert runs_forward(result.data, "openstack compute service set --disable")
    assert [b for b in result.data.get("vars", {}).values() if "<INSTANCE_ID>" in str(b)]
    assert result.report["executable"] is False


EMERGENCY_HEADINGS = [
    ("cs", "Krizový postup (uzel je mrtvý)"),
    ("cs", "Nouzový postup"),
    ("pl", "Procedura awaryjna"),
    ("tr", "Acil durum prosedürü"),
    ("fi", "Hätämenettely"),
    ("sv", "Nödprocedur"),
    ("fr", "Procédure d'urgence"),
    ("de", "Notfallverfahren"),
    ("es", "Procedimiento de emergencia"),
    ("it", "Procedura di emergenza"),
    ("pt", "Procedimento de emergência"),
    ("ru", "Аварийная процедура"),
    ("uk", "Аварійна процедура"),
    ("hu", "Vészhelyzeti eljárás"),
    ("ro", "Procedură de urgență"),
    ("id", "Prosedur darurat"),
    ("ko", "긴급 절차"),
    ("el", "Έκτακτη διαδικασία"),
    ("he", "נוהל חירום"),
]


@pytest.mark.parametrize(("lang", "heading"), EMERGENCY_HEADINGS)
def test_an_emergency_procedure_never_runs_forward(lang: str, heading: str) -> None:
    doc = _DOC.format(heading=heading, command="nova evacuate ledger-other-vm")
    data = imported(doc).data
    assert not runs_forward(data, "ledger-other"), (lang, heading, roles_of(data, "ledger-other"))
    assert runs_forward(data, "ledger-forward") and runs_forward(data, "ledger-health")


# Class 7: pandoc's attribute form names a fence's language (`{.bash org-language="sh"}`, an
# Org-mode export): its commands run, in order; a MinIO trace in it never ends.
def test_a_pandoc_attribute_fence_is_read_in_its_language() -> None:
    doc = """# Upgrade the object store

## TODO Backup :prep:

``` {.bash org-language="sh"}
mc admin config export s3-prod > /srv/backup/minio-config.txt
```

## TODO Upgrade :upgrade:

``` {.bash}
mc admin update s3-prod --yes
```

``` {.bash}
mc admin trace s3-prod --errors
```
"""
    data = imported(doc).data
    assert runs_forward(data, "mc admin config export s3-prod")
    assert runs_forward(data, "mc admin update s3-prod --yes")
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    assert [i for i, s in enumerate(steps) if "config export" in s["run"]] < [
        i for i, s in enumerate(steps) if "admin update" in s["run"]
    ]
    assert not [t for r, t, _ in runs_of(data) if r in ("step", "gate") and "admin trace" in t]
