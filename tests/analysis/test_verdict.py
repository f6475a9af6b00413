"""The tally and verdict rules, one readable example each (the table in docs/analysis.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from phasegate.analysis import Analysis, MetricTally, Verdict, tally, verdict
from tests.analysis import analysis, fake_metric, fold, measured, settings

# (settings overrides, measurement statuses, expected metric phase while running, reason)
ARGO_TABLE: list[tuple[dict[str, Any], list[str], str, str]] = [
    ({}, [], "running", "running"),
    ({}, ["successful", "successful"], "running", "running"),
    ({}, ["successful"] * 3, "successful", "completed"),
    ({}, ["successful", "warning", "successful"], "warning", "completed"),
    ({}, ["failed"], "failed", "failure_limit"),
    ({"failure_limit": 1}, ["failed", "successful", "successful"], "successful", "completed"),
    ({"failure_limit": 1}, ["failed", "failed"], "failed", "failure_limit"),
    ({}, ["inconclusive"], "inconclusive", "inconclusive_limit"),
    ({"inconclusive_limit": 2}, ["inconclusive"] * 3, "inconclusive", "inconclusive_limit"),
    # errors count toward `count` (as in Argo) but are never failures
    ({}, ["error", "successful", "error"], "successful", "completed"),
    ({"count": 10}, ["error"] * 4, "running", "running"),
    ({"count": 10}, ["error"] * 5, "error", "provider_errors"),
    ({"count": 10}, ["error"] * 4 + ["successful"] + ["error"] * 4, "running", "running"),
    ({"consecutive_error_limit": 0, "count": 10}, ["error"], "error", "provider_errors"),
    # a provider that never answered does not pass, even when `count` is reached
    ({"count": 3}, ["error"] * 3, "error", "provider_errors"),
    # failures within the limit are tolerated, but a metric must look good once to pass
    ({"failure_limit": 5}, ["failed", "error", "failed"], "inconclusive", "no_success"),
    ({"inconclusive_limit": 5}, ["inconclusive"] * 3, "inconclusive", "no_success"),
    # no data, by policy
    ({}, ["no_data"], "failed", "no_data"),
    ({"no_data": "pause"}, ["no_data"], "inconclusive", "no_data"),
    ({"no_data": "ignore"}, ["no_data", "successful", "no_data"], "successful", "completed"),
    ({"no_data": "ignore"}, ["no_data"] * 3, "inconclusive", "no_data"),
    ({"failure_limit": 1}, ["no_data", "failed"], "failed", "failure_limit"),
]


@pytest.mark.parametrize(("overrides", "statuses", "phase", "reason"), ARGO_TABLE)
def test_metric_phase(overrides: dict[str, Any], statuses: Any, phase: str, reason: str) -> None:
    t = fold(settings(**overrides), statuses)  # type: ignore[arg-type]
    assert t.decide() == (phase, reason)
    assert t.message()
    json.dumps(t.summary())


def test_counts_and_no_data_bookkeeping() -> None:
    t = fold(settings(count=None, no_data="pause", inconclusive_limit=5), ["no_data", "error"])
    assert (t.measurements, t.no_data, t.inconclusive, t.error, t.consecutive_errors) == (
        2,
        1,
        1,
        1,
        1,
    )
    t = t.add(measured("no_data", 5))
    assert t.consecutive_errors == 0  # any answer resets it, even one without data


def test_a_settled_phase_never_changes() -> None:
    t = fold(settings(count=None), ["failed"] + ["successful"] * 20)
    assert t.phase() == "failed"
    assert t.measurements == 21
    errors = fold(settings(count=None, consecutive_error_limit=1), ["error", "error", "successful"])
    assert errors.phase() == "error"
    done = fold(settings(count=2), ["successful", "successful", "failed"])
    assert done.phase() == "successful"


def test_first_failed_at_is_the_first_failed_measurement_not_the_one_over_the_limit() -> None:
    t = fold(
        settings(failure_limit=2, count=None), ["successful", "failed", "successful", "failed"]
    )
    assert t.phase() == "running"
    t = t.add(measured("failed", 10))
    assert t.phase() == "failed"
    assert t.first_failed_at == 1
    assert "3 failed measurements (failure_limit 2); first: failed at 1" in t.message()


def test_only_the_last_ten_measurements_are_kept() -> None:
    t = fold(settings(count=None), ["successful"] * 25)
    assert len(t.last) == 10
    assert t.last[-1].at == 24


def test_stopped_judges_running_metrics_on_what_they_have() -> None:
    s = settings(count=None)
    assert fold(s, ["successful", "error"]).decide(stopped=True) == ("successful", "completed")
    assert fold(s, ["warning"]).decide(stopped=True) == ("warning", "completed")
    assert fold(s, ["error", "error"]).decide(stopped=True) == ("error", "provider_errors")
    assert fold(s, []).decide(stopped=True) == ("inconclusive", "no_measurements")
    ignore = settings(count=None, no_data="ignore")
    assert fold(ignore, ["no_data"]).decide(stopped=True) == ("inconclusive", "no_data")


def test_a_measurement_of_another_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="other"):
        MetricTally(settings("m")).add(measured("successful", metric="other"))


def two(**fields: Any) -> Analysis:
    return analysis(
        fake_metric("errors", [0.0], **fields.pop("errors", {})),
        fake_metric("latency", [0.0], **fields.pop("latency", {})),
        **{"count": 3, **fields},
    )


def decide(a: Analysis, plan: dict[str, list[str]], *, stopped: bool = False) -> Verdict:
    """Measurements interleaved by time: metric i's j-th at j + i/10."""
    ms = [
        measured(status, j + i / 10, name)  # type: ignore[arg-type]
        for i, (name, statuses) in enumerate(plan.items())
        for j, status in enumerate(statuses)
    ]
    v = verdict(a, tally(a, sorted(ms, key=lambda m: m.at)), stopped=stopped)
    json.dumps(v.to_dict())
    assert v.message
    return v


