"""The misses left by blind rounds 7–9 (issue 11, helper h-import10), each fixed as a rule
and checked here on small synthetic documents in wordings and languages those rounds do not
use (role, order, what runs forward, on rollback, what pauses for a person), and for the
classes about running, by a real run."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown
from tests.conftest import CLI


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "doc.md").data


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in data["phases"] for s in p.get("steps", [])]


# -- a wait column in a command table: the hold between rows, never nothing ---------------------

_SHORT_WAIT = """\
    # Shift traffic to the new pool

    ## Steps

    | Step | Command | {column} |
    |---|---|---|
    | 1 | `echo w10 >> log.txt` | {first} |
    | 2 | `echo w50 >> log.txt` | {second} |
    | 3 | `echo w100 >> log.txt` | — |
    """


@pytest.mark.parametrize(
    ("column", "first", "second", "pauses"),
    [
        ("Then", "wait 10 minutes", "wait 20 min", ["10m", "20m"]),
        ("Wartezeit", "20 Minuten", "1 Stunde", ["20m", "1h"]),
        ("Czekanie", "5 minut", "45 minut", ["5m", "45m"]),
    ],
)
def test_a_short_wait_column_is_a_timed_pause_after_its_row(
    column: str, first: str, second: str, pauses: list[str]
) -> None:
    data = _plan(_SHORT_WAIT.format(column=column, first=first, second=second))
    steps = _steps(data)
    # each row's step, then its wait, in the table's order; the last row ("—") waits for nothing
    shape = [s.get("run", s.get("pause")) for s in steps]
    assert shape == [
        "echo w10 >> log.txt",
        pauses[0],
        "echo w50 >> log.txt",
        pauses[1],
        "echo w100 >> log.txt",
    ]
    assert first in steps[1]["name"] and second in steps[3]["name"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("hold 24h", "hold 2 days, then remove the flag in code"),
        ("Odczekaj 3 dni", "odczekaj 12 godzin"),
        ("hold 30 min, product signs off on the dashboard", "hold 1 week"),
    ],
)
def test_a_hold_the_run_cannot_sleep_is_a_persons_proceed(first: str, second: str) -> None:
    """Hours and days, or a hold with a person's act in it, pause for an approval named by
    the document's words: the ramp never runs back to back."""
    data = _plan(_SHORT_WAIT.format(column="Then", first=first, second=second))
    steps = _steps(data)
    assert [s.get("pause") for s in steps] == [None, "approve", None, "approve", None]
    assert first in steps[1]["name"] and second in steps[3]["name"]


def test_a_wave_table_of_soaks_is_acknowledged_where_it_stands() -> None:
    data = _plan(
        """\
        # Push the config in waves

        ## Waves

        | Wave | Regions | Bake before the next |
        |---|---|---|
        | canary | `eu-west-1a` | 2 hours |
        | 1 | rest of eu-west-1 | overnight |
        | 2 | everything else | — |

        ```bash
        cfgctl push --region eu-west-1a
        ```
        """
    )
    steps = _steps(data)
    assert [("pause" in s, "run" in s) for s in steps] == [(True, False), (False, True)]
    said = steps[0]["name"]
    assert steps[0]["pause"] == "approve"
    assert said.index("2 hours") < said.index("overnight")  # in the table's order


def test_a_hold_holds_the_run_for_real(cli: CLI) -> None:
    """A real run: the first row runs, the run pauses at its hold (nothing after it has run),
    the operator approves, resume runs the next row after it."""
    doc = _SHORT_WAIT.format(column="Soak", first="2 days", second="3s")
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr  # paused at the 2-day hold
    assert (cli.cwd / "log.txt").read_text().split() == ["w10"]
    assert cli("approve", "last").returncode == 0
    resumed = cli("resume", "last")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["w10", "w50", "w100"]
    status = json.loads(cli("status", "last", "--json").stdout)
    assert status["run"]["status"] == "succeeded"
    items = json.dumps(status)
    assert "3s" in items  # the timed wait after row 2 is in the journal, not skipped


# -- "Halt the rollout (…) if …": a stop the document names is a pause trigger, never a rollback --


