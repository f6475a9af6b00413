"""Markdown cases 05, 12, 13, 15, 10, 11 (issue 11): what is inside fences and blocks.

Each case document (tests/markdown/cases/, copied from the shared cases) is imported with the
real CLI and the imported plan is run for real; the assertions read the marker files the
commands leave in $RUN_DIR and the run's journal (`status --json`).
"""

from __future__ import annotations

import http.server
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLI

CASES = Path(__file__).resolve().parent / "cases"


@dataclass
class Ran:
    code: int
    run_dir: Path
    status: dict[str, Any]
    output: str

    def markers(self) -> set[str]:
        return {p.name for p in self.run_dir.iterdir() if p.is_file()} - {"plan.yaml"}

    def items(self) -> list[dict[str, Any]]:
        return [item for phase in self.status["phases"] for item in phase["items"]]

    def commands(self) -> str:
        return "\n".join(str(item.get("command") or "") for item in self.items())


def _import(cli: CLI, case: str, replace: dict[str, str] | None = None) -> Path:
    source = next(CASES.glob(f"{case}-*.md"))
    text = source.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    doc = cli.cwd / source.name
    doc.write_text(text, encoding="utf-8")
    plan = cli.cwd / "plan.yaml"
    result = cli("import", str(doc), "-o", str(plan))
    assert result.returncode == 0, result.stderr
    return plan


def _run(cli: CLI, plan: Path, env: dict[str, str] | None = None, approvals: int = 0) -> Ran:
    """Run the plan; approve each manual pause (at most ``approvals``) and resume."""
    result = cli("run", str(plan), env=env)
    output = result.stdout + result.stderr
    run_id = json.loads(cli("status", "--json").stdout)["run"]["id"]
    code = result.returncode
    while code == 4 and approvals > 0:
        approvals -= 1
        assert cli("approve", run_id).returncode == 0
        resumed = cli("resume", run_id, env=env)
        output += resumed.stdout + resumed.stderr
        code = resumed.returncode
    status = json.loads(cli("status", run_id, "--json").stdout)
    return Ran(code, Path(status["vars"]["RUN_DIR"]), status, output)


def _stub(cli: CLI, name: str, body: str) -> dict[str, str]:
    """A program on PATH for the run (e.g. `dig`, which the machine may not have)."""
    bindir = cli.cwd / "bin"
    bindir.mkdir(exist_ok=True)
    path = bindir / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


# -- 05 prose inside shell fences ----------------------------------------------------------


def test_05_zone_lines_and_urls_are_not_run_and_the_rollback_runs_through_prose(
    cli: CLI,
) -> None:
    plan = _import(cli, "05")
    env = _stub(cli, "dig", 'touch "$RUN_DIR/dig-ran"')
    ran = _run(cli, plan, env=env, approvals=1)
    # Phase 3 fails (`false`): the run rolls back, and the rollback fence's prose line
    # ("This stops the static pods") does not stop it half-way.
    assert ran.code == 1, ran.output
    assert {"stopped", "restored", "dig-ran"} <= ran.markers()
    assert ran.status["rollback"]["status"] == "rolled_back"
    commands = ran.commands()
    assert "command not found" not in ran.output
    # The records are a manual step a person does at the provider (approved before `dig`).
    manual = [i for i in ran.items() if i["command"] == "pause until approved"]
    assert len(manual) == 1 and "Type: A" in manual[0]["name"]
    assert manual[0]["status"] == "succeeded"
    names = [i["name"] for i in ran.items()]
    assert names.index(manual[0]["name"]) < next(
        n for n, i in enumerate(ran.items()) if "dig +short" in str(i["command"])
    )
    # The URL is a reference, never a step.
    assert "https://docs.example.invalid" not in commands


def test_05_import_reports_each_text_line_for_review_with_its_markdown_line(cli: CLI) -> None:
    doc = next(CASES.glob("05-*.md"))
    report = json.loads(cli("import", str(doc), "--json").stdout)
    review = {(r["line"], r["why"].split(",")[0]) for r in report["review"]}
    assert {(7, "config"), (8, "config"), (9, "config"), (17, "url"), (30, "prose")} <= review


# -- 06 never-ending commands: tests/markdown/test_cases_monitors.py (monitors of the phase)


# -- 12 placeholders -----------------------------------------------------------------------


def test_12_placeholders_need_binding_with_their_lines_and_run_once_bound(cli: CLI) -> None:
    plan = _import(cli, "12")
    doc = cli.cwd / next(CASES.glob("12-*.md")).name
    for target in (plan, doc):
        checked = cli("validate", str(target))
        assert checked.returncode == 2, checked.stdout + checked.stderr
        said = checked.stdout + checked.stderr
        assert "placeholder `<node>`" in said and ".md:6" in said
        assert "placeholder `your_new_token_here`" in said and ".md:28" in said
    refused = cli("run", str(plan))
    assert refused.returncode == 2
    assert "not executable as written" in refused.stdout + refused.stderr
    assert not (cli.state_dir / "runs").exists() or not any((cli.state_dir / "runs").iterdir())
    # bound: the values reach the commands, as the reader would have typed them
    env = _stub(cli, "kubectl", 'echo "$@" > "$RUN_DIR/kubectl-args"')
    env |= {"NODE": "worker-7", "NEW_TOKEN": "s3cr3t"}
    ran = _run(cli, plan, env=env)
    assert ran.code == 0, ran.output
    assert (ran.run_dir / "kubectl-args").read_text().split() == [
        "drain",
        "worker-7",
        "--ignore-daemonsets",
    ]
    # Phase 2 went `cd "$RUN_DIR"`: in one terminal, Phase 4 writes there too (issue 11 §4)
    assert (ran.run_dir / "token.txt").read_text().strip() == "s3cr3t"


def test_12_shell_state_carries_across_fences(cli: CLI) -> None:
    plan = _import(cli, "12")
    env = _stub(cli, "kubectl", "true") | {"NODE": "n", "NEW_TOKEN": "t"}
    ran = _run(cli, plan, env=env)
    assert ran.code == 0, ran.output
    # one terminal: Phase 2's export, plain assignment and `cd "$RUN_DIR"` reach Phase 3
    assert (ran.run_dir / "bucket.txt").read_text().strip() == "gs://new-state/terraform"
    assert not (cli.cwd / "bucket.txt").exists()


# -- 13 expectations -----------------------------------------------------------------------


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n"  # a healthy endpoint whose body does not say "200"
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_13_curl_f_http_200_passes_and_each_sql_statement_is_its_own_check(
    cli: CLI, health_port: int
) -> None:
    plan = _import(cli, "13", {"18731": str(health_port)})
    database = cli.cwd / "app.db"
    with sqlite3.connect(database) as db:
        db.executescript(
            "CREATE TABLE a (x TEXT); CREATE TABLE b (y TEXT);"
            "INSERT INTO a VALUES (NULL); INSERT INTO b VALUES (NULL);"
        )
    ran = _run(cli, plan, env={"DATABASE_URL": str(database)})
    assert ran.code == 0, ran.output
    gates = [i for i in ran.items() if i["kind"] != "step"]
    assert len(gates) == 3
    assert all(g["status"] == "passed" for g in gates), gates
    assert "one statement at a time" not in ran.output
    # an orphaned row in b fails exactly the second SQL check
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO b VALUES ('orphan')")
    failed = _run(cli, plan, env={"DATABASE_URL": str(database)})
    assert failed.code == 1, failed.output
    statuses = [g["status"] for g in failed.items() if g["kind"] != "step"]
    assert statuses[0] == "passed" and statuses[1] == "passed" and statuses[2] == "failed"
