"""What ``phasegate serve`` is configured with."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServerConfig:
    state_dir: Path
    # The journal's PostgreSQL URL (``serve --store``); None: the SQLite journal in
    # ``state_dir``. Run directories stay in ``state_dir`` either way (docs/server.md).
    store_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    # Runs (and rollbacks, resumes) executing at once; the rest wait in a queue.
    workers: int = 4
    # Where run actions execute: "local", this server's worker pool (server/workers.py);
    # "queue", `phasegate worker` processes on any host, through the PostgreSQL store's job
    # queue (server/queue.py). An action carrying a secret value still runs locally.
    dispatch: str = "local"
    # ``plan_path`` in a request must lie under this directory (the server's working
    # directory by default): a client names plans, it does not browse the server's files.
    plan_root: Path = field(default_factory=Path.cwd)
    # /healthz fails below this much free space in the state directory.
    min_free_bytes: int = 64 * 1024 * 1024
    # On startup, resume the server's runs whose worker died (a crash, a reboot).
    resume_orphans: bool = True
    python: str = sys.executable
    # Names of the server's environment variables that server-started runs see, beyond the
    # base set in ``server.environment`` (``serve --pass-env``): an explicit allow-list.
    pass_env: tuple[str, ...] = ()
    # Larger request bodies are refused (413) before they are read (``server.limits``).
    max_request_bytes: int = 2 * 1024 * 1024
    # Failed authentications per client address: a burst, then one per refill period
    # (``server.throttle``).
    auth_failure_burst: int = 10
    auth_failure_refill_seconds: float = 6.0
    # /metrics answers only with a valid token (any role) when set (``serve
    # --metrics-token-required``).
    metrics_token_required: bool = False
    # The umask runs (worker processes and their steps) get; the server runs with 077.
    run_umask: int | None = None
    # Fire the store's schedules (``server/scheduler.py``; ``serve --no-schedules``).
    run_schedules: bool = True
    # A policy pack every started plan must satisfy (``serve --policies``): a violating
    # start is refused with 422 ``policy_violation`` (docs/policies.md).
    policies: Path | None = None
    # A worker gives back a run that only waits (``serve --park-after``; docs/server.md,
    # "Parked runs"): a run queued this many seconds for a lane slot, a monitoring run whose
    # next check is further off than this. None: a waiting run keeps its worker.
    park_after: float | None = 3.0
    # A parked monitoring run is resumed this many seconds before its next check is due
    # (``serve --park-lead``): a worker takes a second or two to start on a loaded host.
    park_lead: float = 1.5