@pytest.mark.parametrize(
    ("sentence", "metric"),
    [
        (
            "Halt the rollout (Console > Release > Halt) if crash-free sessions drop below 99.5%.",
            "crash-free sessions",
        ),
        ("Freeze the deploy train (see #releases) when p99 latency is above 800 ms.", "p99"),
        ("Pause the canary wave if the error rate exceeds 1%.", "error rate"),
    ],
)
def test_a_halt_with_its_object_is_a_pause_trigger(sentence: str, metric: str) -> None:
    data = _plan(
        f"""\
        # Roll out build 9.1

        ## Rollout

        ```bash
        relctl promote --build 9.1 --fraction 0.05
        ```

        ## Halt

        {sentence} Halting stops new installs; it undoes nothing.
        """
    )
    (trigger,) = data["triggers"]
    assert trigger["action"] == "pause"  # a halt never "restores"
    assert metric in trigger["description"]
    # the promote is the forward step, never a rollback action
    steps = [s.get("run") for s in _steps(data)]
    assert steps == ["relctl promote --build 9.1 --fraction 0.05"]
    assert all(not p.get("rollback") for p in data["phases"])


def test_a_stop_to_investigate_stays_no_trigger() -> None:
    data = _plan(
        """\
        # Roll out build 9.1

        ## Rollout

        ```bash
        relctl promote --build 9.1 --fraction 0.05
        ```

        ## Halt

        Stop the rollout (Console > Halt) if replication lag is above 5 s and investigate.
        """
    )
    assert [t for t in data.get("triggers", []) if t["action"] != "alert"] == []


# -- a person's part in a way back: the rollback waits for that person ---------------------------

_WAY_BACK = """\
    # Move the billing database

    ## Switch

    ```bash
    echo switched >> log.txt
    ```

    ## Verify

    ```bash
    false
    ```

    ## Roll back

    {before}

    ```bash
    echo reverted >> log.txt
    ```

    {after}
    """


def _decision(data: dict[str, Any]) -> tuple[str, list[str], str]:
    (phase,) = [p for p in data["phases"] if "rollback_decision" in p]
    decision = phase["rollback_decision"]
    return decision["var"], decision["options"], data["vars"][decision["var"]]["description"]


def _rollback_actions(data: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (str(a.get("run")), a.get("when")) for p in data["phases"] for a in p.get("rollback", [])
    ]


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        ("Only if the totals look wrong to the billing team:", "", "billing team"),
        ("Nur in Absprache mit dem Produktverantwortlichen:", "", "Produktverantwortlichen"),
        (
            "Select the previous boot entry through the iLO console (by hand), then:",
            "",
            "iLO console",
        ),
        ("If the switch misbehaves:", "Decide with the data owner before reverting.", "data owner"),
        (
            "Si falla:",
            "**Atención:** revertir pierde escrituras. Decida con el dueño del servicio antes.",
            "dueño del servicio",
        ),
    ],
)
def test_a_persons_part_in_a_way_back_makes_the_rollback_wait_for_them(
    before: str, after: str, said: str
) -> None:
    data = _plan(_WAY_BACK.format(before=before, after=after))
    var, options, described = _decision(data)
    assert said in described  # the person asked reads the document's sentence
    # the way back runs on rollback only when that person chose it; never forward
    assert _rollback_actions(data) == [
        ("echo reverted >> log.txt", f"vars.{var} == '{options[0]}'")
    ]
    forward = [str(s.get("run")) for s in _steps(data)]
    forward += [str(g.get("command")) for p in data["phases"] for g in p.get("gates", [])]
    assert forward[0] == "echo switched >> log.txt"
    assert not any("reverted" in text for text in forward)


@pytest.mark.parametrize(
    "after",
    [
        "If the rollback itself fails with `another operation is in progress`, page #platform.",
        "Do not delete the release secrets by hand.",
    ],
)
def test_an_escalation_after_a_failed_way_back_is_no_call_before_it(after: str) -> None:
    data = _plan(_WAY_BACK.format(before="If the switch misbehaves:", after=after))
    assert all("rollback_decision" not in p for p in data["phases"])
    assert _rollback_actions(data) == [("echo reverted >> log.txt", None)]


