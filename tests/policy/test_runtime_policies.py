"""Policies asked again before each phase starts, with the run's facts (issue 14 §6): a soft
run-time violation holds the phase for an approval that overrides it (who and why journalled),
a hard one holds it past any approval and a reject rolls the run back; Rego's ``input.run``
and CEL's ``each: run`` give the same verdict; what admission already overrode is not asked
again; a resumed run asks the pack it was admitted with."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, items, write_plan

PLAN = """\
version: 1
name: frozen
vars:
  FREEZE: "{freeze}"
phases:
  - id: build
    rollback: [{{run: echo undo >> ledger}}]
    steps: [{{run: echo build >> ledger}}]
  - id: deploy
    needs: [build]
    rollback: [{{run: echo undo-deploy >> ledger}}]
    steps: [{{run: echo deploy >> ledger}}]
"""

REGO = """\
package team.freeze

import rego.v1

enforcement := "{level}"

msg := sprintf("no deploy during a freeze (started by %v)", [input.run.started_by])

deny contains {{"msg": msg, "path": ["phases", 1]}} if {{
\tinput.run.phase.id == "deploy"
\tinput.run.vars.FREEZE == "yes"
\tinput.run.phases.build == "succeeded"
}}
"""

CEL = """\
level: {level}
rules:
  - each: run
    deny: run.phase.id == 'deploy' && run.vars.FREEZE == 'yes' && run.phases.build == 'succeeded'
    message: no deploy during a freeze
