"""Import a Markdown document with the real CLI and run the plan for real (issue 11).

The markdown-cases documents leave marker files in ``$RUN_DIR``; a faithful, safe import is one
whose run creates the markers the document runs forward and none of the ones it must not. So a
test checks behaviour by running, not by reading YAML::

    case = import_case(cli, "01-conditional-branches.md")
    ran = case.run()
    assert "schema-deployed" in ran.markers and "SCHEMA-DROPPED" not in ran.markers

Everything goes through ``phasegate`` subprocesses (``import``, ``run``, ``status --json``,
``approve``, ``resume``, ``rollback``) against the CLI fixture's state directory in tmp, without
a terminal (stdin is empty), so a manual gate pauses the run (exit 4) instead of asking.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CLI

_SHARED = Path(os.environ.get("PHASEGATE_MD_CASES", "/work/shared/markdown-cases"))
CASES_DIR = _SHARED if _SHARED.is_dir() else Path(__file__).parent / "cases"
_RUN_FILES = {"plan.yaml", "outputs", "logs"}  # what phasegate itself keeps in $RUN_DIR


def case_path(name: str) -> Path:
    """``"01"`` or ``"01-conditional-branches.md"`` -> the document's path."""
    if (CASES_DIR / name).is_file():
        return CASES_DIR / name
    found = sorted(CASES_DIR.glob(f"{name}-*.md"))
    if not found:
        raise FileNotFoundError(f"no markdown case {name!r} in {CASES_DIR}")
    return found[0]


@dataclass
class Ran:
    """One `phasegate run`/`resume`/`rollback` process and what it left behind."""

    returncode: int
    stdout: str
    stderr: str
    status: dict[str, Any]  # `phasegate status --json` of the run (the journal's view)
    markers: set[str]  # files the plan's commands created in $RUN_DIR

    @property
    def run_id(self) -> str:
        return str(self.status["run"]["id"])

    def items(self) -> list[dict[str, Any]]:
        """Every forward item (steps and gates) in journal order, with its phase id."""
        found = []
        for phase in self.status.get("phases", []):
            for item in phase["items"]:
                found.append({**item, "phase": phase["id"]})
        return found

    def awaiting(self) -> list[dict[str, Any]]:
        """Items waiting for a human (manual gates, approvals)."""
        return [i for i in self.items() if i["status"] in ("awaiting_approval", "waiting")]


@dataclass
class Imported:
    cli: CLI
    doc: Path
    returncode: int
    stderr: str
    report: dict[str, Any]  # `phasegate import --json`
    plan_path: Path
    plan: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> Any:
        return self.cli("validate", str(self.plan_path))

    def run(self, *args: str) -> Ran:
        result = self.cli("run", str(self.plan_path), "--no-output", *args, input="")
        return _ran(self.cli, result)

    def approve(self, ran: Ran) -> Ran:
        """Approve everything the run waits for, then resume it."""
        approved = self.cli("approve", ran.run_id, input="")
        assert approved.returncode == 0, approved.stderr
        return _ran(self.cli, self.cli("resume", ran.run_id, "--no-output", input=""))

    def rollback(self, ran: Ran) -> Ran:
        return _ran(self.cli, self.cli("rollback", ran.run_id, "--no-output", input=""))


def import_case(cli: CLI, name: str | Path, text: str | None = None) -> Imported:
    """Import a case (by number or file name), a path, or ``text`` written to ``name``."""
    if text is not None:
        doc = cli.cwd / str(name)
        doc.write_text(text, encoding="utf-8")
    elif isinstance(name, Path):
        doc = name
    else:
        doc = case_path(name)
    plan_path = cli.cwd / f"{doc.stem}.plan.yaml"
    result = cli("import", str(doc), "-o", str(plan_path), "--json")
    report: dict[str, Any] = {}
    if result.stdout.strip():
        report = json.loads(result.stdout)
    plan: dict[str, Any] = {}
    if result.returncode == 0 and plan_path.exists():
        plan = yaml.safe_load(plan_path.read_text(encoding="utf-8")) or {}
    return Imported(cli, doc, result.returncode, result.stderr, report, plan_path, plan)


def _ran(cli: CLI, result: Any) -> Ran:
    status: dict[str, Any] = {}
    markers: set[str] = set()
    shown = cli("status", "last", "--json")
    if shown.returncode == 0 and shown.stdout.strip():
        status = json.loads(shown.stdout)
        run_dir = Path(status["vars"]["RUN_DIR"])
        if run_dir.is_dir():
            markers = {p.name for p in run_dir.iterdir() if p.name not in _RUN_FILES}
    return Ran(result.returncode, result.stdout, result.stderr, status, markers)