def test_the_rollback_waits_for_the_person_for_real(cli: CLI) -> None:
    """A real run: verify fails, the rollback pauses at the person's call (the way back has not
    run), the person chooses, resume runs it and the run is rolled back."""
    doc = _WAY_BACK.format(
        before="If the switch misbehaves:", after="Decide with the data owner before reverting."
    )
    data = _plan(doc)
    _, options, _ = _decision(data)
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr
    assert "data owner" in " ".join((first.stdout + first.stderr).split())
    assert (cli.cwd / "log.txt").read_text().split() == ["switched"]
    (phase,) = [p["id"] for p in data["phases"] if "rollback_decision" in p]
    approved = cli("approve", "last", f"rollback:{phase}/decide", "--choose", options[0])
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # failed, rolled back
    assert (cli.cwd / "log.txt").read_text().split() == ["switched", "reverted"]
    status = json.loads(cli("status", "last", "--json").stdout)
    assert status["run"]["status"] == "rolled_back"


# -- "| If | Then run |" under a rollback: cases of one way back, not every row -------------------

_CASE_TABLE = """\
    # Release the orders service

    ## Deploy

    ```bash
    echo deployed >> log.txt
    ```

    ## Verify

    ```bash
    false
    ```

    ## Rollback

    | {if_col} | {then_col} |
    |---|---|
    | {first} | `echo restored-db >> log.txt` |
    | {second} | `echo reverted-app >> log.txt` |
    """


@pytest.mark.parametrize(
    ("if_col", "then_col", "first", "second"),
    [
        ("If", "Then run", "the schema migration already ran", "only the application was deployed"),
        ("Wenn", "Befehl", "die Migration schon lief", "sonst"),
    ],
)
def test_rows_of_a_rollback_table_that_state_cases_are_one_way_back(
    if_col: str, then_col: str, first: str, second: str
) -> None:
    data = _plan(_CASE_TABLE.format(if_col=if_col, then_col=then_col, first=first, second=second))
    var, options, described = _decision(data)
    assert len(options) == 2 and first in described and second in described
    assert _rollback_actions(data) == [
        ("echo restored-db >> log.txt", f"vars.{var} == '{options[0]}'"),
        ("echo reverted-app >> log.txt", f"vars.{var} == '{options[1]}'"),
    ]


def test_rows_that_each_name_a_failure_stay_the_rollbacks_actions() -> None:
    data = _plan(
        _CASE_TABLE.format(
            if_col="If",
            then_col="Then run",
            first="uploads fail with `AccessDenied`",
            second="logins fail with `401`",
        )
    )
    assert all("rollback_decision" not in p for p in data["phases"])
    assert _rollback_actions(data) == [
        ("echo restored-db >> log.txt", None),
        ("echo reverted-app >> log.txt", None),
    ]


def test_only_the_chosen_row_runs_for_real(cli: CLI) -> None:
    doc = _CASE_TABLE.format(
        if_col="If",
        then_col="Then run",
        first="the schema migration already ran",
        second="only the application was deployed",
    )
    _, options, _ = _decision(_plan(doc))
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr  # paused: which case is it?
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed"]
    approved = cli("approve", "last", "--choose", options[1])
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", "last")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed", "reverted-app"]


# -- a cluster of short flags carries the command flag: `psql -Atc "…"` runs a query ------------


@pytest.mark.parametrize(
    ("command", "interactive"),
    [
        ('psql -h db-2 -U monitor -d postgres -Atc "select 1"', False),
        ('mysql -h db-2 -Ne "SELECT COUNT(*) FROM jobs"', False),
        ("psql -hlocalhost -U monitor", True),  # `-h` with its value: no command given
        ("mysql -h db-2 -N", True),
    ],
)
def test_a_flag_cluster_ending_in_the_command_flag_is_no_interactive_shell(
    command: str, interactive: bool
) -> None:
    data = _plan(
        f"""\
        # Pre-checks

        ## Checks

        ```bash
        {command}
        ```
        """
    )
    runs = [str(s.get("run")) for s in _steps(data)]
    runs += [str(g.get("command")) for p in data["phases"] for g in p.get("gates", [])]
    assert (command in runs) is not interactive
    manual = [str(s.get("name")) for s in _steps(data) if s.get("pause") == "approve"]
    manual += [str(g.get("manual")) for p in data["phases"] for g in p.get("gates", [])]
    assert any("interactive" in m for m in manual) is interactive


