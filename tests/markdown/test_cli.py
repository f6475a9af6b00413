"""`phasegate import` end to end, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CLI

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "markdown" / "ROLLOUT.md"


def test_import_writes_a_plan_that_validates_and_reports_on_stderr(cli: CLI) -> None:
    out = cli.cwd / "plan.yaml"
    result = cli("import", str(EXAMPLE), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "3 phases, 2 steps, 3 checks, 1 rollback action" in result.stderr
    assert "# ROLLOUT.md:10" in out.read_text(encoding="utf-8")
    valid = cli("validate", str(out))
    assert valid.returncode == 0, valid.stderr


def test_import_prints_the_plan_to_stdout_and_json_report(cli: CLI) -> None:
    plain = cli("import", str(EXAMPLE))
    assert plain.stdout.startswith("# imported from ROLLOUT.md")
    report = json.loads(cli("import", str(EXAMPLE), "--json").stdout)
    assert report["counts"]["phases"] == 3
    assert report["plan_yaml"] == plain.stdout
    assert [c["kind"] for c in report["checks"]] == ["file", "command", "manual"]


def test_bad_documents_exit_2_with_a_message_and_no_traceback(cli: CLI) -> None:
    (cli.cwd / "bin.md").write_bytes(b"\x7fELF\x00\x00")
    (cli.cwd / "latin.md").write_bytes(b"# caf\xe9\n")
    for name, message in [
        ("missing.md", "no such file"),
        ("bin.md", "binary"),
        ("latin.md", "not UTF-8"),
    ]:
        result = cli("import", str(cli.cwd / name))
        assert result.returncode == 2, name
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_strict_fails_on_an_ambiguous_expectation(cli: CLI) -> None:
    doc = cli.cwd / "doc.md"
    doc.write_text(
        "## Phase 1\n| Test | Command | Expected |\n|---|---|---|\n"
        "| look | `./check.sh` | the graph looks calm |\n",
        encoding="utf-8",
    )
    assert cli("import", str(doc)).returncode == 0
    strict = cli("import", str(doc), "--strict")
    assert strict.returncode == 2
    assert "line 4: expectation read as unparsed -> exit 0" in strict.stderr


def test_the_imported_example_runs_and_its_rollback_section_restores(cli: CLI) -> None:
    plan = cli.cwd / "plan.yaml"
    assert cli("import", str(EXAMPLE), "-o", str(plan)).returncode == 0
    # injected failure: the smoke test expects v2, the deploy writes v3
    text = plan.read_text(encoding="utf-8").replace('echo "v2" >', 'echo "v3" >')
    plan.write_text(text, encoding="utf-8")
    result = cli("run", str(plan))
    assert result.returncode == 1, result.stdout + result.stderr
    assert (cli.cwd / "site" / "VERSION").read_text(encoding="utf-8") == "v1\n"
