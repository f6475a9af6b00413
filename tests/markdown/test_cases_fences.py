"""Markdown cases 05, 06, 12, 13, 15, 10, 11 (issue 11): what is inside fences and blocks.

Each case document (tests/markdown/cases/, copied from the shared cases) is imported with the
real CLI and the imported plan is run for real; the assertions read the marker files the
commands leave in $RUN_DIR and the run's journal (`status --json`).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# -- 06 never-ending commands --------------------------------------------------------------


def test_06_watch_tail_and_w_never_hang_a_run(cli: CLI) -> None:
    plan = _import(cli, "06")
    text = plan.read_text(encoding="utf-8")
    for forever in ("kubectl get pods -w", "tail -f /var/log/app.log", "watch -n 5"):
        runnable = [
            ln
            for ln in text.splitlines()
            if forever in ln and "[not run" not in ln and "manual" not in ln
        ]
        assert not runnable, (forever, runnable)
    # stub kubectl/tail/watch so that a wrongly imported step would show up as a marker
    env = _stub(cli, "kubectl", 'touch "$RUN_DIR/kubectl-ran"; sleep 600')
    _stub(cli, "watch", 'touch "$RUN_DIR/watch-ran"; sleep 600')
    ran = _run(cli, plan, env=env, approvals=3)
    assert "deployed" in ran.markers()
    assert not {"kubectl-ran", "watch-ran"} & ran.markers()
    # the manual watch steps and the manual gate waited for a person, then the run went on
    # to the health check (port 9 answers nothing, so it fails and rolls back: exit 1)
    manual = [i for i in ran.items() if i["command"] == "pause until approved"]
    assert [("kubectl get pods -w" in m["name"], m["status"]) for m in manual] == [
        (True, "succeeded"),
        (False, "succeeded"),
    ]
    assert ran.code == 1, ran.output
    assert "timed out" not in ran.output
