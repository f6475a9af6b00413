"""One measurement: the metric check's observation sorted into six statuses (fake provider)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from phasegate.analysis import Measurement, measure
from tests.analysis import analysis, context, fake_metric


def one(values: list[Any], **fields: Any) -> Measurement:
    a = analysis(fake_metric("m", values, **fields))
    m = asyncio.run(measure(a.metrics[0], context(), clock=lambda: 42.0))
    assert m.metric == "m" and m.at == 42.0 and m.message and "\n" not in m.message
    json.dumps(m.to_dict())
    assert Measurement.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    return m


CONDITIONS = {"failure": "value > 0.5", "warning": "value > 0.3"}


@pytest.mark.parametrize(
    ("values", "fields", "status", "value"),
    [
        ([0.1], CONDITIONS, "successful", 0.1),
        ([0.4], CONDITIONS, "warning", 0.4),
        ([0.6], CONDITIONS, "failed", 0.6),  # failure wins over warning
        (
            [0.4],
            {"success": "value < 0.5", "failure": None},
            "successful",
            0.4,
        ),  # no warning condition
        ([0.7], {"success": "value < 0.5", "failure": "value > 0.9"}, "inconclusive", 0.7),
        (["error"], CONDITIONS, "error", None),
        ([[0.1, 0.2]], CONDITIONS, "error", None),  # several series, no aggregate
        ([[0.1, 0.4]], {**CONDITIONS, "aggregate": "max"}, "warning", 0.4),
        ([None], CONDITIONS, "no_data", None),
        ([float("nan")], CONDITIONS, "no_data", None),
        ([float("inf")], CONDITIONS, "failed", float("inf")),
    ],
)
def test_classification(values: list[Any], fields: dict[str, Any], status: str, value: Any) -> None:
    m = one(values, **fields)
    assert (m.status, m.value) == (status, value)


@pytest.mark.parametrize("policy", ["fail", "pause", "ignore"])
def test_no_data_is_no_data_whatever_the_policy(policy: str) -> None:
    assert one([None], no_data=policy).status == "no_data"


def test_messages_say_which_value_and_which_condition() -> None:
    assert one([0.4], **CONDITIONS).message == "value 0.4: warning value > 0.3"
    assert one([0.6], **CONDITIONS).message == "value 0.6: failure value > 0.5"
    assert "scripted error" in one(["error"]).message


def test_a_warning_that_cannot_be_evaluated_is_an_error_not_a_pass() -> None:
    m = one([0.1], failure="value > 0.5", warning="value > 'x'")
    assert m.status == "error"
    assert "warning" in m.message


def test_variables_expand_and_secrets_are_masked() -> None:
    a = analysis(fake_metric("m", ["error"], metric='rate{token="${TOKEN}"}'))
    ctx = context({"TOKEN": "hunter22"}, secrets=["hunter22"])
    m = asyncio.run(measure(a.metrics[0], ctx))
    provider = a.metrics[0].provider
    assert provider.queries == ['rate{token="hunter22"}']  # type: ignore[attr-defined]
    assert "hunter22" not in json.dumps(m.to_dict())
