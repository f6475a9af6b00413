"""Roles and structure of imported Markdown, checked by running the import for real (issue 11).

Each test imports a document of /work/shared/markdown-cases (or an inline variant of its class)
with the real CLI, runs the plan, and asserts the marker files and the journal.
"""

from __future__ import annotations

from tests.conftest import CLI
from tests.markdown.cases_harness import import_case


def test_harness_runs_an_imported_document_and_sees_its_markers(cli: CLI) -> None:
    doc = '# Release\n\n## Phase 1: Deploy\n\n```bash\ntouch "$RUN_DIR/deployed"\n```\n'
    case = import_case(cli, "inline.md", text=doc)
    assert case.returncode == 0, case.stderr
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"deployed"}
    assert [(i["phase"], i["kind"], i["status"]) for i in ran.items()] == [
        ("phase-1-deploy", "step", "succeeded")
    ]
