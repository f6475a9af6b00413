"""The ``http``, ``command`` and ``fake`` metric providers, number parsing and the registry.

Prometheus answers are tested with the check in ``test_metric.py``.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.checks.conftest import ReplyingHandler

from phasegate.checks.metric import MetricCheck
from phasegate.metrics.base import ProviderError, number, parse_number
from phasegate.metrics.command import CommandProvider
from phasegate.metrics.fake import FakeProvider
from phasegate.metrics.http import HttpProvider
from phasegate.metrics.prometheus import PrometheusProvider
from phasegate.metrics.registry import METRICS_GROUP, provider_kind, provider_names
from phasegate.registry import load

STATS = {
    "data": {"error_rate": 0.004, "latency_ms": "250", "idle": None, "state": "ok", "up": True},
    "pods": [{"name": "a", "errors": 1}, {"name": "b", "errors": 4}],
}


class StatsHandler(ReplyingHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path == "/stats":
            self.reply(200, json.dumps(STATS))
        elif self.path == "/text":
            self.reply(200, "error_rate 0.5")
        else:
            self.reply(404, "not here")


@pytest.fixture(scope="module")
def stats(serve) -> Iterator[str]:
    with serve(StatsHandler) as url:
        yield url


def test_built_in_providers_register_through_entry_points() -> None:
    assert provider_names() == ["command", "http", "prometheus"]
    assert provider_kind("prometheus") is PrometheusProvider
    assert load(METRICS_GROUP, "http") is HttpProvider
    assert load(METRICS_GROUP, "command") is CommandProvider
    assert "fake" not in provider_names()  # like the fake check: tests only


@pytest.mark.parametrize("model", [PrometheusProvider, HttpProvider, CommandProvider, FakeProvider])
def test_every_provider_option_is_documented(model: type[Any]) -> None:
    assert [n for n, f in model.model_fields.items() if not f.description] == []


# --- http -----------------------------------------------------------------------------------


def http(url: str, query: str, **options: Any) -> dict[str, Any]:
    return {
        "metric": query,
        "provider": {"http": {"url": url, **options}},
        "failure": "value > 0.01",
    }


def test_http_reads_the_json_path_given_as_the_query(evaluate, stats: str) -> None:
    obs = evaluate(MetricCheck, http(f"{stats}/stats", "$.data.error_rate"))
    assert obs.status == "passed"
    assert obs.observed["value"] == 0.004
    assert obs.observed["source"] == f"GET {stats}/stats"


def test_http_path_option_names_the_number(evaluate, stats: str) -> None:
    raw = http(f"{stats}/stats", "latency", path="$.data.latency_ms")
    raw["failure"] = "value > 200.0"
    obs = evaluate(MetricCheck, raw)
    assert obs.status == "failed"
    assert obs.observed["value"] == 250.0  # a numeric string is a number
    assert obs.observed["query"] == "latency"


def test_http_several_matches_are_series(evaluate, stats: str) -> None:
    raw = http(f"{stats}/stats", "$.pods[*].errors")
    assert evaluate(MetricCheck, raw).status == "error"
    obs = evaluate(MetricCheck, {**raw, "aggregate": "sum", "failure": "value > 4"})
    assert obs.status == "failed"
    assert obs.observed["value"] == 5
    assert [s["labels"] for s in obs.observed["series"]] == [{"match": "0"}, {"match": "1"}]


@pytest.mark.parametrize("path", ["$.data.missing", "$.data.idle", "$.nothing[*]"])
def test_http_nothing_selected_or_null_is_no_data(evaluate, stats: str, path: str) -> None:
    obs = evaluate(MetricCheck, http(f"{stats}/stats", path))
    assert obs.status == "failed"
    assert obs.observed["no_data"] is True


@pytest.mark.parametrize(
    ("url", "path", "says"),
    [
        ("/stats", "$.data.state", "$.data.state: not a number: 'ok'"),
        ("/stats", "$.data.up", "$.data.up is true, not a number"),
        ("/stats", "$.data", "$.data is a mapping, not a number"),
        ("/text", "$.a", "the answer is not JSON: error_rate 0.5"),
        ("/missing", "$.a", "HTTP 404: not here"),
    ],
)
def test_http_answers_it_cannot_use_are_errors(
    evaluate, stats: str, url: str, path: str, says: str
) -> None:
    obs = evaluate(MetricCheck, http(stats + url, path))
    assert obs.status == "error"
    assert says in obs.message


def test_http_sends_headers_and_masks_secrets(evaluate, make_ctx, stats: str) -> None:
    secret = "very-secret-key"
    raw = http(f"{stats}/missing?key=${{KEY}}", "$.a", headers={"X-Api-Key": "${KEY}"})
    obs = evaluate(MetricCheck, raw, make_ctx({"KEY": secret}, secrets=[secret]))
    assert StatsHandler.seen[-1]["x-api-key"] == secret
    assert obs.status == "error"
    assert secret not in obs.message + json.dumps(obs.observed)
    assert "key=***" in obs.message


def test_http_unreachable_is_an_error(evaluate, closed_port: int) -> None:
    obs = evaluate(MetricCheck, http(f"http://127.0.0.1:{closed_port}/stats", "$.a"))
    assert obs.status == "error"
    assert "cannot connect" in obs.message


def test_http_rejects_an_invalid_path_option() -> None:
    with pytest.raises(ValueError, match="invalid JSONPath"):
        HttpProvider.model_validate({"url": "x", "path": "$.a[?"})
    # a path still holding variables is checked only once the run expands it
    assert HttpProvider.model_validate({"url": "x", "path": "$.${FIELD}"}).path == "$.${FIELD}"


# --- command --------------------------------------------------------------------------------


def command(script: str, **options: Any) -> dict[str, Any]:
    return {"metric": script, "provider": {"command": options}, "failure": "value > 1"}


def test_command_stdout_is_the_value(evaluate) -> None:
    obs = evaluate(MetricCheck, command("echo 0.5"))
    assert obs.status == "passed"
    assert obs.observed["value"] == 0.5
    assert obs.observed["provider"] == "command"


def test_command_json_with_a_path(evaluate) -> None:
    obs = evaluate(MetricCheck, command("""echo '{"a": 3}'""", path="$.a"))
    assert obs.status == "failed"
    assert obs.observed["value"] == 3


def test_command_empty_output_is_no_data(evaluate) -> None:
    obs = evaluate(MetricCheck, {**command("true"), "no_data": "ignore"})
    assert obs.status == "passed"
    assert obs.observed["no_data"] is True


@pytest.mark.parametrize(
    ("script", "options", "says"),
    [
        ("echo nope", {}, "stdout is not a number: 'nope'"),
        ("echo 1; echo 2", {}, "stdout is not a number: '1\\n2'"),
        ("echo not json", {"path": "$.a"}, "stdout is not JSON"),
        ("""echo '{"a": "x"}'""", {"path": "$.a"}, "stdout: $.a: not a number: 'x'"),
        ("echo oops >&2; exit 3", {}, "the command exited 3: oops"),
        ("sleep 5", {"timeout": 0.3}, "the command gave no answer in 0.3s"),
        ("echo 1", {"cwd": "/nonexistent/dir"}, "the command could not start"),
    ],
)
def test_command_failures_are_errors(
    evaluate, script: str, options: dict[str, Any], says: str
) -> None:
    obs = evaluate(MetricCheck, command(script, **options))
    assert obs.status == "error"
    assert says in obs.message
    assert obs.message.startswith("command: ")


def test_command_variables_reach_the_script_through_its_environment(evaluate, make_ctx) -> None:
    ctx = make_ctx()
    # A value full of shell syntax stays data: the shell expands ${BAD}, never parses it.
    ctx.env = {"BAD": "$(echo 9); echo 8"}
    obs = evaluate(MetricCheck, command('echo "${#BAD}"'), ctx)
    assert obs.observed["value"] == len("$(echo 9); echo 8")
    obs = evaluate(MetricCheck, command('echo "$RATE"', env={"RATE": "${R}"}), make_ctx({"R": "2"}))
    assert obs.observed["value"] == 2


def test_command_runs_in_the_plan_directory(evaluate, tmp_path) -> None:
    (tmp_path / "rate.txt").write_text("0.25\n")
    obs = evaluate(MetricCheck, command("cat rate.txt"))
    assert obs.observed["value"] == 0.25


def test_command_with_an_argv_shell(evaluate) -> None:
    raw = command("print(0.75)", shell=f"{sys.executable} -c")
    assert evaluate(MetricCheck, raw).observed["value"] == 0.75


# --- fake -----------------------------------------------------------------------------------


def test_fake_answers_in_order_then_repeats_the_last(make_ctx) -> None:
    fake = FakeProvider(values=[0.5, None, [1, 2], "error", 3])
    ctx = make_ctx()
    got = []
    for index in range(6):
        try:
            result = asyncio.run(fake.query(f"q{index}", ctx))
            got.append([s.value for s in result.samples])
        except ProviderError:
            got.append("error")
    assert got == [[0.5], [], [1, 2], "error", [3], [3]]
    assert fake.queries == [f"q{i}" for i in range(6)]


# --- numbers --------------------------------------------------------------------------------


@given(st.floats(allow_nan=False) | st.integers().map(float))
def test_every_float_python_prints_parses_back(value: float) -> None:
    for text in (repr(value), str(value), f"  {value!r}\n", f"{value:e}"):
        parsed = parse_number(text)
        assert parsed == value or math.isclose(parsed, value, rel_tol=1e-5)


@given(st.integers())
def test_every_integer_parses(value: int) -> None:
    assert parse_number(str(value)) == float(value)


@pytest.mark.parametrize("text", ["NaN", "nan", "+Inf", "-Inf", "inf", "Infinity"])
def test_prometheus_special_values(text: str) -> None:
    value = parse_number(text)
    assert math.isnan(value) or math.isinf(value)


@pytest.mark.parametrize(
    "text", ["", "1_000", "0x10", "1,5", "١٢", "１", "1e", "--1", "1.2.3", "infinite", "ok"]
)
def test_what_float_would_guess_is_refused(text: str) -> None:
    with pytest.raises(ProviderError, match="not a number"):
        parse_number(text)


@given(st.text())
def test_parsing_never_guesses(text: str) -> None:
    try:
        value = parse_number(text)
    except ProviderError:
        return
    assert value == float(text.strip()) or math.isnan(value)
    assert text.strip().isascii()


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), (0.5, 0.5), ("2.5", 2.5), (None, None)])
def test_json_numbers(value: Any, expected: float | None) -> None:
    assert number(value, "x") == expected


@pytest.mark.parametrize("value", [True, [1], {"a": 1}, "many"])
def test_json_values_that_are_not_numbers(value: Any) -> None:
    with pytest.raises(ProviderError):
        number(value, "x")
