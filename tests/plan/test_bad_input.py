"""The bad-input catalogue: every malformed plan exits 2 with a located, hinted message.

Each case in ``bad_plans/`` is one mistake. The real CLI runs in a subprocess, exactly as a
user meets it, and the table below pins the line of the offending node, what the message
says and the fix hint. Files that should not live in git (binary, 50 MB, control
characters, absurd nesting) are generated in ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import cli_forks

HERE = Path(__file__).parent
BAD = HERE / "bad_plans"
GOOD = HERE / "good_plans"


@dataclass(frozen=True)
class Case:
    name: str
    line: int | None  # None: the problem is the file as a whole (empty, binary, too large)
    says: str  # a fragment of the message
    hint: str | None = None  # a fragment of the hint, where one applies
    field: str | None = None  # the field path, where the message names one


CASES = [
    # `run: []` raised TypeError in the engine at spawn time, leaving the run stuck
    Case("run_empty_argv", 6, "an argv list needs at least the program to run"),
    # YAML syntax
    Case("yaml_bad_indentation", 7, "did not find expected key", "indentation"),
    Case("yaml_unclosed_quote", 6, "closing quote missing", "close the string"),
    Case("yaml_tab_indentation", 6, "tab character", "spaces"),
    Case("yaml_unclosed_bracket", 5, "the [ opened here is not closed", "']'"),
    Case("yaml_unclosed_brace", 3, "the { opened here is not closed", "'}'"),
    Case("yaml_mapping_value_in_value", 6, "a ': ' inside a value", "quote a value"),
    Case("multiple_documents", 7, "more than one YAML document", "remove this `---`"),
    Case("duplicate_mapping_key", 8, "duplicate key 'timeout'", "remove or rename one"),
    Case("python_tag", 6, "unsupported YAML tag !!python/object/apply", "remove the tag"),
    Case("alias_bomb", 11, "alias bomb", "remove the aliases", field="i"),
    Case("recursive_alias", 4, "contains the alias itself", "cannot be recursive"),
    Case("non_utf8", 3, "not UTF-8 text (byte 0xe9)", "save the plan as UTF-8"),
    # the document as a whole
    Case("empty", None, "the plan is empty", "version: 1"),
    Case("whitespace_only", None, "the plan is empty", "version: 1"),
    Case("list_not_mapping", 1, "must be a YAML mapping, this document is a list", "version: 1"),
    Case("version_2", 1, "unsupported plan version 2", "version: 1", field="version"),
    Case("missing_version", 1, "missing required key 'version'", "add `version: 1`"),
    Case("missing_name", 1, "missing required key 'name'", "name: web-release", field="name"),
    Case("no_phases", 1, "missing required key 'phases'", "add `phases:`", field="phases"),
    Case("phases_empty", 3, "the plan has no phases", "at least one phase", field="phases"),
    Case("phases_mapping", 4, "expected a list, got a mapping", "`- `", field="phases"),
    Case("needs_not_list", 8, "expected a list, got 'setup'", "write it as a list: [setup]"),
    # wrong types and values
    Case("wrong_type_retries", 7, "expected a whole number, got 'three'",
         field="phases[0].steps[0].retries"),
    Case("wrong_type_name_list", 2, "expected a string, got a list", field="name"),
    Case("env_value_number", 8, "expected a string, got 8080", 'quote it to make it text: "8080"'),
    Case("run_wrong_type", 7, "expected a string or a list, got a mapping"),
    Case("step_missing_run", 6, "missing `run`: a step runs a command", None,
         field="phases[0].steps[0]"),
    Case("trigger_missing_check", 4, "missing required key 'check'", "add `check: …`"),
    Case("bad_on_failure", 3, "must be 'rollback', 'pause' or 'abort', got 'rollbak'",
         "did you mean 'rollback'?"),
    Case("bad_phase_id", 4, "'build it' is not a valid id", "'build-it'"),
    Case("retry_attempts_zero", 9, "must be at least 1, got 0",
         field="phases[0].gates[0].retry.attempts"),
    Case("var_both_value_and_env", 4, "give either value or env, not both", field="vars.TOKEN"),
    # canary steps, analyses and routers
    Case("canary_unknown_analysis", 9, "no analysis named 'erors'", "did you mean 'errors'?",
         field="phases[0].analysis"),
    Case("canary_step_analysis_without_count", 11, "an `analysis` step needs `count`",
         "add `count: 5`", field="phases[0].steps[1].analysis"),
    Case("canary_bad_cel", 9, "invalid CEL expression 'value >> 0.01'",
         field="analyses.errors.metrics[0].failure"),
    Case("canary_two_actions", 8, "a step does one thing; this one has `set_weight`, `pause`",
         field="phases[0].steps[0]"),
    Case("canary_bake_on_run", 6, "`bake` holds new weights", field="phases[0].steps[0]"),
    Case("canary_unknown_router_key", 9, "unknown key 'reload_comand'", "upstream_file",
         field="traffic.router.nginx.reload_comand"),
    # unknown keys, with did-you-mean
    Case("unknown_key_top", 3, "unknown key 'descripton'", "did you mean 'description'?"),
    Case("unknown_key_phase", 8, "unknown key 'neds'", "did you mean 'needs'?",
         field="phases[1].neds"),
    Case("unknown_key_step", 7, "unknown key 'timout'", "did you mean 'timeout'?",
         field="phases[0].steps[0].timout"),
    Case("unknown_key_defaults", 4, "unknown key 'timout'", "did you mean 'timeout'?"),
    Case("undo_unknown_key", 9, "unknown key 'timeot'", "did you mean 'timeout'?"),
    Case("unknown_key_check", 9, "unknown key 'expct'", "did you mean 'expect'?"),
    Case("unknown_key_expect", 10, "unknown key 'stdout_contain'",
         "did you mean 'stdout_contains'?"),
    Case("unknown_key_trigger", 7, "unknown key 'fail_afer'", "did you mean 'fail_after'?"),
    Case("unknown_key_var_spec", 4, "unknown key 'secrt'", "did you mean 'secret'?"),
    # checks
    Case("unknown_check_kind", 8, "unknown check kind 'comand'", "did you mean 'command'?"),
    Case("check_two_kinds", 9, "exactly one kind, this one names 2: command, expr",
         "split it"),
    Case("check_not_mapping", 8, "a check must be a mapping", "- command:"),
    Case("invalid_regex", 10, "invalid regex", field="phases[0].gates[0].expect.stdout_regex"),
    Case("invalid_comparison_operator_mixed", 10, "unknown operator '=<'"),
    Case("invalid_cel_when", 7, "invalid CEL expression", "CEL syntax",
         field="phases[0].steps[0].when"),
    Case("invalid_cel_expr_check", 8, "invalid CEL expression", "CEL syntax"),
    # ids and the dependency graph
    Case("cycle", 5, "in a cycle: a -> b -> c -> a", "so the phases form a DAG"),
    Case("self_need", 8, "phase 'deploy' needs itself", "remove it",
         field="phases[1].needs[1]"),
    Case("duplicate_phase_id", 7, "duplicate phase id 'build'", "rename one",
         field="phases[1].id"),
    Case("duplicate_step_id", 8, "duplicate step id 'compile'", "rename one",
         field="phases[0].steps[1].id"),
    Case("duplicate_check_id", 14, "duplicate check id 'smoke'", "make them unique",
         field="phases[1].gates[0].id"),
    Case("duplicate_trigger_name", 6, "duplicate trigger name 'health'", "rename one"),
    Case("missing_needs_target", 8, "needs unknown phase 'bakup'", "did you mean 'backup'?"),
    Case("trigger_during_unknown_phase", 6, "during unknown phase 'deplyo'",
         "did you mean 'deploy'?", field="triggers[0].during[0]"),
    # variables
    Case("undefined_var_argv", 8, "undefined variable ${TARGT}", "did you mean ${TARGET}?",
         field="phases[0].steps[0].run[3]"),
    Case("undefined_var_check", 11, "undefined variable ${RELEASE}", "declare it under `vars:`",
         field="phases[0].gates[0].cwd"),
    Case("bad_var_name", 5, "variable name 'RELEASE-TAG' is not a valid identifier",
         "letters, digits and _"),
    Case("var_cycle", 4, "in a cycle: ${A} -> ${B} -> ${A}", "plain value"),
    # durations
    Case("duration_words", 4, "invalid duration '5 minutes'", "did you mean '5m'?"),
    Case("duration_negative", 7, "must not be negative", "500ms, 30s, 5m"),
    Case("duration_abc", 6, "invalid duration 'abc'", "500ms, 30s, 5m",
         field="triggers[0].every"),
]  # fmt: skip

GAP_CASES = [Case("invalid_comparison_operator", 10, "unknown operator '=>'")]


def phasegate(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env["NO_COLOR"] = "1"
    return cli_forks.phasegate([*map(str, args)], cwd=cwd, env=env)


def assert_refused(result: subprocess.CompletedProcess[str], path: Path, case: Case) -> None:
    err = result.stderr
    assert result.returncode == 2, f"exit {result.returncode}\n{err}\n{result.stdout}"
    assert "Traceback" not in err and "internal error" not in err, err
    assert case.says in err, err
    if case.line is None:
        assert f"{path}: " in err, err
        assert not re.search(rf"{re.escape(str(path))}:\d", err), err
    else:
        lines = re.findall(rf"{re.escape(str(path))}:(\d+):(\d+): ", err)
        assert lines, f"no {path}:line:col in\n{err}"
        assert int(lines[0][0]) == case.line, f"expected line {case.line}\n{err}"
    if case.field is not None:
        assert f": {case.field}: " in err, err
    if case.hint is not None:
        hints = [line for line in err.splitlines() if line.strip().startswith("hint:")]
        assert any(case.hint in h for h in hints), err


def test_catalogue_is_complete() -> None:
    files = {p.stem for p in BAD.glob("*.yaml")}
    named = {c.name for c in CASES + GAP_CASES}
    assert files == named, f"files without a case: {files - named}; cases without a file: " + (
        f"{named - files}"
    )
    assert len(files) >= 30


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name) for c in CASES] + [pytest.param(c, id=c.name) for c in GAP_CASES],
)
def test_validate_refuses(case: Case, tmp_path: Path) -> None:
    path = BAD / f"{case.name}.yaml"
    assert_refused(phasegate("validate", path, cwd=tmp_path), path, case)


@pytest.mark.parametrize(
    "name", ["cycle", "unknown_key_step", "yaml_unclosed_quote", "undefined_var_argv", "empty"]
)
def test_validate_json_locates(name: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == name)
    path = BAD / f"{name}.yaml"
    result = phasegate("validate", "--json", path, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] is False
    first = report["problems"][0]
    assert first["file"] == str(path)
    assert first["line"] == case.line
    assert case.says in first["message"]
    for problem in report["problems"]:
        assert problem["message"] and problem["file"]


def _generated(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    if name == "binary":
        path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)
    elif name == "too_large":
        with path.open("w", encoding="utf-8") as out:
            out.write("version: 1\nname: big\n")
            chunk = "# " + "x" * 1021 + "\n"
            for _ in range(50 * 1024):
                out.write(chunk)
        assert path.stat().st_size > 50 * 1024 * 1024
    elif name == "control_character":
        path.write_text("version: 1\nname: demo\nphases:\n  - id: a\x07b\n", encoding="utf-8")
    elif name == "deep_nesting":
        path.write_text("version: 1\nname: demo\nmetadata: " + "[" * 300 + "]" * 300 + "\n")
    elif name in ("huge_expression", "deep_expression"):
        # Both crashed the native CEL parser with signal 11 before expressions were bounded.
        when = "1+" * 30000 + "1" if name == "huge_expression" else "(" * 200 + "1" + ")" * 200
        path.write_text(
            "version: 1\nname: demo\nphases:\n  - id: a\n    steps:\n"
            f"      - run: 'true'\n        when: '{when} == 2'\n",
            encoding="utf-8",
        )
    else:
        raise AssertionError(name)
    return path


GENERATED = [
    Case("binary", None, "the file is binary, not a YAML plan", "pass the plan's .yaml file"),
    Case("too_large", None, "a plan may be at most 10 MB", "Keep data out of the plan"),
    Case("control_character", 4, "control character (U+0007)", "remove it"),
    Case("deep_nesting", 3, "nested more than 100 levels deep", "flatten"),
    Case("huge_expression", 7, "over the limit of 4096", "split the condition"),
    Case("deep_expression", 7, "nests 200 levels deep", "flatten the parentheses"),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in GENERATED])
def test_validate_refuses_generated(case: Case, tmp_path: Path) -> None:
    path = _generated(tmp_path, case.name)
    assert_refused(phasegate("validate", path, cwd=tmp_path), path, case)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = phasegate("validate", path, cwd=tmp_path)
    assert_refused(result, path, Case("nope", None, "no such file", "check the path"))


def test_undeclared_var_override(tmp_path: Path) -> None:
    path = GOOD / "vars.yaml"
    result = phasegate("validate", "--var", "TARGT=./elsewhere", path, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--var TARGT: the plan declares no variable 'TARGT'" in result.stderr
    assert "did you mean 'TARGET'?" in result.stderr
    assert "Traceback" not in result.stderr
    ok = phasegate("validate", "--var", "TARGET=./elsewhere", path, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize(
    "name", ["cycle", "unknown_key_step", "yaml_tab_indentation", "alias_bomb", "empty"]
)
def test_run_refuses_before_anything_runs(name: str, tmp_path: Path) -> None:
    path = BAD / f"{name}.yaml"
    state = tmp_path / "state"
    result = phasegate("--state-dir", state, "run", path, cwd=tmp_path)
    case = next(c for c in CASES if c.name == name)
    assert_refused(result, path, case)
    assert not state.exists(), "a plan error must stop `run` before the journal is opened"
    assert not (tmp_path / ".phasegate").exists()


def test_run_refuses_generated_binary(tmp_path: Path) -> None:
    path = _generated(tmp_path, "binary")
    state = tmp_path / "state"
    result = phasegate("--state-dir", state, "run", path, cwd=tmp_path)
    assert_refused(result, path, GENERATED[0])
    assert not state.exists()


def test_run_refuses_undeclared_var_and_records_no_run(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    marker = tmp_path / "RAN"
    plan.write_text(
        "version: 1\nname: marker\nvars: {TARGET: x}\n"
        f"phases:\n  - id: a\n    steps:\n      - run: touch {marker}\n",
        encoding="utf-8",
    )
    state = tmp_path / "state"
    result = phasegate("--state-dir", state, "run", "--var", "TARGT=y", plan, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "did you mean 'TARGET'?" in result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()
    history = phasegate("--state-dir", state, "history", "--json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    assert json.loads(history.stdout) == []


def test_expression_bounds_keep_real_conditions() -> None:
    """The bounds refuse what crashes the parser, never a condition a plan really writes."""
    from phasegate.expr import MAX_DEPTH, ExprError, check_bounds, compile_expr, truthy

    assert truthy("vars.ENV == 'prod' && size(vars.X) > 0", {"vars": {"ENV": "prod", "X": "a"}})
    # Brackets inside a string literal are text, not nesting.
    compile_expr("'" + "(" * 100 + "' == 'x'")
    compile_expr("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH)
    with pytest.raises(ExprError, match="tokens"):
        check_bounds("1+" * 300 + "1")
    with pytest.raises(ExprError, match="levels deep"):
        check_bounds("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
