"""Admission on the command line, through the real `phasegate` process: validate reports
(exit 2 for hard), run refuses hard and unoverridden soft violations before anything runs,
and an override runs the plan with who and why in its journal."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from phasegate import identity
from phasegate.store.sqlite import SqliteStore
from tests import cli_forks
from tests.policy.conftest import CATALOGUE, STARTER

SOFT = """\
version: 1
name: installer
phases:
  - id: install
    steps:
      - run: echo hello > {out}
      - run: true || curl -fsSL http://127.0.0.1:9/install.sh | sh
"""
ADVISORY = """\
package team.advice

import rego.v1

warn contains {"msg": "a plan should say who owns it", "path": ["name"]} if {
\tnot input.metadata.owner
}
"""


def phasegate(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    argv = ["--state-dir", str(tmp / "state"), *args]
    return cli_forks.phasegate(argv, cwd=tmp, env={**base, "NO_COLOR": "1", **(env or {})})


def runs(tmp: Path) -> list[str]:
    if not (tmp / "state").exists():
        return []
    return SqliteStore(tmp / "state").run_ids()


def test_validate_lists_located_violations_and_exits_2_for_hard(tmp_path: Path) -> None:
    plan = CATALOGUE / "18-everything-wrong.yaml"
    done = phasegate(tmp_path, "validate", str(plan), "--policies", str(STARTER))
    assert done.returncode == 2, done.stderr
    assert f"{plan}:10:3: vars.API_KEY: [hard] no-literal-secrets" in done.stderr
    assert "[soft] risky-commands-approved" in done.stderr
    assert "refused by policy: 2 hard violations" in done.stderr
    # The same with --json, and with the pack given before the verb.
    done = phasegate(tmp_path, "--policies", str(STARTER), "validate", str(plan), "--json")
    assert done.returncode == 2
    shown = json.loads(done.stdout)
    assert shown["admitted"] is False
    found = {(v["policy"], v["field"], v["level"], v["line"]) for v in shown["policy_violations"]}
    assert ("no-literal-secrets", "vars.API_KEY", "hard", 10) in found
    assert len(found) == 5


def test_validate_reports_soft_violations_and_exits_0(tmp_path: Path) -> None:
    plan = tmp_path / "soft.yaml"
    plan.write_text(SOFT.format(out=tmp_path / "out"))
    done = phasegate(tmp_path, "validate", str(plan), env={"PHASEGATE_POLICIES": str(STARTER)})
    assert done.returncode == 0, done.stderr
    assert f"{plan}:7:9: phases[0].steps[1].run: [soft] risky-commands-approved" in done.stderr
    assert "--override-policy risky-commands-approved --reason TEXT" in done.stderr


def test_run_refuses_a_soft_violation_without_an_override(tmp_path: Path) -> None:
    plan = tmp_path / "soft.yaml"
    plan.write_text(SOFT.format(out=tmp_path / "out"))
    done = phasegate(tmp_path, "run", str(plan), "--policies", str(STARTER))
    assert done.returncode == 2
    assert "refused by policy (1 soft violation without an override)" in done.stderr
    assert not (tmp_path / "out").exists() and runs(tmp_path) == []
    # An override without a reason is refused too.
    done = phasegate(
        tmp_path, "run", str(plan), "--policies", str(STARTER),
        "--override-policy", "risky-commands-approved",
    )  # fmt: skip
    assert done.returncode == 2 and "needs a reason" in done.stderr
    assert runs(tmp_path) == []


def test_an_override_runs_the_plan_and_the_journal_says_who_and_why(tmp_path: Path) -> None:
    plan = tmp_path / "soft.yaml"
    plan.write_text(SOFT.format(out=tmp_path / "out"))
    done = phasegate(
        tmp_path, "run", str(plan), "--policies", str(STARTER),
        "--override-policy", "risky-commands-approved", "--reason", "vetted in OPS-1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out").read_text() == "hello\n"
    [run_id] = runs(tmp_path)
    events = SqliteStore(tmp_path / "state").events(run_id)
    kinds = [e.type for e in events]
    # Journalled before the run started, after it was created.
    assert kinds[:2] == ["run.created", "policy.overridden"]
    assert kinds.index("run.started") > kinds.index("policy.overridden")
    assert kinds[-1] == "run.finished"
    override = events[1].data
    assert override["policy"] == "risky-commands-approved"
    assert override["by"] == identity.actor()
    assert override["reason"] == "vetted in OPS-1"
    assert "phases[0].steps[1].run" in override["violations"][0]
    warnings = [e.data["message"] for e in events if e.type == "warning"]
    assert any("overridden by" in w and "vetted in OPS-1" in w for w in warnings)


def test_hard_violations_cannot_be_overridden(tmp_path: Path) -> None:
    plan = CATALOGUE / "10-literal-token.yaml"
    done = phasegate(
        tmp_path, "run", str(plan), "--policies", str(STARTER),
        "--override-policy", "no-literal-secrets", "--reason", "trust me",
    )  # fmt: skip
    assert done.returncode == 2
    assert "hard policies cannot be overridden" in done.stderr
    assert "tk-9f8e7d6c5b4a" not in done.stderr + done.stdout  # the secret is never echoed
    assert runs(tmp_path) == []


def test_advisory_violations_run_and_are_journalled(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "owner.rego").write_text(ADVISORY)
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nname: hello\nphases:\n  - id: p\n    steps: [{run: 'true'}]\n")
    done = phasegate(tmp_path, "run", str(plan), "--policies", str(pack))
    assert done.returncode == 0, done.stderr
    assert "[advisory] owner: a plan should say who owns it" in done.stderr
    [run_id] = runs(tmp_path)
    events = SqliteStore(tmp_path / "state").events(run_id)
    assert any(e.type == "warning" and "policy advisory" in e.data["message"] for e in events)


def test_a_broken_pack_is_a_located_usage_error(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "bad.rego").write_text(
        "package bad\n\nimport rego.v1\n\ndeny contains x if {\n  x := 1 +\n}\n"
    )
    plan = CATALOGUE / "01-weight-no-analysis.yaml"
    done = phasegate(tmp_path, "validate", str(plan), "--policies", str(pack))
    assert done.returncode == 2
    assert f"{pack / 'bad.rego'}:6:" in done.stderr and "does not compile" in done.stderr
    assert "Traceback" not in done.stderr
    (pack / "bad.rego").unlink()
    (pack / "bad.cel.yaml").write_text("rules:\n  - each: steps\n    deny: 'step.run ==' \n")
    done = phasegate(tmp_path, "validate", str(plan), "--policies", str(pack))
    assert done.returncode == 2 and f"{pack / 'bad.cel.yaml'}:3:11" in done.stderr
    (pack / "bad.cel.yaml").write_text("rules:\n  - each: step\n    deny: 'true'\n")
    done = phasegate(tmp_path, "validate", str(plan), "--policies", str(pack))
    assert done.returncode == 2 and "each is 'step', not one of" in done.stderr
    done = phasegate(tmp_path, "validate", str(plan), "--policies", str(tmp_path / "nope"))
    assert done.returncode == 2 and "no such directory" in done.stderr


def test_policy_test_fails_when_twins_disagree_or_a_case_is_wrong(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "tests").mkdir(parents=True)
    (pack / "no-sleep.rego").write_text(
        "package t\n\nimport rego.v1\n\n"
        'deny contains {"msg": "no sleep", "path": ["phases", i, "steps", j, "run"]} if {\n'
        "\tsome i, phase in input.phases\n\tsome j, step in phase.steps\n"
        '\tcontains(step.run, "sleep")\n}\n'
    )
    # The CEL twin drifted: it looks for "wait" instead.
    (pack / "no-sleep.cel.yaml").write_text(
        "rules:\n  - each: steps\n    deny: \"has(step.run) && step.run.contains('wait')\"\n"
        "    at: [run]\n"
    )
    (pack / "tests" / "cases.yaml").write_text(
        "cases:\n  - name: a sleep\n"
        "    plan: {version: 1, name: x, phases: [{id: a, steps: [{run: sleep 1}]}]}\n"
        '    expect: [{policy: no-sleep, field: "phases[0].steps[0].run"}]\n'
    )
    done = phasegate(tmp_path, "policy", "test", str(pack))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ok   [rego] a sleep" in done.stdout
    assert "FAIL [cel] a sleep" in done.stdout
    assert "missing: no-sleep at phases[0].steps[0].run" in done.stdout
    assert done.stdout.rstrip().endswith("1 passed, 1 failed")
    shown = json.loads(phasegate(tmp_path, "policy", "test", str(pack), "--json").stdout)
    assert (shown["passed"], shown["failed"]) == (1, 1)
