"""Request body size: refused before anything reads, parses or buffers it.

A declared ``Content-Length`` over the limit is answered at once (413, the JSON error
envelope) without reading a byte; a chunked body is counted as it arrives and refused the
moment it passes the limit. So the cost of an oversized request to the server is bounded by
the limit, not by what the client chooses to send (nginx's ``client_max_body_size`` works the
same way).
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phasegate.server.errors import ApiError, respond

DEFAULT_MAX_BODY = 2 * 1024 * 1024  # a plan is at most 1,000,000 characters, JSON-escaped


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes"


HINT = "send a smaller plan, or name a plan file under the server's --plan-root (plan_path)"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            error = ApiError(413, "invalid_request", too_large(self.max_bytes), hint=HINT)
            if not declared.isdigit():
                error = ApiError(400, "invalid_request", "Content-Length is not a number")
            await respond(error)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException from reading the body through (others
                    # become a 400); the error handlers turn it into the envelope.
                    raise HTTPException(413, too_large(self.max_bytes))
            return message

        await self.app(scope, limited, send)
