"""validate, plan and run take a Markdown document directly; the run records its hash."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tests.conftest import CLI

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "markdown" / "ROLLOUT.md"


def test_validate_plan_and_run_a_markdown_document(cli: CLI) -> None:
    document = cli.cwd / "ROLLOUT.md"
    shutil.copy(EXAMPLE, document)
    validated = cli("validate", str(document))
    assert validated.returncode == 0, validated.stderr
    assert "valid" in validated.stdout
    preview = cli("plan", str(document))
    assert preview.returncode == 0, preview.stderr
    run = cli("run", "--yes", str(document))  # reviewed: this test is about running it
    assert run.returncode == 0, run.stderr
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    assert status["run"]["plan_path"] == str(document.resolve())
    assert status["run"]["markdown_sha256"] == hashlib.sha256(document.read_bytes()).hexdigest()
    assert cli("check").returncode == 0


def test_a_markdown_document_that_cannot_be_read_is_a_clean_error(cli: CLI) -> None:
    missing = cli("run", str(cli.cwd / "absent.md"))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "absent.md" in missing.stderr