@pytest.mark.parametrize(
    "lead",
    [
        "Replication lag of `db-2` must be 0 MB. Check it with:",
        "Die Anzahl hängender Jobs muss 0 sein. Prüfen mit:",
    ],
)
def test_a_value_the_lead_in_states_is_what_the_check_expects(lead: str) -> None:
    data = _plan(
        f"""\
        # Pre-checks

        ## Checks

        {lead}

        ```bash
        psql -h db-2 -Atc "select 0"
        ```
        """
    )
    (gate,) = [g for p in data["phases"] for g in p.get("gates", [])]

    pattern = gate["expect"]["stdout_regex"]
    assert re.search(pattern, "0\n") and re.search(pattern, "0.0")
    assert not re.search(pattern, "10\n") and not re.search(pattern, "512")


@pytest.mark.parametrize(("printed", "code"), [("0", 0), ("7", 1)])
def test_a_stated_value_decides_the_run_for_real(cli: CLI, printed: str, code: int) -> None:
    """A real run: the check passes only when the command prints the value the lead-in states;
    a lag of 7 fails the run before the switch (which never runs)."""
    doc = f"""\
        # Switch over

        ## Pre-checks

        The queue depth must be 0. Check it with:

        ```bash
        echo {printed}
        ```

        ## Switch

        ```bash
        echo switched >> log.txt
        ```
        """
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    ran = cli("run", "plan.yaml")
    assert ran.returncode == code, ran.stdout + ran.stderr
    switched = (cli.cwd / "log.txt").exists()
    assert switched is (code == 0)


# -- "If the test succeeds, confirm:": the check before it guards the path, no choice ------------

_PASSED = """\
    # Change the firewall rules

    ## Change

    1. Load the rules:
       ```bash
       echo loaded >> log.txt
       ```
    2. Test from the gateway:
       ```bash
       {test}
       ```
    3. {lead}
       ```bash
       echo confirmed >> log.txt
       ```
    """


def _forward_order(data: dict[str, Any]) -> list[str]:
    out = []
    for phase in data["phases"]:
        for step in phase.get("steps", []):
            out += [str(g.get("command")) for g in step.get("pre_gates", [])]
            if "run" in step and "when" not in step:
                out.append(str(step["run"]))
        out += [str(g.get("command")) for g in phase.get("gates", []) if "command" in g]
    return out


@pytest.mark.parametrize(
    "lead",
    [
        "If the test succeeds, confirm the change within 10 minutes:",
        "Wenn die Prüfung erfolgreich war, innerhalb von 10 Minuten bestätigen:",
        "Si la prueba pasa, confirmar:",
    ],
)
def test_a_step_after_the_test_it_names_stays_on_the_path(lead: str) -> None:
    data = _plan(_PASSED.format(test="test -e log.txt", lead=lead))
    order = _forward_order(data)
    assert "echo confirmed >> log.txt" in order  # unconditional: no decision asked
    assert order.index("test -e log.txt") < order.index("echo confirmed >> log.txt")
    assert not any("pause" in s and "choose" in str(s["pause"]) for s in _steps(data))


def test_another_condition_stays_a_persons_choice() -> None:
    data = _plan(
        _PASSED.format(test="test -e log.txt", lead="If the load test in staging passes, confirm:")
    )
    assert "echo confirmed >> log.txt" not in _forward_order(data)


@pytest.mark.parametrize(
    ("test", "ran"), [("true", ["loaded", "confirmed"]), ("false", ["loaded"])]
)
def test_the_confirmation_runs_only_after_the_test_passed_for_real(
    cli: CLI, test: str, ran: list[str]
) -> None:
    doc = _PASSED.format(test=test, lead="If the test succeeds, confirm the change:")
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    run = cli("run", "plan.yaml")
    assert run.returncode == (0 if test == "true" else 1), run.stdout + run.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ran


# -- "C.3 Go/no-go by the migration lead …": a numbered prose step is a person's, in place -------

_CODED = """\
    # Move invoicing

    ## Phase C: switch traffic

    C.1 Scale up the new API:

    ```bash
    echo scaled >> log.txt
    ```

    {step}

    C.4 Switch DNS:

    ```bash
    echo dns >> log.txt
    ```
    """


