"""``/healthz`` (no token: what a load balancer or systemd watchdog asks) and ``/api/v1/me``."""

from __future__ import annotations

import os
import shutil
import tempfile

from fastapi import APIRouter, Depends, Request

from phasegate.errors import StoreError
from phasegate.server.api.deps import ThreadStores, config
from phasegate.server.api.models import Health, HealthCheck, Me
from phasegate.server.auth import Identity, require
from phasegate.server.config import ServerConfig
from phasegate.server.errors import ERROR_RESPONSES, ApiError, ErrorEnvelope

router = APIRouter(tags=["health"])


def _store(stores: ThreadStores) -> HealthCheck:
    try:
        stores.get().runs_marker()
    except StoreError as exc:
        return HealthCheck(ok=False, message=f"journal unreadable: {exc}")
    return HealthCheck(ok=True, message="journal readable")


def _writable(cfg: ServerConfig) -> HealthCheck:
    try:
        with tempfile.NamedTemporaryFile(dir=cfg.state_dir, prefix=".healthz-") as fh:
            fh.write(b"ok")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return HealthCheck(ok=False, message=f"state directory not writable: {exc.strerror}")
    return HealthCheck(ok=True, message="state directory writable")


def _disk(cfg: ServerConfig) -> HealthCheck:
    try:
        free = shutil.disk_usage(cfg.state_dir).free
    except OSError as exc:
        return HealthCheck(ok=False, message=f"cannot measure free space: {exc.strerror}")
    mib = free // (1024 * 1024)
    if free < cfg.min_free_bytes:
        need = cfg.min_free_bytes // (1024 * 1024)
        return HealthCheck(ok=False, message=f"{mib} MiB free, below {need} MiB")
    return HealthCheck(ok=True, message=f"{mib} MiB free")


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": ErrorEnvelope, "description": "unhealthy; details: the checks"}},
)
def healthz(request: Request, cfg: ServerConfig = Depends(config)) -> Health:  # noqa: B008
    """The journal is readable, the state directory writable, and there is free space.
    503 (in the error envelope, the checks as details) when any is not."""
    return check_health(cfg, request.app.state.stores)


@router.get("/api/v1/me", response_model=Me, responses=ERROR_RESPONSES)
def me(identity: Identity = Depends(require("viewer"))) -> Me:  # noqa: B008
    """Who the token is."""
    return Me(name=identity.name, role=identity.role, actor=identity.actor)


def check_health(cfg: ServerConfig, stores: ThreadStores) -> Health:
    checks = {"store": _store(stores), "filesystem": _writable(cfg), "disk": _disk(cfg)}
    failed = [f"{name}: {c.message}" for name, c in checks.items() if not c.ok]
    if failed:
        raise ApiError(
            503,
            "internal",
            "unhealthy: " + "; ".join(failed),
            details=[{"check": name, **c.model_dump()} for name, c in checks.items()],
        )
    return Health(status="ok", checks=checks)
