"""The starter pack (policies/starter): no violation on any example plan, each plan of the
catalogue caught by the policy it breaks, at the node it names, in Rego and in CEL alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from phasegate.plan.loader import load_plan
from phasegate.policy import Pack
from phasegate.policy.document import plan_document
from tests.policy.conftest import CATALOGUE, ROOT, STARTER, expected

EXAMPLES = sorted(
    [
        *ROOT.glob("examples/*.yaml"),
        *ROOT.glob("examples/seeds/*.yaml"),
        *ROOT.glob("examples/*.md"),
        *ROOT.glob("examples/*/*.md"),
    ]
)
CASES = sorted(CATALOGUE.glob("*.yaml"))


def test_the_starter_pack_has_five_policies_each_in_both_languages(starter: Pack) -> None:
    assert len(starter.names) >= 5
    assert {p.name for p in starter.rego} == {p.name for p in starter.cel} == set(starter.names)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_false_positive_on_the_examples(starter: Pack, path: Path) -> None:
    document = plan_document(load_plan(path))
    for language in ("rego", "cel"):
        assert starter.evaluate_document(document, language).violations == []


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 15
    assert {p for path in CASES for p, _ in expected(path)} >= {
        "traffic-change-verified",
        "production-rollback-budget",
        "production-two-approvers",
        "no-literal-secrets",
        "risky-commands-approved",
    }


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_violating_plan_is_caught_where_it_breaks_the_rule(starter: Pack, path: Path) -> None:
    loaded = load_plan(path)  # a valid plan: only policy forbids it
    document = plan_document(loaded)
    lines = path.read_text().splitlines()
    for language in ("rego", "cel"):
        verdict = starter.evaluate_document(document, language)
        found = {(v.policy, v.field) for v in verdict.violations}
        assert found == expected(path), language
        for violation in verdict.violations:
            assert violation.file == str(path.resolve())
            assert (violation.line, violation.column) == loaded.smap.locate(
                violation.path, key=True
            )
            assert violation.line is not None and violation.column is not None
            # The position is the node's own: its key is written on that line.
            key = violation.path[-1]
            assert isinstance(key, str) and key in lines[violation.line - 1]
            assert violation.level in ("soft", "hard")


def test_the_pack_passes_its_own_tests_on_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "phasegate", "policy", "test", str(STARTER)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("0 failed")
    assert "[rego]" in done.stdout and "[cel]" in done.stdout