"""


def pack(tmp: Path, level: str, language: str) -> Path:
    directory = tmp / f"pack-{language}-{level}"
    directory.mkdir()
    if language == "rego":
        (directory / "freeze.rego").write_text(REGO.format(level=level))
    else:
        (directory / "freeze.cel.yaml").write_text(CEL.format(level=level))
    return directory


def ledger(cli: CLI) -> list[str]:
    path = cli.cwd / "ledger"
    return path.read_text().split() if path.exists() else []


def events(cli: CLI) -> list[tuple[str, dict[str, object]]]:
    store = SqliteStore(cli.state_dir)
    run_id = store.run_ids()[-1]
    return [(etype, data) for _, _, etype, data in store.events(run_id)]


@pytest.mark.parametrize("language", ["rego", "cel"])
def test_soft_runtime_violation_holds_the_phase_until_an_approval_overrides_it(
    cli: CLI, language: str
) -> None:
    plan = write_plan(cli.cwd, PLAN.format(freeze="yes"))
    policies = pack(cli.cwd, "soft", language)
    held = cli("run", str(plan), "--policies", str(policies))
    # admission passed (input.run is only there at run time); before deploy it holds
    assert held.returncode == 4, held.stderr
    assert "held by soft policy" in held.stderr
    assert ledger(cli) == ["build"]
    status = cli.status()
    assert items(status)["deploy/policy"]["status"] == "awaiting_approval"
    assert "no deploy during a freeze" in items(status)["deploy/policy"]["message"]

    approved = cli("approve", "last", "deploy/policy", "--comment", "CAB-42 signed off")
    assert approved.returncode == 0, approved.stderr
    done = cli("resume", "last")
    assert done.returncode == 0, done.stderr
    assert ledger(cli) == ["build", "deploy"]
    overridden = [d for t, d in events(cli) if t == "policy.overridden"]
    assert len(overridden) == 1
    assert overridden[0]["policy"] == "freeze"
    assert overridden[0]["reason"] == "CAB-42 signed off"
    assert overridden[0]["by"]  # the approver, by name
    assert items(cli.status())["deploy/policy"]["status"] == "succeeded"


@pytest.mark.parametrize("language", ["rego", "cel"])
def test_hard_runtime_violation_is_not_overridden_and_reject_rolls_back(
    cli: CLI, language: str
) -> None:
    plan = write_plan(cli.cwd, PLAN.format(freeze="yes"))
    policies = pack(cli.cwd, "hard", language)
    assert cli("run", str(plan), "--policies", str(policies)).returncode == 4
    # an approval asks the pack again: still hard, still held, deploy never ran
    cli("approve", "last", "deploy/policy", "--comment", "please")
    again = cli("resume", "last")
    assert again.returncode == 4, again.stderr
    assert ledger(cli) == ["build"]
    assert not [d for t, d in events(cli) if t == "policy.overridden"]
    assert items(cli.status())["deploy/policy"]["status"] == "awaiting_approval"

    rejected = cli("reject", "last", "deploy/policy", "--comment", "freeze holds")
    assert rejected.returncode == 0, rejected.stderr
    cli("resume", "last")
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert "deploy" not in ledger(cli)
    assert ledger(cli)[-1] == "undo"


def test_no_violation_at_run_time_runs_through_and_records_the_pass(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN.format(freeze="no"))
    done = cli("run", str(plan), "--policies", str(pack(cli.cwd, "hard", "rego")))
    assert done.returncode == 0, done.stderr
    assert ledger(cli) == ["build", "deploy"]
    # nothing held: no policy item at all, no override
    assert "deploy/policy" not in items(cli.status())


def test_rego_and_cel_see_the_same_run_facts(tmp_path: Path) -> None:
    """The same facts in both languages: weekday/hour/now agree with the clock."""
    from datetime import UTC, datetime

    from phasegate.plan.loader import load_plan
    from phasegate.policy import load_pack
    from phasegate.policy.document import plan_document

    plan = write_plan(tmp_path, PLAN.format(freeze="yes"))
    loaded = load_plan(str(plan))
    document = plan_document(loaded)
    now = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)  # a Saturday
    facts = {
        "id": "r1",
        "phase": {"id": "deploy", "risk": None},
        "now": now.isoformat(),
        "weekday": "sat",
        "hour": 22,
        "started_by": "alice",
        "vars": {"FREEZE": "yes"},
        "phases": {"build": "succeeded", "deploy": "pending"},
    }
    import dataclasses

    at_run = dataclasses.replace(document, data={**document.data, "run": facts})
    weekend = {
        "rego": 'package w\nimport rego.v1\nenforcement := "soft"\n'
        'deny contains {"msg": "weekend", "path": ["phases", 1]} if {\n'
        '\tinput.run.weekday in {"sat", "sun"}\n\tinput.run.hour >= 18\n}\n',
        "cel": "level: soft\nrules:\n  - each: run\n"
        "    deny: run.weekday in ['sat', 'sun'] && run.hour >= 18\n    message: weekend\n",
    }
    found = {}
    for language, text in weekend.items():
        directory = tmp_path / language
        directory.mkdir()
        name = "w.rego" if language == "rego" else "w.cel.yaml"
        (directory / name).write_text(text)
        p = load_pack(directory)
        assert p.evaluate_document(document).violations == []  # not at admission
        verdict = p.evaluate_document(at_run)
        found[language] = [(v.level, tuple(v.path)) for v in verdict.violations]
    assert found["rego"] == found["cel"] == [("soft", ("phases", 1))]


def test_violations_overridden_at_admission_are_not_asked_again(cli: CLI) -> None:
    """A static soft violation overridden at `run` is admission's; the phase check only holds
    for what the run's facts add."""
    plan = write_plan(
        cli.cwd,
        PLAN.format(freeze="no").replace("name: frozen", "name: frozen\nmetadata: {}"),
    )
    directory = cli.cwd / "static"
    directory.mkdir()
    (directory / "owner.rego").write_text(
        textwrap.dedent(
            """\
            package team.owner
            import rego.v1
            enforcement := "soft"
            deny contains {"msg": "say who owns it", "path": ["name"]} if {
            \tnot input.metadata.owner
            }
            """
        )
    )
    refused = cli("run", str(plan), "--policies", str(directory))
    assert refused.returncode == 2  # soft and not overridden: refused before anything runs
    assert ledger(cli) == []
    done = cli(
        "run",
        str(plan),
        "--policies",
        str(directory),
        "--override-policy",
        "owner",
        "--reason",
        "owner is on leave",
    )
    assert done.returncode == 0, done.stderr
    assert ledger(cli) == ["build", "deploy"]
    overridden = [d for t, d in events(cli) if t == "policy.overridden"]
    assert len(overridden) == 1  # admission's, not once more per phase
    assert not [k for k in items(cli.status()) if k.endswith("/policy")]


def test_resume_asks_the_pack_the_run_was_admitted_with(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN.format(freeze="yes"))
    policies = pack(cli.cwd, "soft", "cel")
    assert cli("run", str(plan), "--policies", str(policies)).returncode == 4
    record = SqliteStore(cli.state_dir).get_run("last")
    assert record.options["policies"] == str(policies.resolve())
    # resume without --policies: still held, the recorded pack is asked
    assert cli("resume", "last").returncode == 4
    assert ledger(cli) == ["build"]
    # a pack that disappeared holds the phase (a person decides), never lets it through
    for f in policies.iterdir():
        f.unlink()
    policies.rmdir()
    cli("approve", "last", "deploy/policy")
    held = cli("resume", "last")
    assert held.returncode == 4, held.stderr
    assert "cannot be evaluated" in json.dumps(items(cli.status())["deploy/policy"])
