"""Plan variables: resolution order, environment sources, cycles, secrets, escapes, and the
promise that a value never becomes shell syntax."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from phasegate.errors import PlanError
from phasegate.plan.loader import LoadedPlan, load_plan_text
from phasegate.plan.model import Plan, VarSpec
from phasegate.plan.variables import VariableError, resolve
from phasegate.substitution import references, shell_locals, substitute, unescape_shell
from tests.conftest import CLI, write_plan

BUILTINS = {"RUN_ID": "r1", "RUN_DIR": "/state/runs/r1", "PLAN_DIR": "/plans"}


def plan_with(vars_yaml: str, run: str = "echo hi") -> Plan:
    text = dedent(
        """\
        version: 1
        name: vars
        vars:
        {vars}
        phases:
          - id: p
            steps:
              - run: {run}
        """
    ).format(
        vars="\n".join("  " + line for line in dedent(vars_yaml).strip().splitlines()), run=run
    )
    loaded: LoadedPlan = load_plan_text(text, Path("vars.yaml"))
    return loaded.plan


# --- resolution order -------------------------------------------------------------------


def test_literal_values_and_references() -> None:
    plan = plan_with(
        """
        TARGET: /srv/www
        BACKUP: ${RUN_DIR}/backup
        BOTH: ${TARGET}+${BACKUP}
        NUMBER: 3
        FLAG: true
        """
    )
    values = resolve(plan, {}, BUILTINS, environ={}).values
    assert values["TARGET"] == "/srv/www"
    assert values["BACKUP"] == "/state/runs/r1/backup"
    assert values["BOTH"] == "/srv/www+/state/runs/r1/backup"
    assert values["NUMBER"] == "3"
    assert values["FLAG"] == "true"
    assert values["RUN_ID"] == "r1"


def test_override_beats_environment_beats_default() -> None:
    plan = plan_with(
        """
        TARGET: /srv/www
        REGION: {env: PG_TEST_REGION, default: eu-west-1}
        """
    )
    assert resolve(plan, {}, BUILTINS, environ={}).values["REGION"] == "eu-west-1"
    from_env = resolve(plan, {}, BUILTINS, environ={"PG_TEST_REGION": "us-east-2"})
    assert from_env.values["REGION"] == "us-east-2"
    overridden = resolve(
        plan, {"REGION": "ap-south-1", "TARGET": "/tmp/t"}, BUILTINS,
        environ={"PG_TEST_REGION": "us-east-2"},
    )  # fmt: skip
    assert overridden.values["REGION"] == "ap-south-1"
    assert overridden.values["TARGET"] == "/tmp/t"


def test_override_reaches_variables_that_refer_to_it() -> None:
    plan = plan_with(
        """
        TARGET: /srv/www
        BACKUP: ${TARGET}.bak
        """
    )
    assert resolve(plan, {"TARGET": "/tmp/x"}, BUILTINS, environ={}).values["BACKUP"] == (
        "/tmp/x.bak"
    )


def test_values_from_outside_the_plan_are_not_expanded_again() -> None:
    plan = plan_with(
        """
        TOKEN: {env: PG_TEST_TOKEN}
        NAME: plain
        """
    )
    values = resolve(
        plan, {"NAME": "${TOKEN}-$${X}"}, BUILTINS, environ={"PG_TEST_TOKEN": "p${NAME}w"}
    ).values
    assert values["TOKEN"] == "p${NAME}w"
    assert values["NAME"] == "${TOKEN}-$${X}"


def test_override_of_an_undeclared_variable_suggests_the_declared_one() -> None:
    plan = plan_with("TARGET: /srv/www")
    with pytest.raises(VariableError) as caught:
        resolve(plan, {"TARGT": "x"}, BUILTINS, environ={})
    assert "--var TARGT" in str(caught.value)
    assert caught.value.hint == "did you mean 'TARGET'?"


# --- the environment ----------------------------------------------------------------------


def test_missing_environment_variable_without_default() -> None:
    plan = plan_with("TOKEN: {env: PG_TEST_SURELY_UNSET, secret: true}")
    with pytest.raises(VariableError) as caught:
        resolve(plan, {}, BUILTINS, environ={})
    assert caught.value.name == "TOKEN"
    assert "PG_TEST_SURELY_UNSET is not set" in str(caught.value)
    assert caught.value.hint is not None
    assert "--var TOKEN=" in caught.value.hint
    # `validate` checks a plan without the deployment's environment: unset is empty there.
    assert resolve(plan, {}, BUILTINS, environ={}, allow_unset_env=True).values["TOKEN"] == ""
    # An override stands in for the environment.
    assert resolve(plan, {"TOKEN": "t0k"}, BUILTINS, environ={}).values["TOKEN"] == "t0k"


def test_missing_environment_variable_through_the_cli(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: needs-env
        vars:
          TOKEN: {env: PG_TEST_SURELY_UNSET}
        phases:
          - id: p
            steps:
              - run: touch RAN
        """,
    )
    assert cli("validate", str(plan)).returncode == 0
    result = cli("run", str(plan))
    assert result.returncode == 2, result.stderr
    assert "PG_TEST_SURELY_UNSET is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.cwd / "RAN").exists()


