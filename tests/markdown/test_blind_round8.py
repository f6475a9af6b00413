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
import yaml

from tests.markdown import labelled_check as lc
from tests.markdown.test_blind_round6 import _xfail_reasons

HERE = Path(__file__).parent / "blind8"


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
    assert len(specs) >= 20
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
