from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError
from tests.checks.conftest import serving

from phasegate.checks.http import HttpCheck
from phasegate.registry import CHECKS_GROUP, load

HEALTH = {"status": "ok", "version": "1.2.3", "queue": 5, "checks": [{"name": "db", "ok": True}]}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path.startswith("/status/"):
            self.reply(int(url.path.rsplit("/", 1)[1]), f"status {url.path}")
        elif url.path == "/json":
            self.reply(200, json.dumps(HEALTH), "application/json")
        elif url.path == "/text":
            self.reply(200, "hello world\nversion: 1.42\n")
        elif url.path == "/slow":
            time.sleep(float(query["seconds"][0]))
            self.reply(200, "slow")
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/big":
            self.reply(200, "z" * 100_000)
        else:
            self.echo()

    def do_POST(self) -> None:
        self.echo()

    def do_PUT(self) -> None:
        self.echo()

    def echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        document = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": self.rfile.read(length).decode(),
        }
        self.reply(200, json.dumps(document), "application/json")

    def reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Served-By", "test-server")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


@pytest.fixture
def closed_url() -> Iterator[str]:
    # A port that is bound but not listening refuses connections, and nobody else can take it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


def test_registered_through_its_entry_point() -> None:
    assert load(CHECKS_GROUP, "http") is HttpCheck


def test_every_option_is_documented(assert_documented) -> None:
    assert_documented(HttpCheck)


def test_any_2xx_passes_by_default(evaluate, server: str) -> None:
    ok = evaluate(HttpCheck, {"http": f"{server}/json"})
    assert ok.status == "passed"
    assert ok.observed["status"] == 200
    assert isinstance(ok.observed["latency_ms"], float)
    assert evaluate(HttpCheck, {"http": f"{server}/status/204"}).passed
    down = evaluate(HttpCheck, {"http": f"{server}/status/503"})
    assert down.status == "failed"
    assert down.message == f"GET {server}/status/503: expected status 2xx, got 503"


@pytest.mark.parametrize(
    ("status", "code", "passes"),
    [
        (200, 200, True),
        (200, 500, False),
        ([200, 204], 204, True),
        ([200, 204], 404, False),
        ({">=": 200, "<": 400}, 302, True),
        ({">=": 200, "<": 400}, 404, False),
        ({"in": [404]}, 404, True),
    ],
)
def test_status(evaluate, server: str, status: Any, code: int, passes: bool) -> None:
    observation = evaluate(
        HttpCheck, {"http": f"{server}/status/{code}", "expect": {"status": status}}
    )
    assert observation.passed is passes
    assert observation.observed["status"] == code


def test_redirects_are_not_followed_unless_asked(evaluate, server: str) -> None:
    raw: dict[str, Any] = {"http": f"{server}/redirect", "expect": {"status": 200}}
    stopped = evaluate(HttpCheck, raw)
    assert stopped.status == "failed"
    assert "expected status 200, got 302" in stopped.message
    followed = evaluate(HttpCheck, {**raw, "follow_redirects": True})
    assert followed.passed
    assert followed.observed["url"] == f"{server}/json"


def test_body_contains_and_regex(evaluate, server: str) -> None:
    url = f"{server}/text"
    assert evaluate(HttpCheck, {"http": url, "expect": {"body_contains": "hello"}}).passed
    missing = evaluate(HttpCheck, {"http": url, "expect": {"body_contains": "goodbye"}})
    assert missing.status == "failed"
    assert "expected the body to contain 'goodbye'" in missing.message
    assert evaluate(HttpCheck, {"http": url, "expect": {"body_regex": r"version: 1\.\d+"}}).passed
    wrong = evaluate(HttpCheck, {"http": url, "expect": {"body_regex": r"version: 2\."}})
    assert wrong.status == "failed"
    assert "to match" in wrong.message


def test_json_expectations(evaluate, server: str) -> None:
    url = f"{server}/json"
    expect = {"$.status": "ok", "$.queue": {"<": 10}, "$.checks[0].ok": True}
    ok = evaluate(HttpCheck, {"http": url, "expect": {"json": expect}})
    assert ok.passed
    assert ok.observed["json"] == {"$.status": "ok", "$.queue": 5, "$.checks[0].ok": True}
    wrong = evaluate(HttpCheck, {"http": url, "expect": {"json": {"$.version": "2.0.0"}}})
    assert wrong.status == "failed"
    assert "expected $.version '2.0.0', got '1.2.3'" in wrong.message
    missing = evaluate(
        HttpCheck, {"http": url, "expect": {"json": {"$.nothing": {"exists": True}}}}
    )
    assert missing.status == "failed"


def test_json_expected_values_expand_variables(evaluate, server: str) -> None:
    raw = {"http": f"{server}/json", "expect": {"json": {"$.version": "${VERSION}"}}}
    assert evaluate(HttpCheck, raw, values={"VERSION": "1.2.3"}).passed
    assert evaluate(HttpCheck, raw, values={"VERSION": "1.2.4"}).status == "failed"


def test_json_expectation_on_a_body_that_is_not_json(evaluate, server: str) -> None:
    observation = evaluate(HttpCheck, {"http": f"{server}/text", "expect": {"json": {"$.a": 1}}})
    assert observation.status == "failed"
    assert "it is not JSON" in observation.message


