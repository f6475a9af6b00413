"""The classes of blind round 7 (issue 11), each on small synthetic documents in wordings and
languages the round's documents do not use: a rule must hold for the class, not for one
document's text."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, shellparse
from tests.markdown.test_safety_classes import _forward


def _import(doc: str) -> Any:
    return import_markdown(textwrap.dedent(doc), "DOC.md")


def _rollback_runs(data: dict[str, Any]) -> str:
    return "\n".join(
        str(step.get("run", "")) for phase in data["phases"] for step in phase.get("rollback", [])
    )


def _triggers(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data.get("triggers") or []) + [
        t for phase in data["phases"] for t in phase.get("triggers") or []
    ]


# -- rollback, failure and "never" sections in more languages --------------------------------


@pytest.mark.parametrize(
    ("heading", "intro"),
    [
        ("## Návrat zpět", "Vrácení změn:"),  # Czech
        ("## Återställning", "Gör så här:"),  # Swedish
        ("## Відкат", "Виконайте:"),  # Ukrainian
        ("## Wycofanie zmian", "Cofnij:"),  # Polish
        ("## Geri dönüş planı", "Uygulayın:"),  # Turkish
        ("## Откатить изменения", "Выполните:"),  # Russian
    ],
)
def test_a_rollback_section_in_another_language_never_runs_forward(
    heading: str, intro: str
) -> None:
    data = _import(
        f"""
        # Deploy
        ## Deploy
        ```bash
        ./deploy.sh v2
        ```
        {heading}

        {intro}

        ```bash
        ./deploy.sh v1
        ```
        """
    ).data
    forward = _forward(data)
    assert "./deploy.sh v2" in forward
    assert "./deploy.sh v1" not in forward
    assert "./deploy.sh v1" in _rollback_runs(data)


@pytest.mark.parametrize(
    "lead",
    [
        "Никогда не запускайте на проде:",
        "Kör aldrig detta i produktion:",
        "Nikdy nespouštějte v produkci:",
        "Asla üretimde çalıştırmayın:",
        "Never drop the table while writers are connected.",
    ],
)
def test_a_command_the_text_forbids_never_runs(lead: str) -> None:
    data = _import(
        f"""
        # Cleanup
        ## Steps
        ```bash
        ./archive.sh
        ```

        {lead}

        ```bash
        psql -c 'DROP TABLE orders'
        ```
        """
    ).data
    forward = _forward(data)
    assert "./archive.sh" in forward and "DROP TABLE" not in forward


def test_never_skip_is_an_order_not_a_prohibition() -> None:
    data = _import(
        """
        # Upgrade
        ## Steps
        Never skip the backup:

        ```bash
        ./backup.sh
        ```
        """
    ).data
    assert "./backup.sh" in _forward(data)


@pytest.mark.parametrize(
    "heading",
    ["## V případě problémů", "## Vid problem", "## В случае ошибки", "## Sorun olursa"],
)
def test_a_trouble_section_in_another_language_is_recovery(heading: str) -> None:
    data = _import(
        f"""
        # Deploy
        ## Deploy
        ```bash
        kubectl apply -f app.yaml
        ```
        {heading}
        ```bash
        kubectl rollout undo deploy/app
        ```
        """
    ).data
    forward = _forward(data)
    assert "kubectl apply" in forward and "rollout undo" not in forward


# -- decision trees --------------------------------------------------------------------------


def test_a_decision_tree_runs_only_the_branch_the_operator_chooses() -> None:
    data = _import(
        """
        # Playbook: disk full
        ## 1. Check
        ```bash
        df -h /var
        ```
        ## 2. Choose
        - Logs are the culprit: see step 3.
        - The database grew: go to step 4.
        - Nothing obvious: escalate to the on-call lead.
        ## 3. Rotate logs
        ```bash
        logrotate -f /etc/logrotate.conf
        ```
        ## 4. Extend the volume
        ```bash
        lvextend -r -L +20G /dev/vg0/var
        ```
        """
    ).data
    forward = _forward(data)
    assert "df -h /var" in forward
    assert "logrotate" not in forward and "lvextend" not in forward
    pauses = [
        s for p in data["phases"] for s in p.get("steps", []) if isinstance(s.get("pause"), dict)
    ]
    assert len(pauses) == 1
    options = pauses[0]["pause"]["choose"]["options"]
    assert len(options) == 3  # the two branches and the situation that routes nowhere
    whens = [
        s.get("when")
        for p in data["phases"]
        for s in p.get("steps", [])
        if "logrotate" in str(s.get("run", "")) or "lvextend" in str(s.get("run", ""))
    ]
    assert len(whens) == 2 and all(whens) and whens[0] != whens[1]


def test_one_sentence_with_an_order_and_a_remedy_is_no_tree() -> None:
    data = _import(
        """
        # Release
        ## 1. Build
        Build it, then continue with step 2; if it fails, see step 3.
        ```bash
        make build
        ```
        ## 2. Ship
        ```bash
        make ship
        ```
        ## 3. Debug
        ```bash
        make debug
        ```
        """
    ).data
    assert "make ship" in _forward(data)


# -- options, conditions and examples --------------------------------------------------------


@pytest.mark.parametrize(
    "lead",
    [
        "Only after the release manager's approval:",
        "Nur mit Freigabe des Teamleads:",
        "Tylko za zgodą kierownika:",
        "Только с одобрения руководителя:",
    ],
)
def test_a_command_that_needs_a_persons_approval_is_an_option(lead: str) -> None:
    data = _import(
        f"""
        # Rollout
        ## Ramp
        ```bash
        ./ramp.sh 10
        ```

        {lead}

        ```bash
        ./ramp.sh 100
        ```
        """
    ).data
    forward = _forward(data)
    assert "./ramp.sh 10" in forward and "./ramp.sh 100" not in forward


def test_a_way_for_another_environment_is_an_option() -> None:
    data = _import(
        """
        # Upgrade
        ## Package (production)
        ```bash
        apt-get install -y app=2.0
        ```
        ## Kubernetes (staging only)
        ```bash
        helm upgrade app chart/ --version 2.0
        ```
        """
    ).data
    forward = _forward(data)
    assert "apt-get install" in forward and "helm upgrade" not in forward


def test_a_condition_in_the_last_sentence_of_a_lead_in_holds_its_fence() -> None:
    data = _import(
        """
        # Migrate
        ## Verify
        Look at the replication graph. If the lag is above 30 seconds, pause the writers:

        ```bash
        ./writers.sh pause
        ```
        """
    ).data
    assert "./writers.sh pause" not in _forward(data)


def test_an_example_and_its_continuation_do_not_run() -> None:
    data = _import(
        """
        # Migrate
        ## Run
        ```bash
        ./migrate.sh
        ```

        The tool listens on a socket. For example, to slow it down:

        ```bash
        echo slow | nc -U /tmp/tool.sock
        ```

        or to speed it up again:

        ```bash
        echo fast | nc -U /tmp/tool.sock
        ```
        """
    ).data
    forward = _forward(data)
    assert "./migrate.sh" in forward
    assert "echo slow" not in forward and "echo fast" not in forward


# -- commands that stop for an answer --------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "terraform destroy -target=module.cache",
        "tofu apply -var 'size=large'",
        "terraform -chdir=infra apply",
        "pulumi up --stack prod",
        "redis-cli --cluster reshard 10.0.0.1:6379",
        "ceph --watch-debug",
        "gh-ost --alter='ADD COLUMN x INT' --postpone-cut-over-flag-file=/tmp/f --execute",
    ],
)
def test_commands_that_wait_for_a_person_are_never_plain_steps(command: str) -> None:
    assert shellparse.never_ending_text(command) is not None


@pytest.mark.parametrize(
    "command",
    [
        "terraform apply tfplan",
        "terraform apply -auto-approve -var 'size=large'",
        "pulumi up --yes --stack prod",
        "redis-cli --cluster reshard 10.0.0.1:6379 --cluster-from a --cluster-to b "
        "--cluster-slots 100 --cluster-yes",
        "ceph -s",
        "gh-ost --alter='ADD COLUMN x INT' --execute",
        "terraform plan -out=tfplan",
    ],
)
def test_the_same_commands_given_their_answers_run(command: str) -> None:
    assert shellparse.never_ending_text(command) is None


@pytest.mark.parametrize(
    "after",
    [
        "The script prompts `Continue? (y/n)` — type `y`.",
        "Das Skript fragt nach einer Bestätigung; tippe `ja`.",
        "El script pregunta si continuar: escribe `s`.",
    ],
)
def test_a_fence_the_text_says_asks_is_done_by_hand(after: str) -> None:
    result = _import(
        f"""
        # Rotate
        ## Rotate keys
        ```bash
        ./rotate-keys.sh --env prod
        ```

        {after}
        """
    )
    assert "./rotate-keys.sh" not in _forward(result.data)
    manual = [
        s["name"]
        for p in result.data["phases"]
        for s in p.get("steps", [])
        if s.get("pause") == "approve"
    ]
    assert any("./rotate-keys.sh --env prod" in name for name in manual)
    assert result.report["executable"] is False


def test_a_prompting_command_in_a_rollback_stays_the_way_back() -> None:
    data = _import(
        """
        # Resize
        ## Apply
        ```bash
        terraform apply -auto-approve -var 'size=large'
        ```
        ## Rollback
        ```bash
        terraform apply -var 'size=small'
        ```
        """
    ).data
    assert "terraform apply -var 'size=small'" in _rollback_runs(data)
    assert "size=small" not in _forward(data)


# -- what is no reason, and actions named by a heading ---------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        "A slow admin page alone is not a reason to roll back.",
        "Ein einzelner Fehler im Log ist kein Grund für einen Rollback.",
        "Un error aislado no es motivo para revertir.",
    ],
)
def test_what_the_author_calls_no_reason_is_never_a_trigger(item: str) -> None:
    data = _import(
        f"""
        # Deploy
        ## Deploy
        ```bash
        ./deploy.sh
        ```
        ## Rollback criteria
        - error rate above 2 % for 5 minutes
        - {item}
        """
    ).data
    conditions = " ".join(str(t) for t in _triggers(data)).lower()
    assert "2 %" in conditions or "0.02" in conditions
    assert "admin page" not in conditions and "fehler im log" not in conditions
    assert "error aislado" not in conditions


def test_a_heading_that_is_an_action_makes_its_conditions_triggers() -> None:
    data = _import(
        """
        # Ramp
        ## Ramp
        ```bash
        ./ramp.sh 50
        ```
        ## Halt (do not advance further)
        - p95 latency above 800 ms for 10 minutes
        - checkout errors spike on any region
        """
    ).data
    triggers = _triggers(data)
    assert triggers and all(t.get("action") == "pause" for t in triggers)


# -- placeholders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "placeholder"),
    [
        ("export DB_PASSWORD=VOTRE_MOT_DE_PASSE", "VOTRE_MOT_DE_PASSE"),
        ("gcloud config set project seu-projeto", "seu-projeto"),
        ("aws ec2 stop-instances --instance-ids i-xxxxxxxxxxxx", "i-xxxxxxxxxxxx"),
        ("cp backup-<date>.sql /srv/restore/", "<date>"),
    ],
)
def test_placeholders_of_round_7_need_binding(command: str, placeholder: str) -> None:
    result = _import(
        f"""
        # Change
        ## Run
        ```bash
        {command}
        ```
        """
    )
    # the literal is gone from what runs: only a variable reference `${NAME}` is left
    assert placeholder not in re.sub(r"\$\{[^}]*\}", "", _forward(result.data))
    # the whole token or, for an id with a fixed prefix (`i-xxxx`), its X run: either way the
    # part the reader must replace is what needs binding
    named = {placeholder, re.sub(r"^[a-z]+-(?=x+$)", "", placeholder)}
    bindings = [str(v.get("needs_binding", "")) for v in result.data["vars"].values()]
    assert any(n in b for n in named for b in bindings), bindings
    assert result.report["executable"] is False


# -- a person's part in the flow -------------------------------------------------------------


@pytest.mark.parametrize(
    "prose",
    [
        "Then repeat for `db-2` and `db-3`.",
        "Повторите для второго узла.",
        "Wiederhole das für den zweiten Knoten.",
        "The CAB signs off in the change ticket.",
        "Schedule it for the Saturday 22:00 window.",
        "If the count is above 10, stop and investigate.",
        "Poll until the status is `ready`.",
    ],
)
def test_a_persons_part_in_the_flow_pauses_the_run(prose: str) -> None:
    data = _import(
        f"""
        # Change
        ## Run
        ```bash
        ./change.sh db-1
        ```

        {prose}

        ```bash
        ./finish.sh
        ```
        """
    ).data
    steps = [s for p in data["phases"] for s in p.get("steps", [])]
    names = [str(s.get("run") or s.get("name")) for s in steps]
    first = next(i for i, n in enumerate(names) if "./change.sh" in n)
    last = next(i for i, n in enumerate(names) if "./finish.sh" in n)
    assert any(steps[i].get("pause") == "approve" for i in range(first + 1, last))
