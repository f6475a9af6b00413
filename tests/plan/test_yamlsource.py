"""The YAML layer in-process: syntax errors worded and located, what plain YAML means here,
and the source map that every later problem is located with."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from phasegate.errors import PlanError, Problem
from phasegate.plan.yamlsource import MAX_DEPTH, MAX_PLAN_BYTES, load_yaml, read_plan_text


def refused(text: str) -> Problem:
    with pytest.raises(PlanError) as caught:
        load_yaml(text, "p.yaml")
    (problem,) = caught.value.problems
    assert problem.file == "p.yaml"
    return problem


@pytest.mark.parametrize(
    ("text", "line", "column", "says", "hint"),
    [
        ("a:\n\t- b\n", 2, 1, "tab character", "spaces"),
        ("a: @x\n", 1, 4, "cannot start with '@'", 'quote the value: "@…"'),
        ("a: `x`\n", 1, 4, "cannot start with '`'", "quote"),
        ("a: [b, c\n", 1, 4, "the [ opened here", "']'"),
        ("x: 1\na: {b: c\n", 2, 4, "the { opened here", "'}'"),
        ('x: 1\na: "abc\n', 2, 4, "never closed", "close it"),
        ('a: "abc\nb: c\nd: "e"\n', 1, 4, "closing quote missing", "close the string"),
        ("a: b: c\n", 1, 5, "a ': ' inside a value", "quote a value"),
        ("a: *nope\n", 1, 4, "refers to no anchor", "define the anchor"),
        ("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document", "---"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "YAML syntax error", "indentation"),
        ("a: 1\nb: \x07\n", 2, 4, "control character (U+0007)", "remove it"),
    ],
)
def test_syntax_errors(text: str, line: int, column: int, says: str, hint: str) -> None:
    problem = refused(text)
    assert (problem.line, problem.column) == (line, column), problem.render()
    assert says in problem.message
    assert problem.hint is not None and hint in problem.hint


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\t\n  \n", "# only a comment\n", "---\n"])
def test_empty_documents(text: str) -> None:
    assert load_yaml(text, "p.yaml")[0] is None


def test_plain_yaml_values() -> None:
    data, _ = load_yaml(
        "on: push\n1.0: x\nnull: y\nwhen: 2024-05-01\nat: 2024-05-01 10:00:00\n"
        "bad_date: 2024-13-45\nbinish: 0b_\nn: 0x1f\nf: .inf\nyes_: yes\n",
        "p.yaml",
    )
    assert data["on"] == "push"  # keys stay as written: no `True:` surprises
    assert data["1.0"] == "x" and data["null"] == "y"
    assert data["when"] == "2024-05-01" and data["at"] == "2024-05-01 10:00:00"
    assert data["bad_date"] == "2024-13-45" and data["binish"] == "0b_"
    assert data["n"] == 31 and data["f"] == float("inf") and data["yes_"] is True


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a: !!python/object/apply:os.system [ls]\n", "unsupported YAML tag !!python/object"),
        ("a: !Ref x\n", "unsupported YAML tag !Ref"),
        ("a: !!set {x, y}\n", "unsupported YAML tag !!set"),
        ("a: !!binary aGk=\n", "binary values are not allowed"),
        ('a: !!int "abc"\n', "'abc' is not a valid !!int value"),
        ("? [a, b]\n: c\n", "mapping keys must be plain text"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("base: &b 1\nx:\n  <<: *b\n", "`<<` merges mappings only"),
    ],
)
def test_refused_yaml(text: str, says: str) -> None:
    problem = refused(text)
    assert says in problem.message
    assert problem.line is not None and problem.hint


def test_merge_keys_yield_to_explicit_keys() -> None:
    data, smap = load_yaml(
        "base: &base {timeout: 5m, retries: 2}\nstep:\n  <<: *base\n  retries: 3\n", "p.yaml"
    )
    assert data["step"] == {"timeout": "5m", "retries": 3}
    assert smap.locate(("step", "retries")) == (4, 12)  # the explicit key, not the anchor
    assert smap.locate(("step", "timeout")) == (1, 23)  # merged: where it was written


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(
            f"l{i}: &l{i} [" + ", ".join([f"*{'a' if i == 1 else f'l{i - 1}'}"] * 10) + "]"
        )
    problem = refused("\n".join(lines) + "\n")
    assert "alias bomb" in problem.message
    assert problem.field == "l8" and problem.line == 9


def test_recursive_alias_is_refused() -> None:
    problem = refused("a: &a [1, *a]\n")
    assert "contains the alias itself" in problem.message


def test_alias_measurement_runs_when_aliases_are_written_not_for_ampersands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The full measurement (alias bombs, recursion) runs for a plan that holds an alias,
    however it is written; a plan whose commands hold `&&` and `2>&1` (every imported plan)
    has no shared node and skips it (its depth is still checked)."""
    from phasegate.plan import yamlsource

    measured: list[object] = []
    real = yamlsource._guard
    monkeypatch.setattr(yamlsource, "_guard", lambda node, smap: measured.append(node))
    plain = 'run: "make build && make test 2>&1 | tee /tmp/log"\nname: a & b\n'
    assert load_yaml(plain, "p.yaml")[0] == {
        "run": "make build && make test 2>&1 | tee /tmp/log",
        "name": "a & b",
    }
    assert measured == []
    for text in ("base: &b {t: 1}\nstep: *b\n", "d: &d {t: 1}\ns: {<<: *d}\n", "s: [&x 1, *x]\n"):
        load_yaml(text, "p.yaml")
        assert len(measured) == 1, text
        measured.clear()
    monkeypatch.setattr(yamlsource, "_guard", real)
    assert "contains the alias itself" in refused("s: [&x [1, *x]]\n").message


