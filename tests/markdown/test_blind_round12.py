"""Blind round 12 (issue 11): a red-team round of 24 documents the importer had never seen,
in forms earlier rounds lacked — an Obsidian note (front matter, ``[[wikilinks]]``,
``> [!danger]``/``> [!example]-``/``> [!failure]-`` callouts holding fences, a Cassandra node
replacement with an Undo section holding ``assassinate``), an Org-mode export via pandoc
(``{.bash org-language="sh"}`` fences, ``#+RESULTS:`` output, TODO/DONE headings with
``:tags:``, a property drawer; Polish MinIO), reStructuredText converted by pandoc (``::``
literal blocks, ``.. warning::``/``.. code-block:: console`` left as text; Czech OpenStack
evacuation), CloudFormation change sets created, reviewed by two and executed (European
Portuguese), a Flagger Canary CRD shown as reference YAML with a gate opened by curl
(Swedish), ``kubectl rollout pause``/``resume`` as a numbered list of inline commands
(Indonesian), a flag ramp written in prose with ``%10`` percentages and "if the error budget
allows" (Turkish), Atlas ``--dry-run`` then apply with ``pg_dump`` first and ``DROP`` under
"Cleanup (next sprint)" (Greek), headings an importer does not know ("If things go sideways",
"Plan B", "Break-glass", "Undo", "Gotchas", "Appendix") holding undo and destructive commands,
``sudo -i``/``sudo -i -u mastodon`` then one terminal session with ``cd`` and ``source .env``
(Hindi), a pasted script with ``select`` menu, ``trap`` and an optional middle part (Thai),
command tables and a blockquoted Slack warning (Hebrew), Terraform workspaces with ``-target``
only in emergencies (Ukrainian), "retry three times, then page" and a window in three time
zones (Lithuanian), Docker Swarm update/rollback (Serbian), NixOS ``test``/``switch``/
``--rollback`` as a ``$`` transcript, Sqitch deploy/revert (Hungarian), a raw Slack thread
with a retracted restart, ZFS snapshot/rollback (Korean), GitHub Actions ``workflow_dispatch``
with a ``<RUN_ID>`` (Romanian), Keycloak ``kcadm.sh`` with a password prompt and an HTML-comment
step (Italian), Vitess online DDL with postponed completion (Finnish), a cert-manager heredoc
``kubectl apply -f - <<EOF`` whose YAML is part of the command, and a 312-line week-long
session-store migration (ramp table with ``<PERCENT>``, rollback vs pause rules, ``<details>``,
Plan B, Break-glass, FAQ, appendices, a staging rehearsal never to re-run). Each was labelled by
reading it as a careful SRE would, BEFORE importing it (tests/markdown/blind12/*.yaml, the kinds
of labelled_check.py).

Same contract as rounds 6 to 11 (round 6's helper is reused): an expectation the importer
misses today carries ``xfail: "importer today: …"`` (``executable_xfail`` for the
document-level claim), and the test is strict both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.markdown import blind_rounds

HERE = Path(__file__).parent / "blind12"


@pytest.mark.parametrize("spec", blind_rounds.specs(HERE), ids=lambda s: s["doc"])
def test_every_expectation_of_the_round_is_met(spec: dict[str, Any]) -> None:
    blind_rounds.check_expectations(HERE, spec)


def test_the_round_is_labelled_with_lines_and_reasons() -> None:
    blind_rounds.check_labels(HERE, at_least=24)
