"""Readiness: evidence read right before the child starts, verdict / score / blockers / hard
checks, journalled with the evidence's sha256; not ready pauses the program for a human."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import textwrap
from pathlib import Path

import pytest

from phasegate.engine.readiness import evaluate, judge_document
from phasegate.plan.program import Readiness
from tests.conftest import CLI, items
from tests.programs.builders import child_plan, ledger

SHELL = "bash --noprofile --norc -eo pipefail -c"
READY = Readiness.model_validate(
    {
        "evidence": {"file": "state.yaml"},
        "verdict": "doc.dor.status",
        "score": "doc.dor.score",
        "blockers": "doc.dor.blockers",
    }
)


@pytest.mark.parametrize(
    ("doc", "blockers"),
    [
        ({"dor": {"status": "pass", "score": 9, "blockers": []}}, []),
        ({"dor": {"status": "pass", "score": 8}}, []),  # min_score is inclusive
        ({"dor": {"status": "pass", "score": 7.5}}, ["score 7.5 < 8"]),
        ({"dor": {"status": "needs_decision", "score": 9}}, ["verdict needs_decision"]),
        ({"dor": {"status": "maybe", "score": 9}}, ["doc.dor.status is 'maybe', not one of"]),
        ({"dor": {"status": "pass", "score": "9"}}, ["doc.dor.score is '9', not a number"]),
        ({"dor": {}}, ["doc.dor.status is missing", "doc.dor.score is missing"]),
        (
            {"dor": {"status": "needs_work", "score": 5, "blockers": ["schema v2 not merged"]}},
            ["verdict needs_work", "score 5 < 8", "blocker: schema v2 not merged"],
        ),
        ({"dor": {"status": "pass", "score": 9, "blockers": ["legal sign-off"]}}, ["blocker:"]),
    ],
)
def test_judge_document(doc: dict[str, object], blockers: list[str]) -> None:
    _, _, found = judge_document(READY, doc)
    assert len(found) == len(blockers)
    for got, want in zip(found, blockers, strict=True):
        assert got.startswith(want)


def test_evidence_file_hash_and_missing_file(tmp_path: Path) -> None:
    plan_file = tmp_path / "program.yaml"
    text = "dor: {status: pass, score: 9}\n"
    (tmp_path / "state.yaml").write_text(text)
    result = asyncio.run(evaluate(READY, plan_file=plan_file, shell=SHELL))
    assert result.ready and result.verdict == "pass" and result.score == 9
    assert result.sha256 == hashlib.sha256(text.encode()).hexdigest()
    (tmp_path / "state.yaml").unlink()
    result = asyncio.run(evaluate(READY, plan_file=plan_file, shell=SHELL))
    assert not result.ready and result.verdict == "needs_work"
    assert "cannot be read" in result.blockers[0]


def test_evidence_command_json_and_failing_command(tmp_path: Path) -> None:
    doc = {"dor": {"status": "pass", "score": 10}}
    ready = READY.model_copy(
        update={
            "evidence": READY.evidence.model_copy(  # type: ignore[union-attr]
                update={
                    "file": None,
                    "command": [sys.executable, "-c", f"print({json.dumps(json.dumps(doc))})"],
                }
            )
        }
    )
    result = asyncio.run(evaluate(ready, plan_file=tmp_path / "p.yaml", shell=SHELL))
    assert result.ready, result.blockers
    broken = ready.model_copy(
        update={"evidence": ready.evidence.model_copy(update={"command": "echo nope; exit 3"})}  # type: ignore[union-attr]
    )
    result = asyncio.run(evaluate(broken, plan_file=tmp_path / "p.yaml", shell=SHELL))
    assert not result.ready and "exited 3" in result.blockers[0]


def _program(cli: CLI, state: str) -> Path:
    (cli.cwd / "children").mkdir()
    for name in ("events-model", "shadow-mode"):
        (cli.cwd / "children" / f"{name}.yaml").write_text(child_plan(name))
    (cli.cwd / "state.yaml").write_text(state)
    path = cli.cwd / "program.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            version: 1
            name: program
            phases:
              - id: events-model
                run_plan: children/events-model.yaml
                vars: {{LEDGER: {cli.cwd / "ledger.txt"}}}
              - id: shadow-mode
                needs: [events-model]
                run_plan: children/shadow-mode.yaml
                vars: {{LEDGER: {cli.cwd / "ledger.txt"}}}
                ready:
                  evidence: {{file: state.yaml}}
                  verdict: doc.dor.status
                  score: doc.dor.score
                  blockers: doc.dor.blockers
                  checks:
                    - command: test -f approved.flag
            """
        ).lstrip()
    )
    return path


def test_not_ready_child_pauses_program_with_blockers_then_resume_reevaluates(cli: CLI) -> None:
    plan = _program(cli, "dor: {status: needs_work, score: 6, blockers: [replay tool missing]}\n")
    result = cli("run", str(plan))
    assert result.returncode == 4, result.stderr
    parent = next(r for r in cli.json("history") if r["plan_name"] == "program")
    status = cli.status(str(parent["id"]))
    assert status["run"]["status"] == "paused"
    message = status["pause"]["message"]
    for blocker in ("verdict needs_work", "score 6 < 8", "replay tool missing", "approved.flag"):
        assert blocker in message
    # Safety first: the child that is not ready never started (no run, no ledger line).
    assert [c["phase"] for c in status["program"]["children"]] == ["events-model"]
    assert not any(line.startswith("shadow-mode") for line in ledger(cli.cwd))
    first = status["program"]["readiness"]["shadow-mode"]
    assert first["ready"] is False
    assert first["sha256"] == hashlib.sha256((cli.cwd / "state.yaml").read_bytes()).hexdigest()

    # Fixing the evidence is not enough while the hard check fails: resume asks again.
    (cli.cwd / "state.yaml").write_text("dor: {status: pass, score: 9, blockers: []}\n")
    assert cli("resume", str(parent["id"])).returncode == 4
    again = cli.status(str(parent["id"]))["program"]["readiness"]["shadow-mode"]
    # The document says pass, the hard check does not: the verdict is needs_work.
    assert again["verdict"] == "needs_work" and again["score"] == 9
    assert len(again["blockers"]) == 1 and "approved.flag" in again["blockers"][0]
    (cli.cwd / "approved.flag").write_text("yes")
    assert cli("resume", str(parent["id"])).returncode == 0
    final = cli.status(str(parent["id"]))
    assert final["run"]["status"] == "succeeded"
    assert items(final)["shadow-mode/child"]["status"] == "succeeded"
    assert ledger(cli.cwd).count("shadow-mode-step-1") == 1
    assert final["program"]["readiness"]["shadow-mode"]["ready"] is True
