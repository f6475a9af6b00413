"""The ``analysis:`` model: inheritance, and clear messages for what a plan author gets wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from phasegate.analysis import Analysis, AnalysisMetric
from tests.analysis import analysis, fake_metric

PROM = {"prometheus": {"url": "http://127.0.0.1:9090"}}


def prom(name: str = "errors", **fields: Any) -> dict[str, Any]:
    return {"name": name, "metric": "up", "provider": PROM, **fields}


def error_of(raw: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        Analysis.model_validate(raw)
    first = info.value.errors()[0]
    return ".".join(str(part) for part in first["loc"]), first["msg"]


def test_metric_settings_inherit_from_the_analysis() -> None:
    a = Analysis.model_validate(
        {
            "interval": "30s",
            "count": 5,
            "failure_limit": 1,
            "metrics": [
                prom("errors", failure="value > 0.01"),
                prom("latency", failure="value > 0.5", interval="1m", count=2, failure_limit=0),
            ],
        }
    )
    errors, latency = a.effective("errors"), a.effective(a.metrics[1])
    assert (errors.interval, errors.count, errors.failure_limit) == (30, 5, 1)
    assert (latency.interval, latency.count, latency.failure_limit) == (60, 2, 0)
    assert (errors.consecutive_error_limit, errors.inconclusive_limit) == (4, 0)
    assert (
        a.count == 5 and Analysis.model_validate({"metrics": [prom(failure="1 > 0")]}).count is None
    )


def test_critical_is_another_name_for_failure() -> None:
    a = Analysis.model_validate({"metrics": [prom(critical="value > 1")]})
    assert a.metrics[0].failure == "value > 1"
    assert a.model_dump(mode="json", by_alias=True)["metrics"][0]["failure"] == "value > 1"
    _, msg = error_of({"metrics": [prom(critical="value > 1", failure="value > 2")]})
    assert "two names for the same condition" in msg


def test_expressions_for_plan_semantics() -> None:
    a = Analysis.model_validate(
        {"metrics": [prom(success="value < 1", warning="value > 0.5"), prom("b", critical="x")]}
    )
    assert a.expressions() == [
        (("metrics", 0, "success"), "value < 1"),
        (("metrics", 0, "warning"), "value > 0.5"),
        (("metrics", 1, "failure"), "x"),
    ]


@pytest.mark.parametrize(
    ("raw", "where", "says"),
    [
        ({"metrics": []}, "metrics", "at least 1 item"),
        ({"metrics": [prom()]}, "metrics.0", "needs a condition: `failure:`, `success:` or both"),
        (
            {"metrics": [prom(failure="value >")]},
            "metrics.0.failure",
            "invalid CEL expression 'value >': it ends too early",
        ),
        (
            {"metrics": [prom(warning="value >>> 1", failure="value > 2")]},
            "metrics.0.warning",
            "CEL",
        ),
        (
            {"metrics": [prom(failure="value > 1"), prom(failure="value > 2")]},
            "metrics",
            "two metrics are named 'errors'; names must differ",
        ),
        (
            {"metrics": [prom(failure="1 > 0")], "scoring": {"pass": 70, "warning": 80}},
            "scoring",
            "warning (80) must not be above pass (70)",
        ),
        ({"metrics": [prom(failure="1 > 0")], "interval": 0}, "interval", "greater than 0"),
        ({"metrics": [prom(failure="1 > 0", weight=0)]}, "metrics.0.weight", "greater than 0"),
        ({"metrics": [prom(failure="1 > 0")], "count": 0}, "count", "greater than or equal to 1"),
        ({"metrics": [prom(failure="1 > 0", name="no spaces")]}, "metrics.0.name", "pattern"),
        ({"metrics": [prom(failure="1 > 0", treshold=1)]}, "metrics.0.treshold", "Extra inputs"),
        (
            {
                "metrics": [
                    prom(failure="1 > 0", provider={"prometheus": {"url": "http://x", "uri": "x"}})
                ]
            },
            "metrics.0.provider.prometheus.uri",
            "unknown key 'uri'",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "j",
                        "metric": "$.[",
                        "provider": {"http": {"url": "http://127.0.0.1:1/m"}},
                        "failure": "value > 1",
                    }
                ]
            },
            "metrics.0.metric",
            "invalid JSONPath '$.['",
        ),
    ],
)
def test_clear_validation_errors(raw: dict[str, Any], where: str, says: str) -> None:
    loc, msg = error_of(raw)
    assert loc == where
    assert says in msg


def test_the_json_schema_accepts_what_the_model_accepts() -> None:
    schema = Analysis.model_json_schema(by_alias=True)
    json.dumps(schema)
    document = {
        "interval": "30s",
        "count": 3,
        "scoring": {"pass": 90, "warning": 75},
        "metrics": [prom(critical="value > 1", warning="value > 0.5", weight=2, key=True)],
    }
    jsonschema.validate(document, schema)
    Analysis.model_validate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "metrics": [prom(treshold=1)]}, schema)


def test_every_field_is_documented() -> None:
    for model in (Analysis, AnalysisMetric):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_the_measuring_check_is_a_metric_check_built_once() -> None:
    a = analysis(fake_metric("errors", [0.5], aggregate="max", no_data="pause"))
    check = a.metrics[0].check()
    assert check is a.metrics[0].check()
    assert (check.kind, check.metric, check.failure, check.aggregate, check.no_data) == (
        "metric",
        "query_errors",
        "value > 0.01",
        "max",
        "pause",
    )


def test_the_documented_example_is_a_valid_analysis() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text("utf-8")
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    a = Analysis.model_validate(yaml.safe_load(block)["analysis"])
    assert [m.name for m in a.metrics] == ["error-rate", "p95-latency"]
    assert a.effective("p95-latency").failure_limit == 1
    assert a.metrics[1].warning == "value > 0.3"
