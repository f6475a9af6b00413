"""Readiness computed from named checks: the weighted share passing on 0-10, hard checks that
block whatever the score, located validation errors, and the journalled evaluation (the
named checks' results, the computed score, the evidence's sha256)."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from phasegate.engine.readiness import judge_named, weighted_score
from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan
from phasegate.plan.program import NamedCheck, Readiness
from phasegate.plan.schema import plan_json_schema
from phasegate.registry import check_kind
from tests.conftest import CLI, items
from tests.programs.builders import child_plan, ledger


def _named(name: str, weight: float, hard: bool = False) -> NamedCheck:
    return NamedCheck.model_validate(
        {
            "name": name,
            "weight": weight,
            "hard": hard,
            "check": check_kind("command").model_validate({"command": "true"}),
        }
    )


@pytest.mark.parametrize(
    ("results", "score"),
    [
        ([(3, True), (1, False)], 7.5),
        ([(3, False), (1, True)], 2.5),
        ([(1, True), (1, True), (2, False)], 5.0),
        ([(0.5, True), (1.5, True)], 10.0),
        ([(2, False), (2, False)], 0.0),
        ([(0, True)], None),  # no weight: no score
        ([], None),
    ],
)
def test_weighted_score_arithmetic(results: list[tuple[float, bool]], score: float) -> None:
    assert weighted_score(results) == score


@given(
    st.lists(
        st.tuples(st.floats(min_value=0.01, max_value=100), st.booleans()), min_size=1, max_size=8
    )
)
def test_weighted_score_bounds_and_monotonic(results: list[tuple[float, bool]]) -> None:
    score = weighted_score(results)
    assert score is not None and 0 <= score <= 10
    assert weighted_score([(w, True) for w, _ in results]) == 10
    assert weighted_score([(w, False) for w, _ in results]) == 0
    # Turning one failing check into a passing one never lowers the score.
    for index, (weight, ok) in enumerate(results):
        if not ok:
            better = [*results[:index], (weight, True), *results[index + 1 :]]
            assert weighted_score(better) >= score  # type: ignore[operator]


def test_hard_check_blocks_whatever_the_score() -> None:
    docs, demo, signed = _named("docs", 3), _named("demo", 1), _named("sign-off", 0, hard=True)
    ready = Readiness(checks=[docs, demo, signed], min_score=8)
    # Score 10, the hard check failed: blocked by it alone.
    score, blockers = judge_named(ready, [(docs, True), (demo, True), (signed, False)])
    assert score == 10 and blockers == ["hard check sign-off failed"]
    # Hard check passes, 7.5 < 8: blocked by the score, naming the failed weighted check.
    score, blockers = judge_named(ready, [(docs, True), (demo, False), (signed, True)])
    assert score == 7.5 and blockers == ["score 7.5 < 8 (failed: demo)"]
    # min_score is inclusive.
    lenient = Readiness(checks=[docs, demo, signed], min_score=7.5)
    assert judge_named(lenient, [(docs, True), (demo, False), (signed, True)]) == (7.5, [])
    # A hard check with a weight counts in the score too.
    heavy = _named("tests", 1, hard=True)
    score, blockers = judge_named(ready, [(docs, True), (heavy, False)])
    assert score == 7.5 and blockers[0] == "hard check tests failed"
    assert blockers[1].startswith("score 7.5 < 8")


def _problems(tmp_path: Path, ready: str) -> list[tuple[int | None, int | None, str]]:
    (tmp_path / "child.yaml").write_text(child_plan("child"))
    path = tmp_path / "program.yaml"
    body = textwrap.indent(textwrap.dedent(ready).strip(), " " * 6)
    path.write_text(
        "version: 1\nname: prog\nphases:\n  - id: a\n    run_plan: child.yaml\n"
        f"    ready:\n{body}\n"
    )
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_validation_errors_are_located(tmp_path: Path) -> None:
    [(line, column, message)] = _problems(
        tmp_path,
        """
        checks:
          - {name: docs, weight: 2, check: "true"}
          - {name: demo, weight: -1, check: "true"}
        """,
    )
    assert (line, column) == (9, 32) and "must be at least 0.0, got -1" in message
    [(line, _, message)] = _problems(
        tmp_path,
        """
        checks:
          - name: docs
            weight: 2
            check: {comand: "true"}
        """,
    )
    assert line == 10 and "unknown check kind 'comand'" in message
    [(line, _, message)] = _problems(tmp_path, "checks:\n  - {name: docs, weight: 2}\n")
    assert line == 8 and "needs `check:`" in message
    [(_, _, message)] = _problems(
        tmp_path,
        """
        evidence: {file: state.yaml}
        score: doc.dor.score
        checks: [{name: docs, check: "true"}]
        """,
    )
    assert "not both" in message
    [(_, _, message)] = _problems(
        tmp_path, 'checks: [{name: a, check: "true"}, {name: a, check: "false"}]'
    )
    assert "distinct names: a twice" in message
    [(_, _, message)] = _problems(tmp_path, 'checks: [{name: a, weight: 0, check: "true"}]')
    assert "neither scores nor blocks" in message


def _program(cli: CLI) -> Path:
    (cli.cwd / "children").mkdir()
    for name in ("events-model", "shadow-mode"):
        (cli.cwd / "children" / f"{name}.yaml").write_text(child_plan(name))
    (cli.cwd / "state.yaml").write_text("dor: {status: pass}\n")
    path = cli.cwd / "program.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            version: 1
            name: program
            phases:
              - id: events-model
                run_plan: children/events-model.yaml
                vars: {{LEDGER: {cli.cwd / "ledger.txt"}}}
              - id: shadow-mode
                needs: [events-model]
                run_plan: children/shadow-mode.yaml
                vars: {{LEDGER: {cli.cwd / "ledger.txt"}}}
                ready:
                  evidence: {{file: state.yaml}}
                  verdict: doc.dor.status
                  min_score: 8
                  checks:
                    - {{name: docs, weight: 3, check: test -f docs.flag}}
                    - {{name: demo, weight: 1, check: {{file: demo.flag}}}}
                    - {{name: sign-off, weight: 0, hard: true, check: test -f signed.flag}}
            """
        ).lstrip()
    )
    return path


