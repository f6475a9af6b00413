"""The ``metric`` check against a real HTTP server speaking the Prometheus query API, plus its
decision table (with the fake provider) and its plan-load errors through the real loader."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.checks.conftest import ReplyingHandler

from phasegate.checks.base import Observation
from phasegate.checks.metric import MetricCheck
from phasegate.metrics.base import MetricResult, Provider
from phasegate.metrics.fake import FakeProvider
from phasegate.plugin import PluginContext
from phasegate.registry import CHECKS_GROUP, load

SECRET = "s3cr3t-token-42"
NOW = 1_700_000_000.123


def vector(*series: tuple[dict[str, str], str]) -> dict[str, Any]:
    result = [{"metric": labels, "value": [NOW, value]} for labels, value in series]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


# What the fake Prometheus answers, by query text: (HTTP status, body, delay in seconds).
ANSWERS: dict[str, tuple[int, Any, float]] = {
    "error_rate": (200, vector(({}, "0.02")), 0),
    "low_rate": (200, vector(({"job": "web"}, "0.005")), 0),
    "per_pod": (
        200,
        vector(({"pod": "a"}, "0.01"), ({"pod": "b"}, "0.03"), ({"pod": "c"}, "0.02")),
        0,
    ),
    "partly_nan": (200, vector(({"pod": "a"}, "NaN"), ({"pod": "b"}, "0.25")), 0),
    "empty": (200, vector(), 0),
    "nan": (200, vector(({}, "NaN")), 0),
    "inf": (200, vector(({}, "+Inf")), 0),
    "scalar(1.5)": (
        200,
        {"status": "success", "data": {"resultType": "scalar", "result": [NOW, "1.5"]}},
        0,
    ),
    "up[5m]": (
        200,
        {
            "status": "success",
            "data": {"resultType": "matrix", "result": [{"metric": {}, "values": []}]},
        },
        0,
    ),
    "sum(rate(": (
        400,
        {
            "status": "error",
            "errorType": "bad_data",
            "error": "1:10: parse error: unclosed left parenthesis",
        },
        0,
    ),
    "overloaded": (503, "upstream connect error", 0),
    "html": (200, "<html><body>login</body></html>", 0),
    "wrong_json": (200, {"hello": "world"}, 0),
    "bad_sample": (200, vector(({}, "zero")), 0),
    "slow": (200, vector(({}, "1")), 3.0),
    "with_warnings": (200, {**vector(({}, "1")), "warnings": ["query hit the sample limit"]}, 0),
}


class PrometheusHandler(ReplyingHandler):
    content_type = "application/json"

    seen: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query).get("query", [""])[0]
        type(self).seen.append(
            {"path": url.path, "query": query, "authorization": self.headers.get("Authorization")}
        )
        if url.path != "/api/v1/query":
            return self.reply(404, "404 page not found")
        if query == "leaky":  # a server that echoes the credentials it was sent
            said = {
                "status": "error",
                "errorType": "auth",
                "error": f"bad token {self.headers.get('Authorization')}",
            }
            return self.reply(401, said)
        status, body, delay = ANSWERS.get(query, (200, vector(({}, "7")), 0))
        time.sleep(delay)
        self.reply(status, body)


@pytest.fixture(scope="module")
def prometheus(serve) -> Iterator[str]:
    with serve(PrometheusHandler) as url:
        yield url


def prom(url: str, query: str, **options: Any) -> dict[str, Any]:
    options.setdefault("failure", "value > 0.01")
    return {"metric": query, "provider": {"prometheus": {"url": url}}, **options}


def test_registered_through_its_entry_point() -> None:
    assert load(CHECKS_GROUP, "metric") is MetricCheck


def test_every_option_is_documented(assert_documented) -> None:
    assert_documented(MetricCheck)


# --- Prometheus answers ---------------------------------------------------------------------


def test_a_single_series_is_the_value(evaluate, prometheus: str) -> None:
    failed = evaluate(MetricCheck, prom(prometheus, "error_rate"))
    assert failed.status == "failed"
    assert failed.observed["value"] == 0.02
    assert failed.observed["provider"] == "prometheus"
    assert failed.observed["query"] == "error_rate"
    assert failed.observed["source"] == prometheus
    assert failed.message == "value 0.02: failure value > 0.01"
    passed = evaluate(MetricCheck, prom(prometheus, "low_rate"))
    assert passed.status == "passed"
    assert passed.observed["value"] == 0.005
    assert passed.message == "value 0.005: not value > 0.01"


def test_the_query_reaches_prometheus_intact_with_variables_expanded(
    evaluate, prometheus: str
) -> None:
    query = 'sum(rate(http_requests_total{code=~"5..", env="${ENV}"}[1m])) / 2 > 0 + 1'
    obs = evaluate(MetricCheck, prom(f"{prometheus}/", query), values={"ENV": "prod & co"})
    expected = 'sum(rate(http_requests_total{code=~"5..", env="prod & co"}[1m])) / 2 > 0 + 1'
    assert PrometheusHandler.seen[-1]["query"] == expected
    assert PrometheusHandler.seen[-1]["path"] == "/api/v1/query"
    assert obs.observed["query"] == expected
    assert obs.observed["value"] == 7


def test_several_series_need_an_aggregate(evaluate, prometheus: str) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, "per_pod"))
    assert obs.status == "error"
    assert "3 series" in obs.message
    assert '{pod="a"}' in obs.message
    assert "aggregate: min|max|sum|avg" in obs.message
    assert [s["labels"] for s in obs.observed["series"]] == [{"pod": p} for p in "abc"]


@pytest.mark.parametrize(
    ("how", "value"), [("min", 0.01), ("max", 0.03), ("sum", 0.06), ("avg", 0.02)]
)
def test_aggregates(evaluate, prometheus: str, how: str, value: float) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, "per_pod", aggregate=how, failure="value > 1"))
    assert obs.status == "passed"
    assert obs.observed["value"] == pytest.approx(value)
    assert obs.observed["aggregate"] == how


def test_nan_series_are_left_out(evaluate, prometheus: str) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, "partly_nan", aggregate="max"))
    assert obs.observed["value"] == 0.25
    assert obs.observed["nan_series"] == 1


@pytest.mark.parametrize("query", ["empty", "nan"])
@pytest.mark.parametrize(
    ("policy", "status"), [("fail", "failed"), ("ignore", "passed"), ("pause", "error")]
)
def test_no_data_follows_the_policy(
    evaluate, prometheus: str, query: str, policy: str, status: str
) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, query, no_data=policy))
    assert obs.status == status
    assert obs.observed["no_data"] is True
    assert "value" not in obs.observed
    assert ("NaN" if query == "nan" else "no data") in obs.message
    if policy == "pause":
        assert obs.observed["action"] == "pause"
    if policy == "ignore":
        assert "ignored" in obs.message


def test_no_data_fails_by_default(evaluate, prometheus: str) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, "empty", success="value < 1", failure=None))
    assert obs.status == "failed"
    assert obs.message == "the query returned no data (no_data: fail)"


def test_infinity_is_a_value(evaluate, prometheus: str) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, "inf"))
    assert obs.status == "failed"
    assert obs.observed["value"] == "+Inf"  # strict JSON has no Infinity
    json.loads(json.dumps(obs.observed, allow_nan=False))


def test_a_scalar_is_the_value(evaluate, prometheus: str) -> None:
    obs = evaluate(
        MetricCheck, prom(prometheus, "scalar(1.5)", failure=None, success="value == 1.5")
    )
    assert obs.status == "passed"
    assert obs.observed["result_type"] == "scalar"


def test_warnings_are_kept(evaluate, prometheus: str) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, "with_warnings", failure="value > 5"))
    assert obs.passed
    assert obs.observed["warnings"] == ["query hit the sample limit"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("sum(rate(", "query rejected (bad_data): 1:10: parse error: unclosed left parenthesis"),
        ("up[5m]", "range vector (matrix)"),
        ("overloaded", "HTTP 503: upstream connect error"),
        ("html", "the answer is not JSON: <html>"),
        ("wrong_json", "not a Prometheus API answer"),
        ("bad_sample", "not a number: 'zero'"),
    ],
)
def test_answers_it_cannot_use_are_errors(evaluate, prometheus: str, query: str, says: str) -> None:
    obs = evaluate(MetricCheck, prom(prometheus, query))
    assert obs.status == "error"
    assert says in obs.message
    assert obs.message.startswith(f"prometheus: GET {prometheus}/api/v1/query: ")
    assert obs.observed == {"provider": "prometheus", "query": query}


def test_a_wrong_base_url_is_an_error(evaluate, prometheus: str) -> None:
    obs = evaluate(MetricCheck, prom(f"{prometheus}/prometheus", "error_rate"))
    assert obs.status == "error"
    assert "HTTP 404" in obs.message


def test_an_unreachable_server_is_an_error_not_a_failure(evaluate, closed_port: int) -> None:
    obs = evaluate(MetricCheck, prom(f"http://127.0.0.1:{closed_port}", "error_rate"))
    assert obs.status == "error"
    assert "cannot connect" in obs.message


def test_a_slow_server_times_out_as_an_error(evaluate, prometheus: str) -> None:
    started = time.monotonic()
    obs = evaluate(MetricCheck, prom(prometheus, "slow", timeout="300ms"))
    assert time.monotonic() - started < 2.5
    assert obs.status == "error"
    assert "no answer in 0.3s" in obs.message


def test_the_provider_timeout_overrides_the_checks(evaluate, prometheus: str) -> None:
    raw = prom(prometheus, "slow")
    raw["provider"]["prometheus"]["timeout"] = 0.2
    obs = evaluate(MetricCheck, raw, timeout=30)
    assert obs.status == "error"
    assert "no answer in 0.2s" in obs.message


def test_secret_headers_are_sent_but_never_shown(evaluate, make_ctx, prometheus: str) -> None:
    ctx = make_ctx({"TOKEN": SECRET}, secrets=[SECRET])
    raw = prom(prometheus, "leaky")
    raw["provider"]["prometheus"]["headers"] = {"Authorization": "Bearer ${TOKEN}"}
    obs = evaluate(MetricCheck, raw, ctx)
    assert PrometheusHandler.seen[-1]["authorization"] == f"Bearer {SECRET}"
    assert obs.status == "error"
    assert "bad token Bearer ***" in obs.message
    assert SECRET not in obs.message
    assert SECRET not in json.dumps(obs.observed)


def test_secrets_in_the_query_and_url_are_masked(evaluate, make_ctx, prometheus: str) -> None:
    ctx = make_ctx({"TOKEN": SECRET}, secrets=[SECRET])
    raw = prom(prometheus.replace("://", "://user:${TOKEN}@"), 'up{key="${TOKEN}"}')
    obs = evaluate(MetricCheck, raw, ctx)
    assert PrometheusHandler.seen[-1]["authorization"].startswith("Basic ")
    assert obs.observed["query"] == 'up{key="***"}'
    assert SECRET not in json.dumps(obs.observed) + obs.message


# --- the decision table, with the fake provider ---------------------------------------------


def judge(make_ctx, answers: list[Any], **options: Any) -> Observation:
    check = MetricCheck.model_validate(
        {"metric": "m", "provider": FakeProvider(values=answers), **options}
    )
    return asyncio.run(check.evaluate(make_ctx()))


@pytest.mark.parametrize(
    ("value", "options", "status", "inconclusive"),
    [
        (0.5, {"failure": "value > 1"}, "passed", False),
        (2, {"failure": "value > 1"}, "failed", False),
        (0.5, {"success": "value < 1"}, "passed", False),
        (2, {"success": "value < 1"}, "failed", False),
        (0.5, {"failure": "value > 1", "success": "value < 1"}, "passed", False),
        (2, {"failure": "value > 1", "success": "value < 1"}, "failed", False),
        # between the thresholds: neither decides
        (0.5, {"failure": "value > 1", "success": "value < 0.1"}, "failed", True),
        # both true: failure wins
        (2, {"failure": "value > 1", "success": "value > 0"}, "failed", False),
    ],
)
def test_conditions(
    make_ctx, value: float, options: dict[str, str], status: str, inconclusive: bool
) -> None:
    obs = judge(make_ctx, [value], **options)
    assert obs.status == status
    assert obs.observed["value"] == value
    assert bool(obs.observed.get("inconclusive")) is inconclusive
    assert ("inconclusive" in obs.message) is inconclusive


def test_a_provider_that_cannot_answer_is_an_error(make_ctx) -> None:
    obs = judge(make_ctx, ["error"], failure="value > 1")
    assert obs.status == "error"
    assert obs.message == "fake: fake: scripted error for query 1"


@pytest.mark.parametrize(
    ("condition", "says"), [("value > 'x'", "cannot evaluate"), ("value", "not true or false")]
)
def test_a_condition_that_cannot_be_evaluated_is_an_error(
    make_ctx, condition: str, says: str
) -> None:
    obs = judge(make_ctx, [1.0], failure=condition)
    assert obs.status == "error"
    assert says in obs.message


def test_conditions_see_the_runs_activation(make_ctx) -> None:
    check = MetricCheck.model_validate(
        {
            "metric": "m",
            "provider": FakeProvider(values=[3.0]),
            "failure": "value > double(vars.LIMIT)",
        }
    )
    ctx = make_ctx()
    ctx.activation = lambda: {"vars": {"LIMIT": "2.5"}}
    assert asyncio.run(check.evaluate(ctx)).status == "failed"


class Broken(Provider):
    kind: ClassVar[str] = "broken"

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        raise RuntimeError("bug in a plugin")


class Hanging(Provider):
    kind: ClassVar[str] = "hanging"

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")


def test_a_broken_provider_is_an_error_not_a_crash(make_ctx) -> None:
    check = MetricCheck.model_validate({"metric": "m", "provider": Broken(), "failure": "true"})
    obs = asyncio.run(check.evaluate(make_ctx()))
    assert obs.status == "error"
    assert obs.message == "broken: the provider failed: RuntimeError: bug in a plugin"


def test_a_provider_that_never_returns_is_cut_off(make_ctx, monkeypatch) -> None:
    monkeypatch.setattr("phasegate.checks.metric.GRACE", 0.05)
    check = MetricCheck.model_validate(
        {"metric": "m", "provider": Hanging(timeout=0.05), "failure": "true"}
    )
    obs = asyncio.run(check.evaluate(make_ctx()))
    assert obs.status == "error"
    assert "no answer in" in obs.message


def test_words_for_progress_and_reports(prometheus: str) -> None:
    check = MetricCheck.model_validate(
        prom("http://u:pw@prom:9090", "sum(rate(x[1m]))", success="value < 1", aggregate="max")
    )
    assert check.describe() == "sum(rate(x[1m])) (prometheus at http://u:***@prom:9090)"
    assert check.expectation() == (
        "fails when value > 0.01, passes when value < 1, max over series, no data: fail"
    )
    assert check.expressions() == [("failure", "value > 0.01"), ("success", "value < 1")]
    named = MetricCheck.model_validate({**prom("x", "y"), "name": "error rate"})
    assert named.describe() == "error rate"


def test_dumps_back_to_what_the_plan_wrote() -> None:
    raw = prom("http://prom:9090", "up", no_data="ignore")
    raw["provider"]["prometheus"]["headers"] = {"X-Scope": "${TENANT}"}
    check = MetricCheck.model_validate(raw)
    dumped = check.model_dump(by_alias=True, exclude_defaults=True)
    assert dumped["provider"] == {
        "prometheus": {"url": "http://prom:9090", "headers": {"X-Scope": "${TENANT}"}}
    }
    assert MetricCheck.model_validate(dumped) == check