def test_headers_are_matched_case_insensitively(evaluate, server: str) -> None:
    url = f"{server}/json"
    expect = {"header": {"content-type": {"contains": "json"}, "X-SERVED-BY": "test-server"}}
    assert evaluate(HttpCheck, {"http": url, "expect": expect}).passed
    missing = evaluate(HttpCheck, {"http": url, "expect": {"header": {"x-version": "1"}}})
    assert missing.status == "failed"
    assert "expected header x-version '1', got None" in missing.message


def test_latency_bound(evaluate, server: str) -> None:
    slow = evaluate(
        HttpCheck, {"http": f"{server}/slow?seconds=0.5", "expect": {"latency": "100ms"}}
    )
    assert slow.status == "failed"
    assert "expected latency <= 100ms" in slow.message
    assert evaluate(HttpCheck, {"http": f"{server}/json", "expect": {"latency": "30s"}}).passed


def test_timeout_is_a_failed_check(evaluate, server: str) -> None:
    raw = {"http": f"{server}/slow?seconds=5", "timeout": "200ms"}
    observation = evaluate(HttpCheck, raw)
    assert observation.status == "failed"
    assert "no answer in 0.2s" in observation.message
    from_context = evaluate(HttpCheck, {"http": f"{server}/slow?seconds=5"}, timeout=0.2)
    assert from_context.status == "failed"


def test_connection_refused_is_a_failed_check(evaluate, closed_url: str) -> None:
    observation = evaluate(HttpCheck, {"http": closed_url})
    assert observation.status == "failed"
    assert "cannot connect" in observation.message


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/x", "http://bad..host/"])
def test_a_request_that_cannot_be_sent_is_an_error(evaluate, url: str) -> None:
    assert evaluate(HttpCheck, {"http": url}).status == "error"


def test_unknown_host_is_an_error(evaluate) -> None:
    observation = evaluate(HttpCheck, {"http": "http://phasegate-test.invalid/"})
    assert observation.status == "error"
    assert "unknown host" in observation.message


def test_request_method_headers_and_bodies(evaluate, server: str) -> None:
    values = {"TOKEN": "t-123", "BUILD": "77"}
    raw = {
        "http": f"{server}/echo",
        "method": "post",
        "headers": {"X-Token": "${TOKEN}"},
        "json": {"build": "${BUILD}", "n": 1},
        "expect": {
            "json": {
                "$.method": "POST",
                "$.headers.x-token": "t-123",
                "$.headers.content-type": "application/json",
                "$.body": {"contains": '"build":"77"'},
            }
        },
    }
    assert evaluate(HttpCheck, raw, values=values).passed
    text = {"http": f"{server}/echo", "method": "PUT", "body": "v=${BUILD}"}
    text["expect"] = {"json": {"$.method": "PUT", "$.body": "v=77"}}
    assert evaluate(HttpCheck, text, values=values).passed


def test_secrets_are_masked_in_what_is_reported(evaluate, server: str) -> None:
    raw = {
        "http": f"{server}/echo?token=${{TOKEN}}",
        "headers": {"Authorization": "Bearer ${TOKEN}"},
        "expect": {"status": 500},
    }
    observation = evaluate(
        HttpCheck, raw, values={"TOKEN": "s3cret-value"}, secrets=["s3cret-value"]
    )
    assert observation.status == "failed"
    assert "s3cret-value" not in json.dumps(observation.observed)
    assert "s3cret-value" not in observation.message
    assert "***" in observation.message


def test_observed_body_is_an_excerpt(evaluate, server: str) -> None:
    observation = evaluate(HttpCheck, {"http": f"{server}/big", "expect": {"body_contains": "zz"}})
    assert observation.passed
    assert len(observation.observed["body"]) < 2100


@pytest.mark.parametrize(
    "raw",
    [
        {"http": "http://x", "verify": False},
        {"http": "http://x", "expect": {"stauts": 200}},
        {"http": "http://x", "expect": {"status": {"code": 200}}},
        {"http": "http://x", "expect": {"status": {">>": 200}}},
        {"http": "http://x", "expect": {"json": {"$.a": {"~": 1, "==": 2}}}},
        {"http": "http://x", "expect": {"json": {"$[[[": 1}}},
        {"http": "http://x", "expect": {"body_regex": "(unclosed"}},
        {"http": "http://x", "expect": {"header": {"x": {"in": 3}}}},
        {"http": "http://x", "expect": {"latency": "soon"}},
        {"http": "http://x", "body": "a", "json": {"a": 1}},
        {"http": "http://x", "method": "GET /"},
        {"http": "http://x", "json_body": {"a": 1}},
    ],
)
def test_invalid_options_fail_at_plan_load(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpCheck.model_validate(raw)


def test_plan_syntax_survives_a_round_trip() -> None:
    raw = {"http": "http://x/", "json": {"a": 1}, "expect": {"json": {"$.a": 1}, "status": [200]}}
    check = HttpCheck.model_validate(raw)
    assert check.model_dump(exclude_defaults=True) == raw
    assert HttpCheck.model_validate(check.model_dump()) == check


def test_words_for_reports() -> None:
    check = HttpCheck.model_validate(
        {"http": "http://x/h", "expect": {"json": {"$.s": "ok"}, "latency": "250ms"}}
    )
    assert check.describe() == "GET http://x/h"
    assert check.expectation() == "status 2xx, $.s 'ok', latency <= 250ms"
