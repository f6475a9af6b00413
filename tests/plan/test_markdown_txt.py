"""A Markdown rollout document saved as `.txt` (issue 10 §3): validate and run say it is
Markdown and how to import it, instead of a YAML alias error; nothing runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import cli_forks
from tests.shared import SHARED

SEEDS = sorted((SHARED / "seeds").glob("*.txt"))


def phasegate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env.update({"PHASEGATE_HOME": str(cwd / "state"), "NO_COLOR": "1"})
    return cli_forks.phasegate(list(args), cwd=cwd, env=env)


@pytest.mark.skipif(not SEEDS, reason="no seed documents")
@pytest.mark.parametrize("seed", SEEDS, ids=[s.name[:3] for s in SEEDS])
def test_a_markdown_seed_named_txt_is_recognised(tmp_path: Path, seed: Path) -> None:
    document = tmp_path / "rollout.txt"
    shutil.copy(seed, document)
    for verb in ("validate", "plan", "run"):
        done = phasegate(tmp_path, verb, str(document))
        assert done.returncode == 2, (verb, done.stdout, done.stderr)
        assert "looks like a Markdown document" in done.stderr
        assert f"{document}:" in done.stderr and "phasegate import" in done.stderr
        assert "alias" not in done.stderr and "Traceback" not in done.stderr
    history = phasegate(tmp_path, "history", "--json")
    assert history.stdout.strip() == "[]"  # nothing ran


def test_the_suggested_import_works_on_the_txt_file(tmp_path: Path) -> None:
    seed = next((s for s in SEEDS if s.name.startswith("000")), None)
    if seed is None:
        pytest.skip("seed 000 is not here")
    document = tmp_path / "rollout.txt"
    shutil.copy(seed, document)
    imported = phasegate(tmp_path, "import", str(document), "-o", "plan.yaml")
    assert imported.returncode == 0, imported.stderr
    assert phasegate(tmp_path, "validate", "plan.yaml").returncode == 0


def test_a_broken_yaml_plan_with_comments_is_not_called_markdown(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "# Rollout of the web tier\n## owners: sre\nversion: 1\nname: web\nphases:\n"
        "  - id: p\n    steps: [{run: 'true'}\n"  # unclosed flow sequence
    )
    done = phasegate(tmp_path, "validate", str(plan))
    assert done.returncode == 2
    assert "Markdown" not in done.stderr and "YAML syntax error" in done.stderr


def test_a_yaml_plan_with_markdown_in_its_strings_still_loads(tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text(
        "# Deploy\nversion: 1\nname: web\ndescription: '**bold** and [a link](http://x)'\n"
        "phases:\n  - id: p\n    steps:\n      - run: \"echo '| a | b |'\"\n"
    )
    done = phasegate(tmp_path, "validate", str(plan))
    assert done.returncode == 0, done.stderr
