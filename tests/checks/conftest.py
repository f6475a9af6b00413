"""Shared helpers for the check-kind tests: a real PluginContext and a one-call evaluator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from phasegate.checks.base import CheckSpec, Observation
from phasegate.executors.local import LocalExecutor
from phasegate.masking import Masker
from phasegate.plugin import PluginContext
from phasegate.substitution import substitute

MakeContext = Callable[..., PluginContext]
Evaluate = Callable[..., Observation]


@pytest.fixture
def make_ctx(tmp_path: Path) -> MakeContext:
    def make(
        values: Mapping[str, str] | None = None,
        *,
        timeout: float = 10.0,
        secrets: Iterable[str] = (),
        plan_dir: Path | None = None,
    ) -> PluginContext:
        variables = {"PLAN_DIR": str(plan_dir or tmp_path), **(values or {})}
        return PluginContext(
            executor=LocalExecutor(),
            masker=Masker(secrets),
            plan_dir=str(plan_dir or tmp_path),
            env={},
            expand=lambda text: substitute(text, variables),
            shell=["/bin/sh", "-c"],
            timeout=timeout,
        )

    return make


@pytest.fixture
def evaluate(make_ctx: MakeContext) -> Evaluate:
    """Validate a raw check mapping with its kind's model, evaluate it once, sanity-check it."""

    def run(
        model: type[CheckSpec], raw: dict[str, Any], ctx: PluginContext | None = None, **kw: Any
    ) -> Observation:
        check = model.model_validate(raw)
        observation = asyncio.run(check.evaluate(ctx or make_ctx(**kw)))
        assert observation.status in ("passed", "failed", "error")
        json.dumps(observation.observed)  # must be journal-ready
        assert observation.message
        assert "\n" not in observation.message
        return observation

    return run


def undocumented(model: type[BaseModel], skip: Iterable[str] = ()) -> list[str]:
    """Fields of a model (and of nested option models) that have no description."""
    missing = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        if not field.description:
            missing.append(f"{model.__name__}.{name}")
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            missing += undocumented(annotation)
    return missing


@pytest.fixture
def assert_documented() -> Callable[[type[CheckSpec]], None]:
    def check(model: type[CheckSpec]) -> None:
        assert undocumented(model, skip=CheckSpec.model_fields) == []
        json.dumps(model.model_json_schema())

    return check


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout tests) is expected here


class ReplyingHandler(BaseHTTPRequestHandler):
    """A quiet request handler with one way to answer: ``reply(status, body)``, a string as
    is or anything else as JSON, with ``content_type`` when the class sets one."""

    content_type: str | None = None

    def reply(self, status: int, body: Any) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        if self.content_type is not None:
            self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1, on a port the OS picks, serving in a thread."""
    httpd = QuietHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


Serve = Callable[[type[BaseHTTPRequestHandler]], contextlib.AbstractContextManager[str]]


@pytest.fixture(scope="session")
def serve() -> Serve:
    """``with serve(Handler) as base_url: ...``; usable from module-scoped fixtures."""
    return serving


@pytest.fixture
def closed_port() -> Iterator[int]:
    # Bound but not listening: connections are refused, and nobody else can take the port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
