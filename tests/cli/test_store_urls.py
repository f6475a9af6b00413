"""``--store`` / ``$PHASEGATE_STORE`` (issue 12 §3): a postgresql:// URL journals in that
PostgreSQL (the session's real server, tests/store/pg_cluster.py), every verb reads it back,
and run directories stay in the local state directory. Any other URL, or a bad one, is a usage
error before anything runs: exit 2, the option named, the password never echoed, no
traceback, nothing created. Real CLI processes."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import CLI, write_plan
from tests.store.pg_cluster import database_url

ROOT = Path(__file__).resolve().parents[2]
PLAN = """
    version: 1
    name: urls
    phases:
      - id: p
        steps: [{run: "echo ran >> ledger"}]
"""
SECRET = "hunter2"


def _runs_in(url: str) -> list[tuple[str, str]]:
    """What the database itself holds: proof the journal is there, not in a local file."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id, status FROM runs ORDER BY created_at").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


@pytest.fixture
def pg_url(postgres_server: str, cli: CLI) -> str:
    return database_url(cli.cwd.parent / "database")


def test_the_quickstart_runs_on_postgresql_and_every_verb_reads_it(cli: CLI, pg_url: str) -> None:
    store = {"PHASEGATE_STORE": pg_url}
    plan = str(ROOT / "examples" / "quickstart.yaml")
    ok = cli("run", plan, env=store)
    assert ok.returncode == 0, ok.stderr
    failed = cli("run", plan, "--var", "VERSION=3.0.0", "--var", "FAIL=1", env=store)
    assert failed.returncode == 1, failed.stderr

    runs = _runs_in(pg_url)
    assert [status for _, status in runs] == ["succeeded", "rolled_back"]
    assert not (cli.state_dir / "phasegate.db").exists()  # no local journal at all
    first, second = runs[0][0], runs[1][0]
    # Run directories (logs, outputs, the backup) are local, under the state directory.
    assert (cli.state_dir / "runs" / first / "backup" / "VERSION").read_text() == "1.0.0\n"
    site = cli.state_dir / "quickstart-site"
    assert (site / "VERSION").read_text() == "2.0.0\n"  # the failed run rolled back

    status = json.loads(cli("--store", pg_url, "status", first, "--json").stdout)
    assert (status["run"]["id"], status["run"]["status"]) == (first, "succeeded")
    assert [p["id"] for p in status["phases"]] == ["prepare", "backup", "build", "deploy"]
    assert all(p["status"] == "succeeded" for p in status["phases"])
    last = json.loads(cli("status", "--json", "--store", pg_url).stdout)
    assert (last["run"]["id"], last["run"]["status"]) == (second, "rolled_back")

    history = json.loads(cli("history", "--json", env=store).stdout)
    assert [(r["id"], r["status"]) for r in history] == [
        (second, "rolled_back"),
        (first, "succeeded"),
    ]
    logs = cli("logs", first, "install", env=store)
    assert logs.returncode == 0 and "deploy/" in logs.stdout

    check = cli("check", "--json", env=store)
    assert check.returncode == 0, check.stdout + check.stderr
    result = json.loads(check.stdout)
    assert (result["ok"], result["runs"], result["violations"]) == (True, 2, [])
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("SELECT count(*) FROM events").fetchone()
    assert stored is not None and result["events"] == stored[0] > 20
    assert "not run on PostgreSQL" in result["integrity_check"][0]


@pytest.mark.parametrize(
    "where",
    ["--store before the verb", "--store after the verb", "$PHASEGATE_STORE", "--state-dir"],
)
def test_every_way_to_name_the_store_journals_there(cli: CLI, pg_url: str, where: str) -> None:
    write_plan(cli.cwd, PLAN)
    args, env = {
        "--store before the verb": (["--store", pg_url, "run", "plan.yaml"], {}),
        "--store after the verb": (["run", "plan.yaml", "--store", pg_url], {}),
        "$PHASEGATE_STORE": (["run", "plan.yaml"], {"PHASEGATE_STORE": pg_url}),
        "--state-dir": (["--state-dir", pg_url, "run", "plan.yaml"], {}),
    }[where]
    result = cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "ledger").read_text() == "ran\n"
    runs = _runs_in(pg_url)
    assert [status for _, status in runs] == ["succeeded"]
    history = json.loads(cli("history", "--json", "--store", pg_url).stdout)
    assert [r["id"] for r in history] == [runs[0][0]]
    assert not (cli.state_dir / "phasegate.db").exists()
    assert not any(p.name.startswith("postgres") for p in cli.cwd.iterdir())


def _refused(cli: CLI, result: object, *needles: str) -> None:
    assert hasattr(result, "returncode") and hasattr(result, "stderr")
    assert result.returncode == 2, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (cli.cwd / "ledger").exists()  # nothing ran
    assert sorted(p.name for p in cli.cwd.iterdir()) == ["plan.yaml"]  # no sqlite: folder


