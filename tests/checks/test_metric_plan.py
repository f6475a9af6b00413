"""The ``metric`` check at plan load, through the real loader: errors point at file:line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from phasegate.checks.metric import MetricCheck
from phasegate.errors import PlanError
from phasegate.metrics.prometheus import PrometheusProvider
from phasegate.plan.loader import load_plan_text
from phasegate.plan.schema import plan_json_schema

PLAN = """\
version: 1
name: metrics
vars:
  PROM: http://127.0.0.1:9090
phases:
  - id: canary
    gates:
      - name: error rate
        metric: sum(rate(errors[1m]))
{check}
"""


def load_gate(tmp_path: Path, check: str) -> Any:
    text = PLAN.format(check=textwrap.indent(textwrap.dedent(check).strip("\n"), " " * 8))
    return load_plan_text(text, tmp_path / "plan.yaml")


def problems(tmp_path: Path, check: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_gate(tmp_path, check)
    return [p.render() for p in caught.value.problems]


def test_a_valid_metric_gate_loads(tmp_path: Path) -> None:
    loaded = load_gate(
        tmp_path,
        """
        provider: {prometheus: {url: "${PROM}", timeout: 5s}}
        failure: value > 0.01
        success: value <= 0.01
        no_data: pause
        aggregate: avg
        """,
    )
    check = loaded.plan.phases[0].gates[0]
    assert isinstance(check, MetricCheck)
    assert isinstance(check.provider, PrometheusProvider)
    assert check.provider.timeout == 5.0
    assert check.no_data == "pause"


@pytest.mark.parametrize(
    ("check", "line", "says", "hint"),
    [
        (
            "provider: {promethus: {url: x}}\nfailure: value > 1",
            10,
            "provider.promethus: unknown provider kind 'promethus'",
            "did you mean 'prometheus'?",
        ),
        (
            "provider:\n  prometheus: {url: x}\n  http: {url: y}\nfailure: value > 1",
            12,
            "a provider has exactly one kind, this one names 2: prometheus, http",
            "use one provider per check",
        ),
        (
            "provider: {prometheus: {url: x}}",
            8,
            "needs a condition: `failure:`, `success:` or both",
            None,
        ),
        (
            "provider: {prometheus: {url: x}}\nfailure: value >",
            11,
            "failure: invalid CEL expression 'value >'",
            "CEL syntax",
        ),
        (
            "provider: {prometheus: {url: x}}\nsuccess: value < 1 &&",
            11,
            "success: invalid CEL expression",
            None,
        ),
        (
            "provider:\n  prometheus:\n    url: x\n    tiemout: 3s\nfailure: value > 1",
            13,
            "provider.prometheus.tiemout: unknown key 'tiemout'",
            "did you mean 'timeout'?",
        ),
        (
            "provider:\n  prometheus:\n    headers: {A: b}\nfailure: value > 1",
            12,
            "provider.prometheus.url: missing required key 'url'",
            None,
        ),
        (
            "provider: {prometheus: {url: x}, url: y}\nfailure: value > 1",
            10,
            "unknown key 'url' beside the provider kind 'prometheus'",
            "options go inside the kind",
        ),
        (
            "provider: prom\nfailure: value > 1",
            10,
            "a provider by name ('prom') is not supported yet",
            "write the provider inline",
        ),
        (
            "provider: {prometheus: [x]}\nfailure: value > 1",
            10,
            "the options of a prometheus provider must be a mapping",
            "keys allowed here: timeout, url, headers, verify_tls",
        ),
        (
            "provider: {prometheus: {url: x}}\nfailure: value > 1\nno_data: skip",
            12,
            "no_data: must be 'fail', 'pause' or 'ignore'",
            None,
        ),
        (
            "provider: {prometheus: {url: x}}\nfailure: value > 1\naggregate: median",
            12,
            "aggregate: must be 'min', 'max', 'sum' or 'avg'",
            None,
        ),
        (
            "provider: {prometheus: {url: '${PROMETHEUS}'}}\nfailure: value > 1",
            10,
            "undefined variable ${PROMETHEUS}",
            "declare it under `vars:`",
        ),
    ],
)
def test_plan_load_errors_point_at_the_line(
    tmp_path: Path, check: str, line: int, says: str, hint: str | None
) -> None:
    found = problems(tmp_path, check)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'plan.yaml'}:{line}:"), found[0]
    assert says in found[0]
    if hint is not None:
        assert f"hint: {hint}" in found[0]


def test_an_invalid_json_path_is_found_at_load(tmp_path: Path) -> None:
    text = PLAN.replace("sum(rate(errors[1m]))", "'$.data[?'")
    with pytest.raises(PlanError) as caught:
        load_plan_text(
            text.format(check="        provider: {http: {url: x}}\n        failure: value > 1"),
            tmp_path / "plan.yaml",
        )
    (problem,) = caught.value.problems
    assert problem.line == 9
    assert problem.field == "phases[0].gates[0].metric"
    assert "invalid JSONPath" in problem.message


def test_the_json_schema_describes_providers() -> None:
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    def plan(provider: Any) -> Any:
        check = {"metric": "up", "provider": provider, "failure": "value < 1"}
        return yaml.safe_load(
            json.dumps({"version": 1, "name": "x", "phases": [{"id": "a", "gates": [check]}]})
        )

    assert not list(validator.iter_errors(plan({"prometheus": {"url": "http://p:9090"}})))
    assert list(validator.iter_errors(plan({"prometheus": {"url": "x"}, "http": {"url": "y"}})))
    assert list(validator.iter_errors(plan({"prometheus": {"url": "x", "bogus": 1}})))
