"""Who is asking, and may they: FastAPI dependencies over a list of authenticators.

``require(role)`` is the one dependency routes use; it returns the caller's ``Identity`` or
answers 401 (nobody recognised, with ``WWW-Authenticate: Bearer``) / 403 (role too low).

Extension point: ``app.state.authenticators`` is a list of callables ``(Request) ->
Identity | None`` tried in order; the bearer token is the first. The dashboard appends one
that reads its signed session cookie (and must itself refuse cross-site mutations: a cookie,
unlike a bearer header, is sent by the browser on its own), and every API route accepts it.

Roles are ordered: viewer (read) < operator (+ start, approve, abort, roll back, resume) <
admin (+ token management). The journal records the caller as ``token:<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from phasegate.server.errors import ApiError, respond
from phasegate.server.tokens import ROLES, TokenStore

Authenticator = Callable[[Request], "Identity | None"]

bearer_scheme = HTTPBearer(auto_error=False, description="an API token: `pg_…`")


@dataclass(frozen=True)
class Identity:
    name: str  # the token's name
    role: str
    via: str = "token"

    @property
    def actor(self) -> str:
        """How the journal and the report attribute this caller's actions."""
        return f"token:{self.name}"

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def bearer_authenticator(request: Request) -> Identity | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    tokens: TokenStore = request.app.state.tokens
    found = tokens.verify(credentials.strip())
    return None if found is None else Identity(found.name, found.role)


def authenticate(request: Request) -> Identity | None:
    authenticators: list[Authenticator] = request.app.state.authenticators
    for authenticator in authenticators:
        identity = authenticator(request)
        if identity is not None:
            return identity
    return None


def require(role: str) -> Callable[..., Identity]:
    """A dependency: the caller's identity, if it has at least ``role``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def dependency(
        request: Request,
        _credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008
    ) -> Identity:
        identity = authenticate(request)
        if identity is None:
            raise ApiError(
                401,
                "unauthorized",
                "no valid API token",
                hint="send `Authorization: Bearer pg_…` (`phasegate token create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not identity.can(role):
            raise ApiError(
                403,
                "forbidden",
                f"{identity.actor} has the role {identity.role}; this needs {role}",
                hint="ask an admin for a token with that role",
            )
        return identity

    return dependency


class TokenRequired:
    """An ASGI app answering only requests with a valid bearer token (any role), for
    ``/metrics`` under ``serve --metrics-token-required``: a Prometheus scrape job sends
    one with ``authorization: {credentials_file: …}``."""

    def __init__(self, app: ASGIApp, tokens: TokenStore) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, credentials = header.partition(" ")
            found = None
            if scheme.lower() == "bearer" and credentials.strip():
                # PBKDF2 on a first sight of a token: off the event loop.
                found = await anyio.to_thread.run_sync(self.tokens.verify, credentials.strip())
            if found is None:
                error = ApiError(
                    401,
                    "unauthorized",
                    "/metrics needs a valid API token on this server",
                    hint="send `Authorization: Bearer pg_…` (any role; `phasegate token "
                    "create --role viewer`)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await respond(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