@pytest.mark.parametrize(
    ("args", "env", "field"),
    [
        (["--store", "sqlite:///tmp/x", "run", "plan.yaml"], {}, "--store is a sqlite:// URL"),
        (["run", "plan.yaml", "--store", "mysql://u@h/db"], {}, "--store is a mysql:// URL"),
        (["--state-dir", "sqlite:///tmp/x", "history"], {}, "--state-dir is a sqlite:// URL"),
        (["run", "plan.yaml"], {"PHASEGATE_STORE": "redis://h"}, "$PHASEGATE_STORE is a redis"),
        (["run", "plan.yaml"], {"PHASEGATE_HOME": "s3://b/k"}, "$PHASEGATE_HOME (--state-dir) is"),
    ],
)
def test_other_schemes_are_refused_naming_the_field(
    cli: CLI, args: list[str], env: dict[str, str], field: str
) -> None:
    write_plan(cli.cwd, PLAN)
    _refused(cli, cli(*args, env=env), field, "a postgresql:// URL")
    assert not cli.state_dir.exists()


@pytest.mark.parametrize(
    ("url", "where", "says"),
    [
        (f"postgresql://deploy:{SECRET}@db.internal:99999/x", "--store", "not a valid"),
        (f"postgresql://deploy:{SECRET}@db.internal:port/x", "$PHASEGATE_STORE", "not a valid"),
        (f"postgresql://deploy:{SECRET}@db/x?colour=blue", "--store", 'parameter: "colour"'),
    ],
)
def test_a_bad_url_is_refused_with_the_password_masked(
    cli: CLI, url: str, where: str, says: str
) -> None:
    write_plan(cli.cwd, PLAN)
    if where == "--store":
        result = cli("--store", url, "run", "plan.yaml")
    else:
        result = cli("run", "plan.yaml", env={"PHASEGATE_STORE": url})
    _refused(cli, result, f"{where}: ", says, "deploy:***@")


def test_an_unreachable_or_refusing_server_is_a_clear_error(
    cli: CLI, pg_url: str, postgres_server: str
) -> None:
    write_plan(cli.cwd, PLAN)
    nobody = f"postgresql://deploy:{SECRET}@127.0.0.1:1/phasegate"
    _refused(cli, cli("run", "plan.yaml", "--store", nobody), "cannot connect to the PostgreSQL")
    password = urlsplit(pg_url).password
    assert password
    wrong = pg_url.replace(f":{password}@", f":{SECRET}@")
    result = cli("history", "--store", wrong)
    _refused(cli, result, "password authentication failed", "postgres:***@")


def test_a_directory_as_store_or_with_a_colon_is_the_sqlite_journal(cli: CLI) -> None:
    write_plan(cli.cwd, PLAN)
    state = Path(cli.cwd.parent / "state:blue")
    result = cli("--state-dir", str(state), "run", "plan.yaml")
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "ledger").read_text() == "ran\n"
    assert (state / "phasegate.db").is_file()
    other = cli.cwd.parent / "elsewhere"
    result = cli("run", "plan.yaml", env={"PHASEGATE_STORE": str(other)})
    assert result.returncode == 0, result.stderr
    assert (other / "phasegate.db").is_file()
    history = json.loads(cli("history", "--json", "--store", str(other)).stdout)
    assert len(history) == 1


def test_token_verbs_keep_tokens_in_the_postgresql_store(cli: CLI, pg_url: str) -> None:
    store = {"PHASEGATE_STORE": pg_url}
    assert cli("token", "list", env=store).stdout.strip() == "no tokens"
    made = cli("token", "create", "--name", "ci", "--role", "viewer", env=store)
    assert made.returncode == 0, made.stderr
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT name, role FROM tokens").fetchall()
    assert rows == [("ci", "viewer")]  # in the database, not in a local server.db
    assert not (cli.state_dir / "server.db").exists()
    assert "ci" in cli("token", "list", env=store).stdout
    assert cli("token", "list").stdout.strip() == "no tokens"  # the SQLite state dir's own
    assert cli("token", "revoke", "ci", env=store).returncode == 0
    assert cli("token", "list", env=store).stdout.strip() == "no tokens"


def test_serve_on_an_unreachable_postgresql_is_a_clear_error(cli: CLI, pg_url: str) -> None:
    parts = urlsplit(pg_url)
    wrong = pg_url.replace(f":{parts.password}@", f":{SECRET}@")
    result = cli("serve", "--port", "0", env={"PHASEGATE_STORE": wrong}, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and SECRET not in result.stderr, result.stderr
    assert "***" in result.stderr
    assert not (cli.state_dir / "server.db").exists()