# --- cycles ---------------------------------------------------------------------------------


def test_cycle_is_a_plan_error_with_the_cycle_spelled_out() -> None:
    with pytest.raises(PlanError) as caught:
        plan_with(
            """
            A: ${B}/a
            B: ${C}/b
            C: ${A}/c
            """
        )
    (problem,) = caught.value.problems
    assert "${A} -> ${B} -> ${C} -> ${A}" in problem.message
    assert problem.line == 4 and problem.field == "vars.A"


def test_cycle_through_a_default_is_found_too() -> None:
    with pytest.raises(PlanError, match=r"\$\{A\} -> \$\{B\} -> \$\{A\}"):
        plan_with(
            """
            A: {env: PG_TEST_UNSET_A, default: "${B}"}
            B: ${A}
            """
        )


def test_resolve_refuses_a_cycle_in_an_unvalidated_plan() -> None:
    # resolve() is also an API: a Plan built without the loader still cannot loop.
    plan = Plan.model_validate(
        {
            "version": 1,
            "name": "raw",
            "vars": {"A": "${B}", "B": "${A}"},
            "phases": [{"id": "p", "steps": [{"run": "true"}]}],
        }
    )
    with pytest.raises(VariableError, match="cycle: A -> B -> A"):
        resolve(plan, {}, BUILTINS, environ={})


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(PlanError, match=r"\$\{A\} -> \$\{A\}"):
        plan_with("A: ${A}x")


# --- secrets --------------------------------------------------------------------------------


def test_secrets_propagate_to_variables_that_contain_them() -> None:
    plan = plan_with(
        """
        TOKEN: {env: PG_TEST_TOKEN, secret: true}
        SHORT: {value: ab, secret: true}
        HEADER: Bearer ${TOKEN}
        NESTED: curl -H '${HEADER}'
        USES_SHORT: x${SHORT}y
        PASTED: {env: PG_TEST_PASTED}
        PUBLIC: /srv/www
        """
    )
    variables = resolve(
        plan,
        {},
        BUILTINS,
        environ={"PG_TEST_TOKEN": "s3cr3t-value", "PG_TEST_PASTED": "token=s3cr3t-value"},
    )
    assert variables.secrets == {"TOKEN", "SHORT", "HEADER", "NESTED", "USES_SHORT", "PASTED"}
    assert set(variables.secret_values()) >= {"s3cr3t-value", "Bearer s3cr3t-value"}
    masked = variables.masked()
    assert masked["HEADER"] == "***" and masked["PUBLIC"] == "/srv/www"


def test_a_secret_stays_secret_when_overridden() -> None:
    plan = plan_with("TOKEN: {env: PG_TEST_TOKEN, secret: true}")
    variables = resolve(plan, {"TOKEN": "from-cli"}, BUILTINS, environ={})
    assert variables.secrets == {"TOKEN"}
    assert variables.secret_values() == ["from-cli"]


# --- escapes and substitution -----------------------------------------------------------


def test_double_dollar_writes_a_literal_reference() -> None:
    plan = plan_with(
        """
        HOME_REF: $${HOME}
        USES_IT: "[${HOME_REF}]"
        """,
        run="echo $${NOT_A_PLAN_VAR}",
    )
    values = resolve(plan, {}, BUILTINS, environ={}).values
    assert values["HOME_REF"] == "${HOME}"
    assert values["USES_IT"] == "[${HOME}]"  # inserted verbatim, not expanded a second time
    assert substitute("a $${X} ${Y} ${Z}", {"Y": "y"}) == "a ${X} y ${Z}"
    assert unescape_shell('echo "$${X}" ${Y}') == 'echo "${X}" ${Y}'
    assert references("$${A} ${B} ${C_1} ${9x} $D") == ["B", "C_1"]


def test_an_escaped_reference_is_not_an_undefined_variable() -> None:
    plan_with("A: x", run="echo $${UNDECLARED}")
    with pytest.raises(PlanError, match=r"undefined variable \$\{UNDECLARED\}"):
        plan_with("A: x", run="echo ${UNDECLARED}")


