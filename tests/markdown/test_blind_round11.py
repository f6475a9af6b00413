"""Blind round 11 (issue 11): a red-team round of 24 documents the importer had never seen,
in forms earlier rounds lacked — a Mintlify/Nextra MDX page (``<Steps>``/``<Step>`` holding
indented fences, a ``<CodeGroup>`` of two alternative diff tools, ``<Warning>``, ``<Check>``,
rollback and troubleshooting in ``<Accordion>``), mkdocs-material content tabs
(``=== "Ubuntu"`` / ``=== "RHEL"``) in both install and rollback (Norwegian), GitBook
``{% hint %}`` and ``{% tabs %}{% tab title="GKE" %}`` alternatives around a Velero backup,
Sphinx/MyST (``{code-block}`` with ``:caption:``, ``{contents}``, ``:::{dropdown} Rollback``),
a Quarto/R Markdown notebook (``{bash}`` chunks, ``#| eval: false``, ``{bash, eval=FALSE}``)
with an atomic Snowflake SWAP, a Google-Docs export with no fences and escaped punctuation
(German), a pandoc grid table whose command cells wrap over lines (Slovak), struck-through
``~~obsolete~~`` steps and a ✅ Do / ❌ Don't table, a four-backtick Markdown template holding
fences that must never run, an ``at now + 10 minutes`` dead-man switch (Bulgarian), ASCII-art
and mermaid diagrams with exports written after the steps (Croatian), a ``diff`` fence for
review and ``patch --dry-run``/``patch -R`` (Catalan), ``visudo``/``crontab -e``/``less +F``
(Malay), ``screen``/``nohup … &`` alternatives (Taglish), Azure slot swap preview/swap/reset
(Danish), a Cloud Run ramp with revision names copied from output (Japanese), kubeadm with
``1.30.x`` and a ``[y/N]`` prompt (Chinese), an arrow-key ``pulumi up`` prompt, an aptly
snapshot switch (Spanish), an Istio revision canary "same commands for the other namespaces"
(French), a GitHub issue template with ``{{ .Version }}`` placeholders, an Arista EOS config
session typed at device prompts with ``commit timer``, a CockroachDB decommission with a
training-only ``--insecure`` form, and a 311-line DR game day (tmux, console clicks, a
``<CHANGE_ID>`` handed over through ``$(cat /tmp/…)``, "if paged for X", abort before/after
the point of no return). Each was labelled by reading it as a careful SRE would, BEFORE
importing it (tests/markdown/blind11/*.yaml, the kinds of labelled_check.py).

Same contract as rounds 6 to 10 (round 6's helper is reused): an expectation the importer
misses today carries ``xfail: "importer today: …"`` (``executable_xfail`` for the
document-level claim), and the test is strict both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.markdown import blind_rounds

HERE = Path(__file__).parent / "blind11"


@pytest.mark.parametrize("spec", blind_rounds.specs(HERE), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    blind_rounds.check_expectations(HERE, spec)


def test_the_round_is_labelled_with_lines_and_reasons() -> None:
    blind_rounds.check_labels(HERE, at_least=24)