@pytest.mark.parametrize(
    "step",
    [
        "C.3 **Go/no-go** by the migration lead, with the app owner, in the bridge call.",
        "Schritt 3: Freigabe durch den Change Manager im Bridge-Call.",
        "2.3 Wait until the replication lag is 0 for 5 minutes; watch it on the console.",
    ],
)
def test_a_numbered_prose_step_is_a_persons_step_in_its_place(step: str) -> None:
    steps = _steps(_plan(_CODED.format(step=step)))
    assert [s.get("run") or s.get("pause") for s in steps] == [
        "echo scaled >> log.txt",
        "approve",
        "echo dns >> log.txt",
    ]
    assert step.replace("**", "")[:30] in steps[1]["name"]


def test_a_numbered_lead_in_introduces_its_fence_and_asks_nothing() -> None:
    steps = _steps(
        _plan(
            _CODED.format(
                step="C.3 Compare the row counts:\n\n    ```bash\n"
                "    echo counted >> log.txt\n    ```"
            )
        )
    )
    assert [s.get("run") for s in steps] == [
        "echo scaled >> log.txt",
        "echo counted >> log.txt",
        "echo dns >> log.txt",
    ]


def test_the_run_waits_for_the_go_no_go_before_dns_for_real(cli: CLI) -> None:
    doc = _CODED.format(step="C.3 **Go/no-go** by the migration lead in the bridge call.")
    (cli.cwd / "doc.md").write_text(textwrap.dedent(doc), encoding="utf-8")
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["scaled"]  # DNS waits for the go
    assert cli("approve", "last").returncode == 0
    resumed = cli("resume", "last")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["scaled", "dns"]


# -- "- Write down the time to detect …": a person's record of the run, asked in its place -------

_RECORDS = """\
    # Game day

    ## Inject

    ```bash
    echo injected >> log.txt
    ```

    ## After

    - {item}
    - Confirm the pods are back:

    ```bash
    echo checked >> log.txt
    ```
    """


@pytest.mark.parametrize(
    "item",
    [
        "Write down the time to detect and the time to recover.",
        "Notieren Sie die Zeit bis zur Erkennung und bis zur Wiederherstellung.",
        "Anote o tempo até detectar e o tempo até recuperar.",
    ],
)
def test_a_record_keeping_item_is_a_persons_step_in_its_place(item: str) -> None:
    steps = _steps(_plan(_RECORDS.format(item=item)))
    assert [s.get("run") or s.get("pause") for s in steps] == [
        "echo injected >> log.txt",
        "approve",
        "echo checked >> log.txt",
    ]
    assert item[:25] in steps[1]["name"]


def test_a_description_item_asks_nobody() -> None:
    steps = _steps(_plan(_RECORDS.format(item="The recorded times feed the quarterly review.")))
    assert all("pause" not in s for s in steps)


# -- "## On each host": the run does the steps once; a person does the other hosts ----------------

_EACH = """\
    # Roll the config out

    ## {heading}

    ```bash
    echo pulled >> log.txt
    ```

    ## Afterwards

    ```bash
    echo counted >> log.txt
    ```
    """


@pytest.mark.parametrize(
    "heading", ["On each host", "Auf jedem Knoten", "En cada servidor", "For every broker"]
)
def test_a_section_done_on_each_host_asks_for_the_other_hosts(heading: str) -> None:
    data = _plan(_EACH.format(heading=heading))
    first, second = data["phases"]
    assert [s.get("run") or s.get("pause") for s in first["steps"]] == [
        "echo pulled >> log.txt",
        "approve",
    ]
    assert heading in first["steps"][1]["name"]
    assert all("pause" not in s for s in second["steps"])


def test_a_section_not_about_hosts_asks_nothing() -> None:
    data = _plan(_EACH.format(heading="On the bastion"))
    assert all("pause" not in s for p in data["phases"] for s in p["steps"])


def test_the_run_waits_for_the_other_hosts_for_real(cli: CLI) -> None:
    (cli.cwd / "doc.md").write_text(
        textwrap.dedent(_EACH.format(heading="On each host")), encoding="utf-8"
    )
    assert cli("import", "doc.md", "-o", "plan.yaml").returncode == 0
    first = cli("run", "plan.yaml")
    assert first.returncode == 4, first.stdout + first.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["pulled"]  # once, here
    assert cli("approve", "last").returncode == 0
    resumed = cli("resume", "last")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (cli.cwd / "log.txt").read_text().split() == ["pulled", "counted"]
