"""Step logs on a PostgreSQL store are readable from any machine (issue 12 §3): a plan runs
with ``--store postgresql://…`` in one state directory, and ``phasegate logs`` in another
(another host, as far as files go) reads every line from the database. Secrets were masked
before anything was stored: no row of any table holds the secret. Real CLI processes, the
session's real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.conftest import CLI, write_plan
from tests.store.pg_cluster import database_url

SECRET = "pa55-Word-7731"
PLAN = """
    version: 1
    name: far
    vars:
      TOKEN: {env: FAR_TOKEN, secret: true}
    phases:
      - id: p
        steps:
          - id: build
            run: |
              seq 1 20000
              echo "deploying with $TOKEN"
              echo "token=$TOKEN" >> "$PHASEGATE_OUTPUT"
          - id: silent
            run: "true"
"""


@pytest.fixture
def pg_url(postgres_server: str, cli: CLI) -> str:
    return database_url(cli.cwd.parent / "database")


def test_logs_of_a_run_read_from_another_state_dir(cli: CLI, pg_url: str, tmp_path: Path) -> None:
    plan = write_plan(cli.cwd, PLAN)
    ran = cli("run", str(plan), "--store", pg_url, env={"FAR_TOKEN": SECRET})
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(cli("history", "--json", "--store", pg_url).stdout)[0]["id"]
    assert not list((cli.state_dir / "runs" / run_id).rglob("*.log"))  # not in files

    elsewhere = CLI(tmp_path / "other-host", tmp_path)
    shown = elsewhere("logs", run_id, "build", "--store", pg_url)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("── p/build (") and "***" in lines[0] and SECRET not in lines[0]
    printed = lines[lines.index("1") :]
    assert printed[:20000] == [str(n) for n in range(1, 20001)]
    assert printed[20000] == "deploying with ***"
    assert printed[-1].startswith("=== exit 0 in ")

    as_json = json.loads(elsewhere("logs", run_id, "--json", "--store", pg_url).stdout)
    assert [(e["key"], e["status"]) for e in as_json] == [
        ("p/build", "succeeded"),
        ("p/silent", "succeeded"),
    ]
    assert as_json[0]["text"].splitlines()[-2] == "deploying with ***"
    assert (as_json[1]["text"], as_json[1]["path"]) == ("", None)
    assert not (tmp_path / "other-host" / "phasegate.db").exists()

    with psycopg.connect(pg_url) as conn:
        chunks = conn.execute(
            "SELECT count(*), sum(octet_length(data)) FROM log_chunks WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        assert chunks is not None and chunks[0] >= 2  # more than 64 KiB: several flushes
        assert chunks[1] == len(as_json[0]["text"].encode())
        for table in ("log_chunks", "events", "items", "phases", "runs", "requests"):
            found = conn.execute(
                f"SELECT count(*) FROM {table} t WHERE position(%s in t::text) > 0"
                + (
                    " OR position(%s in encode(data, 'escape')) > 0"
                    if table == "log_chunks"
                    else ""
                ),
                (SECRET, SECRET) if table == "log_chunks" else (SECRET,),
            ).fetchone()
            assert found == (0,), f"the secret is in {table}"
