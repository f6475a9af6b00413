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
import yaml

from tests.markdown import labelled_check as lc

HERE = Path(__file__).parent / "blind6"


def _specs() -> list[dict[str, Any]]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec["doc"] = path.stem + ".md"
        out.append(spec)
    return out


def _xfail_reasons(spec: dict[str, Any]) -> list[str | None]:
    """One entry per outcome ``lc.evaluate`` yields, in its order: the expectations, then
    the document-level ``executable``."""
    reasons: list[str | None] = [exp.get("xfail") for exp in spec.get("expectations", [])]
    if "executable" in spec:
        reasons.append(spec.get("executable_xfail"))
    return reasons


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    outcomes = lc.evaluate(lc.import_doc(HERE / spec["doc"]), spec)
    reasons = _xfail_reasons(spec)
    assert len(outcomes) == len(reasons)
    missed, now_met = [], []
    for outcome, reason in zip(outcomes, reasons, strict=True):
        where = f"{outcome.kind} {outcome.label!r} (line {outcome.line})"
        if reason is None and not outcome.met:
            missed.append(f"{where}: {outcome.detail}")
        elif reason is not None and outcome.met:
            now_met.append(f"{where}: now met, remove its xfail ({reason})")
    assert not missed and not now_met, "\n".join(missed + now_met)


def test_the_round_has_documents_and_known_misses_are_explained() -> None:
    specs = _specs()
    assert len(specs) >= 15
    for spec in specs:
        for exp in spec.get("expectations", []):
            assert "xfail" not in exp or str(exp["xfail"]).strip(), (spec["doc"], exp)
