"""Blind round 6 (issue 11): a red-team round. About twenty documents written the way teams
write runbooks in public repositories (Helm/Argo canaries, Ansible rolling updates, database
failover, Kafka rolling restarts, certificate rotation, DNS cutovers, mobile staged rollouts,
Terraform state moves, per-alert incident runbooks, change-request templates, documents in
Spanish, German, Portuguese, French, Chinese and Japanese, HTML and <details>), each labelled
by reading it as a careful SRE would BEFORE importing it (tests/markdown/blind6/*.yaml, the
kinds of labelled_check.py).

An expectation the importer misses today carries ``xfail: "<reason>"`` (a document-level
``executable`` miss carries ``executable_xfail``). The test is strict both ways: every other
expectation must be met, and every xfail one must still fail — when the importer starts
meeting it, the test says so and the ``xfail`` key must be removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.markdown import blind_rounds

HERE = Path(__file__).parent / "blind6"


@pytest.mark.parametrize("spec", blind_rounds.specs(HERE), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    blind_rounds.check_expectations(HERE, spec)


def test_the_round_has_documents_and_known_misses_are_explained() -> None:
    specs = blind_rounds.specs(HERE)
    assert len(specs) >= 15
    for spec in specs:
        for exp in spec.get("expectations", []):
            assert "xfail" not in exp or str(exp["xfail"]).strip(), (spec["doc"], exp)