def test_all_metrics_done_passes() -> None:
    v = decide(two(), {"errors": ["successful"] * 3, "latency": ["successful"] * 3})
    assert (v.status, v.reason, v.detected_at, v.score) == ("passed", "completed", None, None)
    assert set(v.metrics) == {"errors", "latency"}


def test_a_warning_measurement_makes_the_verdict_a_warning() -> None:
    v = decide(
        two(), {"errors": ["successful"] * 3, "latency": ["warning", "successful", "successful"]}
    )
    assert (v.status, v.reason) == ("warning", "completed")
    assert "latency" in v.message


def test_running_until_every_metric_is_done() -> None:
    v = decide(two(), {"errors": ["successful"] * 3, "latency": ["successful"]})
    assert (v.status, v.reason) == ("running", "running")
    assert not v.done and not v.final


def test_one_failed_metric_fails_at_once_with_its_first_failure_time() -> None:
    v = decide(two(), {"errors": ["successful", "failed"], "latency": ["successful"]})
    assert (v.status, v.reason, v.metric, v.detected_at) == ("failed", "failure_limit", "errors", 1)
    assert v.final
    assert "errors failed" in v.message


def test_the_metric_that_settled_first_decides() -> None:
    v = decide(two(), {"errors": ["successful", "failed"], "latency": ["failed"]})
    assert (v.metric, v.detected_at) == ("latency", 0.1)


def test_failed_outranks_inconclusive() -> None:
    v = decide(two(), {"errors": ["inconclusive"], "latency": ["successful", "failed"]})
    assert (v.status, v.metric) == ("failed", "latency")


def test_an_inconclusive_metric_makes_the_analysis_inconclusive_at_once() -> None:
    v = decide(two(), {"errors": ["inconclusive"], "latency": ["successful"]})
    assert (v.status, v.reason, v.metric) == ("inconclusive", "inconclusive_limit", "errors")


@pytest.mark.parametrize(
    ("no_data", "status"),
    [("fail", "failed"), ("pause", "inconclusive"), ("ignore", "inconclusive")],
)
def test_provider_errors_follow_the_no_data_policy(no_data: str, status: str) -> None:
    a = two(count=10, errors={"no_data": no_data})
    v = decide(a, {"errors": ["error"] * 5, "latency": ["successful"]})
    assert (v.status, v.reason, v.metric) == (status, "provider_errors", "errors")
    assert v.detected_at == 4  # when the limit was crossed
    assert "5 provider errors in a row (consecutive_error_limit 4)" in v.message


def test_stopped_background_analysis() -> None:
    a = two(count=None)
    plan = {"errors": ["successful", "error"], "latency": ["warning"]}
    assert decide(a, plan).status == "running"
    assert decide(a, plan, stopped=True).status == "warning"
    never = decide(a, {"errors": ["successful"]}, stopped=True)
    assert (never.status, never.reason, never.metric) == (
        "inconclusive",
        "no_measurements",
        "latency",
    )
    assert decide(a, {}, stopped=True).status == "inconclusive"


def scored(**fields: Any) -> Analysis:
    return analysis(
        fake_metric("errors", [0.0], weight=2, **fields.pop("errors", {})),
        fake_metric("latency", [0.0], **fields.pop("latency", {})),
        fake_metric("saturation", [0.0], **fields.pop("saturation", {})),
        **{"count": 2, "scoring": {"pass": 90, "warning": 70}, **fields},
    )


def test_worked_scoring_example() -> None:
    # errors (weight 2) successful, latency warning, saturation successful:
    # (2×1 + 1×0.5 + 1×1) / 4 × 100 = 87.5 -> below pass 90, at least warning 70.
    plan = {
        "errors": ["successful"] * 2,
        "latency": ["warning", "successful"],
        "saturation": ["successful"] * 2,
    }
    v = decide(scored(), plan)
    assert (v.status, v.reason, v.score) == ("warning", "score", 87.5)
    plan["latency"] = ["successful"] * 2
    assert (decide(scored(), plan).status, decide(scored(), plan).score) == ("passed", 100)


def test_a_failed_metric_only_costs_its_weight_when_scoring() -> None:
    plan = {"errors": ["successful"] * 2, "latency": ["successful"] * 2, "saturation": ["failed"]}
    v = decide(scored(), plan)
    assert (v.status, v.score) == ("warning", 75)


def test_a_score_out_of_reach_fails_before_the_others_finish() -> None:
    v = decide(scored(), {"errors": ["failed"], "latency": ["successful"]})
    assert (v.status, v.reason, v.metric, v.detected_at) == ("failed", "score", "errors", 0)
    assert "at most 50" in v.message


def test_a_failed_key_metric_fails_at_once() -> None:
    v = decide(
        scored(saturation={"key": True}), {"errors": ["successful"], "saturation": ["failed"]}
    )
    assert (v.status, v.reason, v.metric) == ("failed", "key_metric", "saturation")


def test_scoring_never_passes_over_a_silent_metric() -> None:
    a = scored(saturation={"no_data": "ignore"})
    plan = {
        "errors": ["successful"] * 2,
        "latency": ["successful"] * 2,
        "saturation": ["no_data"] * 2,
    }
    v = decide(a, plan)
    assert (v.status, v.reason, v.metric) == ("inconclusive", "no_data", "saturation")
