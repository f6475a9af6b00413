"""Blind round 7 (issue 11): a red-team round of 30 documents the importer had never seen,
written the way teams write them — Helm, systemd, cron to timers, gh-ost, a flag-service API
ramp, IIS with PowerShell, Terraform without a saved plan, a MySQL console transcript, a
CloudFront config edit, an App Store phased release, pg_upgrade in Russian, Kubernetes in
Polish, nginx in Turkish, Flyway in Korean, a Redis reshard in Chinese, a French rollback
runbook, a German change request, a Spanish credential rotation, HTML comments and
<details>, front matter and footnotes, an on-call decision tree, setext headings with
indented code, a vendor's required upgrade stops, a physical disk swap, one terminal session
with prompts, PoP waves with freeze vs rollback rules, follow/exec forms, RDS blue/green, a
Rails data fix with a dry run, a T-minus launch timeline. Each was labelled by reading it as
a careful SRE would, BEFORE importing it (tests/markdown/blind7/*.yaml, the kinds of
labelled_check.py).

Same contract as round 6 (its helper is reused): an expectation the importer misses today
carries ``xfail: "importer today: …"`` (``executable_xfail`` for the document-level claim),
and the test is strict both ways — every other expectation must be met, and every xfail one
must still fail; when the importer starts meeting it, the test says so and the key must go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.markdown import labelled_check as lc
from tests.markdown.test_blind_round6 import _xfail_reasons

HERE = Path(__file__).parent / "blind7"


def _specs() -> list[dict[str, Any]]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec["doc"] = path.stem + ".md"
        out.append(spec)
    return out


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


def test_the_round_is_labelled_with_lines_and_reasons() -> None:
    """Every expectation cites the Markdown line it reads and says why; a line that holds
    the command it names (commands are matched on that line's text)."""
    specs = _specs()
    assert len(specs) >= 25
    for spec in specs:
        lines = (HERE / spec["doc"]).read_text(encoding="utf-8").splitlines()
        for exp in spec.get("expectations", []):
            assert exp["kind"] in lc.KINDS, (spec["doc"], exp)
            assert str(exp.get("why", "")).strip(), (spec["doc"], exp)
            assert "xfail" not in exp or str(exp["xfail"]).strip(), (spec["doc"], exp)
            line = exp.get("line")
            assert isinstance(line, int) and 1 <= line <= len(lines), (spec["doc"], exp)
            if exp["kind"] in ("forward", "never_forward", "rollback", "never_ending"):
                assert exp["cmd"].lower() in lines[line - 1].lower(), (spec["doc"], exp)
        if "executable" in spec:
            assert str(spec.get("executable_why", "")).strip(), spec["doc"]
