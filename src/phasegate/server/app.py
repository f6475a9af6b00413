"""``create_app(config)``: the FastAPI application behind ``phasegate serve``."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from phasegate import __version__
from phasegate.server import errors
from phasegate.server.api import decisions, feeds, health, lanes, plans, programs, runs, schedules
from phasegate.server.api.deps import ThreadStores
from phasegate.server.auth import TokenRequired, bearer_authenticator
from phasegate.server.config import ServerConfig
from phasegate.server.idempotency import IdempotencyLedger
from phasegate.server.limits import BodyLimit
from phasegate.server.scheduler import Scheduler
from phasegate.server.throttle import AuthThrottle, FailureBuckets
from phasegate.server.tokens import TokenStore
from phasegate.server.ui import mount_dashboard
from phasegate.server.workers import WorkerPool
from phasegate.store.backends import open_ledger

log = logging.getLogger("phasegate.server")


def create_app(config: ServerConfig) -> FastAPI:
    """Everything is built here, eagerly (an ASGI client that skips the lifespan still gets a
    working API); the lifespan only starts the pool and resumes orphaned runs."""
    state_dir = config.state_dir.expanduser().resolve()
    config = ServerConfig(**{**config.__dict__, "state_dir": state_dir})
    server_db = open_ledger(state_dir, url=config.store_url)
    pool = WorkerPool(config)
    scheduler = Scheduler(config, pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool.start(monitor=config.resume_orphans)
        if config.resume_orphans:
            found = await anyio.to_thread.run_sync(
                lambda: pool.resume_orphans(app.state.stores.get())
            )
            if found:
                log.info("resuming %d run(s) whose worker is gone", len(found))
        if config.run_schedules:
            scheduler.start()
        try:
            yield
        finally:
            scheduler.stop()
            pool.stop()  # workers keep running: they own their runs
            await app.state.dashboard.hub.close()
            app.state.stores.close()
            close = getattr(server_db, "close", None)
            if close is not None and config.store_url:
                close()  # the PostgreSQL ledger's connection

    app = FastAPI(
        title="phasegate",
        version=__version__,
        description="Executable rollout plans: start, watch and steer runs.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.stores = ThreadStores(state_dir, config.store_url)
    app.state.tokens = TokenStore(server_db)
    app.state.ledger = IdempotencyLedger(server_db)
    app.state.pool = pool
    app.state.scheduler = scheduler
    # Tried in order by ``auth.require``; the dashboard appends its cookie session here.
    app.state.authenticators = [bearer_authenticator]
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_request_bytes)
    # Added last, so outermost: a throttled client is answered before anything else runs.
    app.add_middleware(
        AuthThrottle,
        buckets=FailureBuckets(config.auth_failure_burst, config.auth_failure_refill_seconds),
    )
    app.include_router(health.router)
    app.include_router(plans.router)
    app.include_router(runs.router)
    app.include_router(programs.router)
    app.include_router(decisions.router)
    app.include_router(feeds.router)
    app.include_router(schedules.router)
    app.include_router(lanes.router)
    _mount_optional(app, config)
    app.state.dashboard = mount_dashboard(app, config)
    return app


def _mount_optional(app: FastAPI, config: ServerConfig) -> None:
    # -- mount point: /metrics (phasegate.server.metrics, when present) ----------------------
    try:
        metrics = importlib.import_module("phasegate.server.metrics")
    except ModuleNotFoundError as exc:
        if exc.name != "phasegate.server.metrics":
            raise
    else:
        exporter = metrics.make_metrics_app(config.state_dir, config.store_url)
        if config.metrics_token_required:
            exporter = TokenRequired(exporter, app.state.tokens)
        app.mount("/metrics", exporter)
