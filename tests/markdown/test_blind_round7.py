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

from tests.markdown import blind_rounds

HERE = Path(__file__).parent / "blind7"


@pytest.mark.parametrize("spec", blind_rounds.specs(HERE), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    blind_rounds.check_expectations(HERE, spec)


def test_the_round_is_labelled_with_lines_and_reasons() -> None:
    blind_rounds.check_labels(HERE, at_least=25)
