"""Property-based requests generated from /api/v1/openapi.json: no 5xx, ever, and every
answer matches its documented schema. In-process ASGI, an admin token, bounded examples."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from tests.server.conftest import make_tokens

# The schema loads at collection time, so the app (and its state directory) exists then;
# the module fixture cleans both up.
ROOT = Path(tempfile.mkdtemp(prefix="phasegate-schemathesis-"))
(ROOT / "plans").mkdir()
TOKENS = make_tokens(ROOT / "state")
APP = create_app(ServerConfig(state_dir=ROOT / "state", plan_root=ROOT / "plans"))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    assert APP.state.pool.join(120)
    shutil.rmtree(ROOT, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKENS['admin']}"})
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"}, body
    # Not "positive data accepted": a schema-valid body may hold an invalid plan (422).
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