@pytest.mark.parametrize(
    ("script", "names"),
    [
        ("X=1; echo ${X}", {"X"}),
        ("export PATH_EXTRA=/opt/bin && echo ${PATH_EXTRA}", {"PATH_EXTRA"}),
        ("for f in *.txt; do echo ${f}; done", {"f"}),
        ("read -r first second < file; echo ${first}", {"first", "second"}),
        ("f() { local tmp=1; echo ${tmp}; }", {"tmp"}),
        ("declare -a ARR=(1 2); ARR[2]=3; N+=1", {"ARR", "N"}),
        ("(SUB=1; echo ${SUB})", {"SUB"}),
        ('echo ${X}; test "$a" = "${b}"', set()),
        ("curl --data=x https://h/?q=1", set()),
    ],
)
def test_shell_locals(script: str, names: set[str]) -> None:
    assert shell_locals(script) == names


def test_a_script_may_reference_its_own_variables() -> None:
    plan_with("A: x", run='"for f in a b; do echo ${f}; done"')
    with pytest.raises(PlanError, match=r"undefined variable \$\{f\}"):
        # ...but not in an argv list, which no shell reads.
        plan_with("A: x", run='[echo, "${f}"]')


def test_var_spec_shapes() -> None:
    plan = plan_with(
        """
        A: {value: literal, secret: true}
        B: {env: PG_TEST_B, default: 5}
        """
    )
    assert isinstance(plan.vars["A"], VarSpec) and plan.vars["A"].secret
    assert resolve(plan, {}, BUILTINS, environ={}).values == {
        **BUILTINS,
        "A": "literal",
        "B": "5",
    }


# --- injection through a real run --------------------------------------------------------

PAYLOADS = [
    "x; touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "x && touch PWNED || touch PWNED",
    "x\ntouch PWNED",
    "'; touch PWNED; echo '",
    '"; touch PWNED; echo "',
    "${IFS}touch${IFS}PWNED",
]


def _injection_plan(payloads: dict[str, str]) -> str:
    """One plan, every payload: each reaches run strings, argv lists, undo and gates."""
    lines = ["version: 1", "name: injection", "vars:"]
    for name, literal in payloads.items():
        lines.append(f"  {name}: {{env: PG_TEST_{name}, default: {literal}}}")
        lines.append(f'  {name}_DERIVED: "prefix-${{{name}}}"')
    lines += ["phases:", "  - id: p", "    steps:"]
    for name in payloads:
        lines += [
            f"      - run: echo ${{{name}}} >> seen.txt",
            f'      - run: echo "${{{name}}}" "${{{name}_DERIVED}}" >> seen.txt',
            f'      - run: [sh, -c, \'printf "%s\\n" "$1" >> seen.txt\', sh, "${{{name}}}"]',
            f"        undo: echo ${{{name}}}",
        ]
    lines.append("    gates:")
    for name in payloads:
        lines += [
            f'      - command: test -n "${{{name}}}" && echo ${{{name}_DERIVED}}',
            f'      - command: [test, -n, "${{{name}}}"]',
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("how", ["plan", "--var", "env"])
def test_values_never_become_shell_syntax(cli: CLI, how: str) -> None:
    names = {f"P{i}": payload for i, payload in enumerate(PAYLOADS)}
    if how == "plan":
        # Written into the plan, `${` must be escaped as `$${` or the plan is invalid.
        defaults = {n: json.dumps(p.replace("${", "$${")) for n, p in names.items()}
    else:
        defaults = dict.fromkeys(names, "harmless")
    plan = cli.cwd / "plan.yaml"
    plan.write_text(_injection_plan(defaults), encoding="utf-8")
    args = ["run", str(plan)]
    env: dict[str, str] = {}
    if how == "--var":
        for name, payload in names.items():
            args += ["--var", f"{name}={payload}"]
    elif how == "env":
        env = {f"PG_TEST_{name}": payload for name, payload in names.items()}
    result = cli(*args, env=env)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert not (cli.cwd / "PWNED").exists()
    seen = (cli.cwd / "seen.txt").read_text(encoding="utf-8")
    for payload in PAYLOADS:
        first_line = payload.splitlines()[0]
        assert first_line in seen and f"prefix-{first_line}" in seen, (payload, seen)
    rollback = cli("rollback", "last")  # the undo commands see the payloads too
    assert rollback.returncode == 0, rollback.stderr
    assert not (cli.cwd / "PWNED").exists()
