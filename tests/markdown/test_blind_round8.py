"""Blind round 8 (issue 11): a red-team round of 24 documents the importer had never seen,
in forms earlier rounds lacked — a GitHub release issue with checkboxes holding fences and a
[!CAUTION] alert, MkDocs admonitions (indented code inside ``!!! warning``), Docusaurus
``:::danger`` with MDX Tabs, Makefile targets with staging then "same as above but for prod",
a Kubernetes operator with ``--dry-run=server`` first and a port-forward, a Vault break-glass,
a Kafka partition reassignment, an Elasticsearch reindex with an alias swap, Postgres logical
replication in Brazilian Portuguese, Redis Sentinel in Italian, Nomad in Dutch, Salt/Puppet/
Chef, Windows choco/winget with CRLF line endings, Jamf in Japanese, Cloudflare/Fastly in
Vietnamese, LaunchDarkly/Unleash via curl in Hinglish, Alembic in Arabic, a chaos game day
with an SLO table that is not the abort criteria, a Slack thread quoted in a blockquote, a
Jupyter export, AsciiDoc remnants, an HTML ``<ol>`` and command tables, tmux/ssh/follow forms
and a 600+ line multi-region rollout. Each was labelled by reading it as a careful SRE would,
BEFORE importing it (tests/markdown/blind8/*.yaml, the kinds of labelled_check.py).

Same contract as rounds 6 and 7 (round 6's helper is reused): an expectation the importer
misses today carries ``xfail: "importer today: …"`` (``executable_xfail`` for the
document-level claim), and the test is strict both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.markdown import blind_rounds

HERE = Path(__file__).parent / "blind8"


@pytest.mark.parametrize("spec", blind_rounds.specs(HERE), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    blind_rounds.check_expectations(HERE, spec)


def test_the_round_is_labelled_with_lines_and_reasons() -> None:
    blind_rounds.check_labels(HERE, at_least=20)
