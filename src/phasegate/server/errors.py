"""One JSON error envelope for every error the server answers::

    {"error": {"code": "...", "message": "...", "hint": "...", "details": [...]}}

Codes and statuses: ``unauthorized`` 401, ``forbidden`` 403, ``not_found`` 404,
``conflict`` 409 (a lock held, an idempotency key reused with another body),
``run_state`` 409 (the action does not apply to the run now), ``invalid_plan`` 422 (details:
the plan's problems, file:line:col, message, hint), ``policy_violation`` 422 (the plan breaks
the server's policy pack; details: each violation's policy, level, message, file:line:col),
``invalid_request`` 400/405/413/422,
``rate_limited`` 429 (too many failed authentications; ``Retry-After`` says when),
``internal`` 500/503 (never a traceback; the server log has it).

Engine errors (``phasegate.errors``) are translated here, in one place, so a route only
raises; FastAPI's own 404/405/422 and unexpected exceptions come through the same door.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from phasegate.engine.operator import SelfApproval
from phasegate.errors import (
    IdempotencyConflict,
    LockHeld,
    PhasegateError,
    PlanError,
    RunNotFound,
    RunStateError,
    StoreError,
    UsageError,
)
from phasegate.policy import PolicyRefused
from phasegate.run.record import JsonValue
from phasegate.server.passthrough import ApiJson

log = logging.getLogger("phasegate.server")

ErrorCode = Literal[
    "not_found",
    "unauthorized",
    "forbidden",
    "conflict",
    "invalid_plan",
    "policy_violation",
    "invalid_request",
    "run_state",
    "rate_limited",
    "internal",
]


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    hint: str | None = None
    details: list[ApiJson] = Field(default_factory=list)


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An error a route answers with on purpose."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        hint: str | None = None,
        details: Sequence[Mapping[str, JsonValue]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(
            code=code, message=message, hint=hint, details=[dict(d) for d in details]
        )
        self.headers = headers


def from_phasegate(exc: PhasegateError) -> ApiError:
    """The HTTP face of an engine error."""
    if isinstance(exc, PolicyRefused):
        return ApiError(
            422,
            "policy_violation",
            exc.headline or "refused by policy",
            hint="fix the plan at each file:line:col given; an admin can override a soft "
            "policy (override_policies and override_reason in the request; "
            "`phasegate run --override-policy NAME --reason TEXT` on the CLI)",
            details=[v.as_dict() for v in exc.violations],
        )
    if isinstance(exc, PlanError):
        return ApiError(
            422,
            "invalid_plan",
            exc.headline or f"plan is invalid ({len(exc.problems)} problems)",
            hint="fix each problem at the file:line:col given",
            details=[p.as_dict() for p in exc.problems],
        )
    status: int
    code: ErrorCode
    if isinstance(exc, SelfApproval):
        status, code = 403, "forbidden"
    elif isinstance(exc, RunNotFound):
        status, code = 404, "not_found"
    elif isinstance(exc, LockHeld | IdempotencyConflict):
        status, code = 409, "conflict"
    elif isinstance(exc, RunStateError):
        status, code = 409, "run_state"
    elif isinstance(exc, UsageError):
        status, code = 422, "invalid_request"
    elif isinstance(exc, StoreError):
        status, code = 503, "internal"
    else:
        status, code = 500, "internal"
    return ApiError(status, code, exc.message, hint=exc.hint)


def respond(error: ApiError) -> JSONResponse:
    return JSONResponse(
        ErrorEnvelope(error=error.body).model_dump(mode="json"),
        status_code=error.status,
        headers=error.headers,
    )


_HTTP_CODES: dict[int, ErrorCode] = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
}


STATE_DIR_SHOWN = "<state dir>"


def without_state_path(error: ApiError, state_dir: Path | None) -> ApiError:
    """The error with the server's state directory replaced by ``<state dir>``: where the
    server keeps its journal, keys and tokens is nobody's business but its operator's (they
    find the full message in the server's log)."""
    if state_dir is None:
        return error
    text = error.body.model_dump_json()
    needle = json.dumps(str(state_dir))[1:-1]  # as it appears inside a JSON string
    if needle not in text:
        return error
    scrubbed = ErrorBody.model_validate_json(text.replace(needle, STATE_DIR_SHOWN))
    log.info("answered %s: %s", error.status, error.body.message)
    cleaned = ApiError(error.status, scrubbed.code, scrubbed.message, headers=error.headers)
    cleaned.body = scrubbed
    return cleaned


def install(app: FastAPI) -> None:
    """Route every error through the envelope."""

    def answer(request: Request, error: ApiError) -> JSONResponse:
        config = getattr(request.app.state, "config", None)
        return respond(without_state_path(error, getattr(config, "state_dir", None)))

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return answer(request, exc)

    async def engine_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PhasegateError)
        return answer(request, from_phasegate(exc))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "invalid_request")
        if exc.status_code >= 500:
            code = "internal"
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            message = "no such resource"
        hint = "see /api/v1/openapi.json" if exc.status_code in (404, 405) else None
        return answer(
            request,
            ApiError(
                exc.status_code,
                code,
                message,
                hint=hint,
                headers=dict(exc.headers) if exc.headers else None,
            ),
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Only where and what: pydantic's ``input`` may echo a secret the client sent.
        details = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ())),
                "message": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        return answer(
            request,
            ApiError(
                422,
                "invalid_request",
                "the request does not match the API",
                hint="see /api/v1/openapi.json",
                details=details,
            ),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return answer(
            request,
            ApiError(
                500,
                "internal",
                "internal error",
                hint="this is a bug in phasegate; the server log has the details",
            ),
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(PhasegateError, engine_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in [
        (400, "a body that is not JSON"),
        (401, "no valid token"),
        (403, "role too low"),
        (404, "not found"),
        (409, "conflict or wrong run state"),
        (413, "the request body is too large"),
        (429, "too many failed authentications from this address; see Retry-After"),
        (422, "invalid plan or request"),
        (500, "internal error"),
        (503, "the journal is unavailable (busy, disk full)"),
    ]
}
