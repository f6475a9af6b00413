"""validate, plan (dry run) and schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from tests.conftest import CLI, items, write_plan

ROOT = Path(__file__).resolve().parents[2]


def test_schema_is_valid_json_schema_and_accepts_the_examples(cli: CLI) -> None:
    result = cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in [
        ROOT / "examples" / "quickstart.yaml",
        *sorted((ROOT / "examples").rglob("*.yaml")),
    ]:
        document = yaml.safe_load(path.read_text())
        if any(part.endswith("-fixtures") for part in path.parts) and not (
            isinstance(document, dict) and "phases" in document
        ):
            continue  # a sandbox's data (a program's readiness evidence, …), not a plan
        errors = list(validator.iter_errors(document))
        assert not errors, (path, errors[0].message if errors else None)
    bad = {"version": 1, "name": "x", "phases": [{"id": "p", "steps": [{"run": 1}]}]}
    assert list(validator.iter_errors(bad))


def test_plan_previews_waves_and_runs_nothing(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: preview
        vars: {TOKEN: {value: hunter22, secret: true}, WHERE: here}
        phases:
          - {id: a, steps: [{run: "touch ran-a", undo: "rm ran-a"}]}
          - {id: b, steps: [{run: "touch ran-b"}], gates: [{file: ran-b}]}
          - {id: c, needs: [a, b], steps: [{run: "touch ran-c"}]}
    """,
    )
    result = cli("plan", str(plan))
    assert result.returncode == 0, result.stderr
    assert "wave 1: a, b  (concurrent)" in result.stdout
    assert "wave 2: c" in result.stdout
    assert "undo: rm ran-a" in result.stdout
    assert "hunter22" not in result.stdout and "TOKEN = ***" in result.stdout
    data = json.loads(cli("plan", str(plan), "--json").stdout)
    assert data["waves"] == [["a", "b"], ["c"]]
    assert not list(cli.cwd.glob("ran-*"))
    assert not cli.state_dir.exists()


def test_validate_reports_counts(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: counted
        phases: [{id: a, steps: [{run: "true"}], gates: [{expr: "true"}]}]
    """,
    )
    data = json.loads(cli("validate", str(plan), "--json").stdout)
    assert data == {
        "valid": True,
        "executable": True,
        "blockers": [],
        "plan": "counted",
        "phases": 1,
        "steps": 1,
        "gates": 1,
        "triggers": 0,
        "warnings": [],
    }


def test_hold_for_requires_the_check_to_keep_passing(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: holding
        phases:
          - id: steady
            steps: [{run: "touch up"}]
            gates:
              - {command: "test -f up", hold_for: 400ms, every: 100ms}
          - id: flapping
            needs: [steady]
            steps: [{run: "(sleep 0.3; rm up) > /dev/null 2>&1 &"}]
            gates:
              - {command: "test -f up", hold_for: 2s, every: 100ms}
    """,
    )
    assert cli("run", str(plan)).returncode == 1
    found = items(cli.status())
    assert found["steady/gate:gate-1"]["status"] == "passed"
    flapping = found["flapping/gate:gate-1"]
    assert flapping["status"] == "failed"
    assert "held for" in flapping["message"]