def test_nesting_is_bounded() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    load_yaml(ok, "p.yaml")
    problem = refused("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert f"more than {MAX_DEPTH} levels" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # flow sequences: libyaml's composer segfaulted
        "a: " + "{a: " * 50_000 + "}" * 50_000,  # flow mappings
        "- " * 100_000 + "x",  # compact block sequences on one line
    ],
    ids=["flow-seq", "flow-map", "block-seq"],
)
def test_deep_nesting_is_refused_before_composing(text: str) -> None:
    """Issue 10 §1.2: refused at the first level past the bound, located, in bounded CPU."""
    started = time.process_time()
    problem = refused(text)
    assert f"more than {MAX_DEPTH} levels" in problem.message
    assert problem.line == 1 and problem.column is not None
    assert problem.column <= 4 * (MAX_DEPTH + 1)  # where the bound was crossed, not the end
    assert time.process_time() - started < 2  # the bound; it takes milliseconds


def test_source_map_positions() -> None:
    text = "version: 1\nphases:\n  - id: a\n    steps:\n      - run: make\n        timeout: 5m\n"
    data, smap = load_yaml(text, "p.yaml")
    assert data["phases"][0]["steps"][0]["timeout"] == "5m"
    assert smap.locate(("phases", 0, "steps", 0, "timeout")) == (6, 18)
    assert smap.locate(("phases", 0, "steps", 0, "timeout"), key=True) == (6, 9)
    # A path that does not exist resolves to its nearest existing parent.
    assert smap.locate(("phases", 0, "steps", 0, "missing")) == (5, 9)
    problem = smap.problem(("phases", 0, "id"), "msg", "hint")
    assert problem.render() == "p.yaml:3:9: phases[0].id: msg\n  hint: hint"


def test_read_plan_text(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_bytes(b"\xef\xbb\xbfname: x\n")  # a byte-order mark is fine
    assert read_plan_text(plain) == "name: x\n"
    cases = {
        "binary": (b"\x00\x01\x02", "binary"),
        "latin1": (b"a: 1\nb: caf\xe9\n", "not UTF-8"),
        "big": (b"#" * (MAX_PLAN_BYTES + 1), "at most 10 MB"),
    }
    for name, (content, says) in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(content)
        with pytest.raises(PlanError, match=says) as caught:
            read_plan_text(path)
        assert caught.value.problems[0].file == str(path)
    with pytest.raises(PlanError) as caught:
        read_plan_text(tmp_path / "latin1.yaml")
    assert (caught.value.problems[0].line, caught.value.problems[0].column) == (2, 7)
    for missing in (tmp_path / "nope.yaml", tmp_path):
        with pytest.raises(PlanError) as caught:
            read_plan_text(missing)
        assert caught.value.problems[0].file == str(missing)
