"""examples/quickstart.yaml: success, then an injected failure rolled back byte-identical."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CLI, items
from tests.tree import tree_digest

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


def test_quickstart_deploys_then_rolls_back_a_failed_release_exactly(cli: CLI) -> None:
    assert cli("validate", str(QUICKSTART)).returncode == 0
    first = cli("run", str(QUICKSTART))
    assert first.returncode == 0, first.stderr
    site = cli.state_dir / "quickstart-site"
    assert (site / "VERSION").read_text() == "2.0.0\n"
    before = tree_digest(site)

    failed = cli("run", str(QUICKSTART), "--var", "VERSION=3.0.0", "--var", "FAIL=1")
    assert failed.returncode == 1, failed.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["failure"]["item"] == "deploy/gate:gate-2"
    assert status["rollback"]["overrun"] is False
    assert items(status)["verify:verify-1"]["status"] == "passed"
    assert tree_digest(site) == before  # restored byte-identical

    again = cli("run", str(QUICKSTART), "--var", "VERSION=3.0.0")
    assert again.returncode == 0, again.stderr
    assert (site / "VERSION").read_text() == "3.0.0\n"
    assert cli("check").returncode == 0
