"""A store URL where a directory is expected is a usage error (issue 12 §2), not a local
folder named ``postgresql:``: exit 2, the option named, the password never echoed, nothing
created and nothing run. Real CLI processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CLI, write_plan

PLAN = """
    version: 1
    name: urls
    phases:
      - id: p
        steps: [{run: "echo ran >> ledger"}]
"""
URL = "postgresql://deploy:hunter2@db.internal:5432/phasegate"


def _nothing_happened(cli: CLI) -> None:
    assert sorted(p.name for p in cli.cwd.iterdir()) == ["plan.yaml"]  # no postgresql: folder
    assert not cli.state_dir.exists()


@pytest.mark.parametrize(
    ("where", "args", "env"),
    [
        ("--state-dir", ["--state-dir", URL, "run", "plan.yaml"], {}),
        ("--state-dir", ["run", "plan.yaml", "--state-dir", URL], {}),
        ("$PHASEGATE_HOME (--state-dir)", ["run", "plan.yaml"], {"PHASEGATE_HOME": URL}),
        ("$PHASEGATE_STORE", ["run", "plan.yaml"], {"PHASEGATE_STORE": URL}),
    ],
)
def test_a_postgresql_url_is_refused_before_anything_runs(
    cli: CLI, where: str, args: list[str], env: dict[str, str]
) -> None:
    write_plan(cli.cwd, PLAN)
    result = cli(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert f"Error: {where} is a postgresql:// URL: PostgreSQL support is not there yet" in (
        result.stderr
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    _nothing_happened(cli)


def test_other_urls_and_an_unsupported_store_setting_are_refused(cli: CLI) -> None:
    write_plan(cli.cwd, PLAN)
    result = cli("history", "--state-dir", "sqlite:///tmp/x")
    assert result.returncode == 2
    assert "--state-dir is a sqlite:// URL; it takes a directory" in result.stderr
    result = cli("history", env={"PHASEGATE_STORE": str(cli.cwd / "elsewhere")})
    assert result.returncode == 2
    assert "$PHASEGATE_STORE is not supported yet" in result.stderr
    _nothing_happened(cli)


def test_a_directory_whose_name_has_a_colon_still_works(cli: CLI) -> None:
    write_plan(cli.cwd, PLAN)
    state = Path(cli.cwd.parent / "state:blue")
    result = cli("--state-dir", str(state), "run", "plan.yaml")
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "ledger").read_text() == "ran\n"
    assert (state / "phasegate.db").is_file()
