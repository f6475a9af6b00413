"""The ``http`` check: one request, then its status, body, JSON, headers and latency.

Plan syntax::

    - http: http://127.0.0.1:8080/healthz    # ${VAR}s expand in the URL, headers and body
      method: GET                             # default GET
      headers: {Authorization: "Bearer ${TOKEN}"}
      body: "text"                            # or `json: {...}`, sent as a JSON body
      verify_tls: true                        # default true
      follow_redirects: false                 # default false
      expect:
        status: 200                           # or [200, 204] or {">=": 200, "<": 400};
                                              # default: any 2xx
        body_contains: "ok"
        body_regex: "version: 1\\.[0-9]+"
        json: {"$.status": ok, "$.queue": {"<": 100}}   # JSONPath -> value or comparison
        header: {content-type: {contains: json}}       # case-insensitive names
        latency: 500ms                        # upper bound for the whole response

A server that cannot be reached, times out or answers otherwise than expected makes the check
``failed``: for a health check that is the unhealthy case. ``error`` is kept for when the check
cannot even try (an invalid URL, a host name that does not resolve).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Mapping
from typing import Any, ClassVar, NotRequired, TypedDict

import httpx
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from phasegate.checks._support import (
    comparison,
    expand_all,
    jsonable,
    observation,
    time_limit,
    words,
)
from phasegate.checks.base import CheckSpec, Observation, Status
from phasegate.compare import ComparisonError, check_json, json_path, matches, validate_expectation
from phasegate.options import Duration, Model
from phasegate.plugin import PluginContext, excerpt, read_capped
from phasegate.run.record import JsonDict, JsonValue

# Enough for any health or status document; a larger body is cut, and only its start is matched.
BODY_LIMIT = 4 << 20

# Plans write `json`, which would shadow BaseModel.json; the alias keeps the plan syntax.
_ALIASED = ConfigDict(serialize_by_alias=True)


class HttpExpect(Model):
    model_config = Model.model_config | _ALIASED

    status: int | list[int] | dict[str, Any] | None = Field(
        None,
        description="expected status: a code, a list of codes or a comparison; default any 2xx",
    )
    body_contains: str | None = Field(None, description="text the body must contain")
    body_regex: str | None = Field(None, description="regular expression the body must match")
    json_values: dict[str, Any] | None = Field(
        None,
        alias="json",
        description="JSONPath -> expected value or comparison, e.g. {'$.status': 'ok'}",
    )
    header: dict[str, Any] | None = Field(
        None, description="response header name -> expected value or comparison"
    )
    latency: Duration | None = Field(None, description="maximum time for the whole response")

    @field_validator("status")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return comparison(value) if isinstance(value, dict) else value

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @field_validator("json_values", "header")
    @classmethod
    def _comparisons(cls, value: JsonDict | None, info: ValidationInfo) -> JsonDict | None:
        for key, expected in (value or {}).items():
            if info.field_name == "json_values":
                json_path(None, key)  # raises ComparisonError (a ValueError) on bad syntax
            validate_expectation(expected)
        return value


class HttpCheck(CheckSpec):
    """An HTTP(S) endpoint answers as expected."""

    model_config = CheckSpec.model_config | _ALIASED
    kind: ClassVar[str] = "http"

    http: str = Field(min_length=1, description="URL to request; ${VAR}s expand")
    method: str = Field("GET", pattern=r"^[A-Za-z]+$", description="HTTP method")
    headers: dict[str, str] = Field(default_factory=dict, description="request headers")
    body: str | None = Field(None, description="request body, as text")
    json_body: Any = Field(None, alias="json", description="request body, sent as JSON")
    verify_tls: bool = Field(True, description="verify the server's TLS certificate")
    follow_redirects: bool = Field(False, description="follow 3xx redirects")
    expect: HttpExpect = Field(default_factory=HttpExpect, description="what must hold")

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _one_body(self) -> HttpCheck:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either `body` or `json`, not both")
        return self

    def describe(self) -> str:
        return self.name or f"{self.method} {self.http}"

    def expectation(self) -> str:
        e = self.expect
        parts = [f"status {_status_words(e.status)}"]
        if e.body_contains is not None:
            parts.append(f"body contains {e.body_contains!r}")
        if e.body_regex is not None:
            parts.append(f"body matches {e.body_regex!r}")
        parts += [f"{path} {words(exp)}" for path, exp in (e.json_values or {}).items()]
        parts += [f"header {name} {words(exp)}" for name, exp in (e.header or {}).items()]
        if e.latency is not None:
            parts.append(f"latency <= {e.latency * 1000:g}ms")
        return ", ".join(parts)

    async def evaluate(self, ctx: PluginContext) -> Observation:
        url = ctx.expand(self.http)
        limit = time_limit(self, ctx)
        target = f"{self.method} {url}"
        started = time.monotonic()
        try:
            response, body, cut = await asyncio.wait_for(self._fetch(ctx, url, limit), limit)
        except (TimeoutError, httpx.TimeoutException):
            return observation(ctx, "failed", {"url": url}, f"{target}: no answer in {limit:g}s")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            return observation(ctx, "error", {"url": url}, f"{target}: cannot send: {exc}")
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            if _unresolved(exc):
                return observation(ctx, "error", {"url": url}, f"{target}: unknown host: {reason}")
            what = "cannot connect" if isinstance(exc, httpx.ConnectError) else "broken response"
            return observation(ctx, "failed", {"url": url}, f"{target}: {what}: {reason}")
        latency = time.monotonic() - started
        verdict = self._judge(ctx, target, response, body=body, cut=cut, latency=latency)
        return observation(ctx, *verdict)

    async def _fetch(
        self, ctx: PluginContext, url: str, limit: float
    ) -> tuple[httpx.Response, bytes, bool]:
        headers = {k: ctx.expand(v) for k, v in self.headers.items()}
        content = None if self.body is None else ctx.expand(self.body).encode()
        payload = expand_all(self.json_body, ctx.expand)
        async with httpx.AsyncClient(
            verify=self.verify_tls, follow_redirects=self.follow_redirects, timeout=limit
        ) as client:
            request = client.build_request(
                self.method, url, headers=headers, content=content, json=payload
            )
            response = await client.send(request, stream=True)
            body, truncated = await read_capped(response, BODY_LIMIT)
        return response, body, truncated

    def _judge(
        self,
        ctx: PluginContext,
        target: str,
        response: httpx.Response,
        *,
        body: bytes,
        cut: bool,
        latency: float,
    ) -> tuple[Status, HttpObserved, str]:
        e = self.expect
        text = body.decode(response.encoding or "utf-8", errors="replace")
        observed: HttpObserved = {
            "url": str(response.request.url),
            "status": response.status_code,
            "latency_ms": round(latency * 1000, 1),
            "body": excerpt(text) + (" (body cut)" if cut else ""),
        }
        problems: list[str] = []
        status = response.status_code
        if not (200 <= status < 300 if e.status is None else _status_ok(status, e.status)):
            problems.append(f"expected status {_status_words(e.status)}, got {status}")
        if e.body_contains is not None:
            needle = ctx.expand(e.body_contains)
            if needle not in text:
                problems.append(f"expected the body to contain {needle!r}; it does not")
        if e.body_regex is not None and re.search(e.body_regex, text) is None:
            problems.append(f"expected the body to match {e.body_regex!r}; it does not")
        if e.header:
            seen = {name: response.headers.get(name) for name in e.header}
            observed["headers"] = jsonable(seen)
            for name, expected in expand_all(e.header, ctx.expand).items():
                if not matches(seen.get(name), expected):
                    problems.append(
                        f"expected header {name} {words(expected)}, got {seen.get(name)!r}"
                    )
        if e.json_values:
            expected_values = expand_all(e.json_values, ctx.expand)
            try:
                document = json.loads(text)
            except ValueError:
                problems.append("expected a JSON body; it is not JSON")
            else:
                try:
                    _, values = check_json(document, expected_values)
                except ComparisonError as exc:
                    return "error", observed, f"{target}: {exc}"
                observed["json"] = jsonable(values)
                problems += [
                    f"expected {path} {words(exp)}, got {values.get(path)!r}"
                    for path, exp in expected_values.items()
                    if not matches(values.get(path), exp)
                ]
        if e.latency is not None and latency > e.latency:
            problems.append(
                f"expected latency <= {e.latency * 1000:g}ms, took {latency * 1000:.0f}ms"
            )
        if problems:
            return "failed", observed, f"{target}: " + "; ".join(problems)
        return "passed", observed, f"{target}: {status} in {latency * 1000:.0f}ms"


class HttpObserved(TypedDict):
    """What an ``http`` check saw: the answer, and the headers and JSON values it was asked
    to judge (``expect.header``, ``expect.json``)."""

    url: str
    status: int
    latency_ms: float
    body: str  # an excerpt
    headers: NotRequired[JsonValue]
    json: NotRequired[JsonValue]


def _status_ok(status: int, expected: int | list[int] | Mapping[str, JsonValue]) -> bool:
    if isinstance(expected, list):
        return status in expected
    return matches(status, expected)


def _status_words(expected: int | list[int] | Mapping[str, JsonValue] | None) -> str:
    if expected is None:
        return "2xx"
    if isinstance(expected, list):
        return " or ".join(str(code) for code in expected)
    return words(expected)


def _unresolved(exc: BaseException) -> bool:
    # httpx wraps the resolver's socket.gaierror a few causes deep.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