def test_scored_readiness_is_journalled_and_hard_check_overrides(cli: CLI) -> None:
    plan = _program(cli)
    # Editors' schema agrees with the loader: a named check's `check` is a spec or a string.
    jsonschema.Draft202012Validator(plan_json_schema()).validate(yaml.safe_load(plan.read_text()))
    (cli.cwd / "docs.flag").write_text("")
    assert cli("run", str(plan)).returncode == 4
    parent = next(r for r in cli.json("history") if r["plan_name"] == "program")
    run_id = str(parent["id"])
    first = cli.status(run_id)["program"]["readiness"]["shadow-mode"]
    assert first["ready"] is False and first["score"] == 7.5 and first["min_score"] == 8
    assert first["sha256"] == hashlib.sha256((cli.cwd / "state.yaml").read_bytes()).hexdigest()
    assert first["blockers"] == ["hard check sign-off failed", "score 7.5 < 8 (failed: demo)"]
    by_name = {c["check"]: c for c in first["checks"]}
    assert [by_name[n]["status"] for n in ("docs", "demo", "sign-off")] == [
        "passed",
        "failed",
        "failed",
    ]
    assert (by_name["docs"]["weight"], by_name["sign-off"]["hard"]) == (3, True)
    assert not any(line.startswith("shadow-mode") for line in ledger(cli.cwd))

    # Score 10 now, but the hard check still fails: not ready whatever the score.
    (cli.cwd / "demo.flag").write_text("")
    assert cli("resume", run_id).returncode == 4
    again = cli.status(run_id)["program"]["readiness"]["shadow-mode"]
    assert again["score"] == 10 and again["blockers"] == ["hard check sign-off failed"]
    assert again["verdict"] == "needs_work"  # the document's pass is overruled

    # `next --blocked` evaluates the same now (the program is paused on that child).
    blocked = cli.json("next", run_id, "--blocked")
    assert blocked["blocked"][0]["phase"] == "shadow-mode"
    assert blocked["blocked"][0]["blockers"] == ["hard check sign-off failed"]

    (cli.cwd / "signed.flag").write_text("")
    assert cli("resume", run_id).returncode == 0
    final = cli.status(run_id)
    assert items(final)["shadow-mode/child"]["status"] == "succeeded"
    assert final["program"]["readiness"]["shadow-mode"]["ready"] is True
    assert ledger(cli.cwd).count("shadow-mode-step-1") == 1
