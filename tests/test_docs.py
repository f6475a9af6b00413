"""The docs cannot drift from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_generated_from_help() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_readme_starts_with_the_two_setup_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```bash\n")
    main_cmd = blocks[1].split("\n```")[0].strip()
    test_cmd = blocks[2].split("\n```")[0].strip()
    assert "phasegate run examples/quickstart.yaml" in main_cmd
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci.splitlines()


def test_every_verb_and_check_kind_is_documented() -> None:
    from phasegate.cli import VERBS
    from phasegate.registry import check_kinds

    reference = (ROOT / "docs" / "plan-reference.md").read_text(encoding="utf-8")
    for kind in check_kinds():
        assert f"`{kind}`" in reference, kind
    cli_doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for verb in VERBS:
        assert f"## phasegate {verb}" in cli_doc
