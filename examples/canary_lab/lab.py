"""The whole canary lab in one context manager: what ``python -m canary_lab up`` starts and
what tests use.

    stable Backend ─┐
                    ├─ nginx | haproxy (APP_URL) ◄── LoadGenerator
    canary Backend ─┘
          ▲
          └── Prometheus (PROMETHEUS_URL) scrapes both backends every second

The router starts with all traffic on stable; moving it is phasegate's job. ``env()`` gives
the variables a plan refers to (``${NGINX_UPSTREAM_FILE}``, ``${PROMETHEUS_URL}``, …), the
same ones ``up`` writes to ``lab.env`` and ``lab.json``.

Everything listens on 127.0.0.1 on ports picked at start, and every file lives under
``workdir`` (``nginx/``, ``haproxy/``, ``prometheus/``), so labs run side by side.
"""

from __future__ import annotations

import json
import os
import shlex
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal, Self

from canary_lab.backend import Backend
from canary_lab.haproxy import HaproxyServer
from canary_lab.load import LoadGenerator
from canary_lab.nginx import NginxServer
from canary_lab.prometheus import PrometheusServer
from canary_lab.service import Service

Router = Literal["nginx", "haproxy"]
ROUTERS: tuple[Router, ...] = ("nginx", "haproxy")
ENV_FILE = "lab.env"
JSON_FILE = "lab.json"


class Lab(Service):
    """Backends, router, Prometheus and (optionally) load, started and stopped together."""

    def __init__(
        self,
        workdir: Path,
        router: Router = "nginx",
        load: bool = True,
        *,
        rate: float = 100.0,
        load_seconds: float = 300.0,
        wait_for_targets: bool = True,
    ) -> None:
        if router not in ROUTERS:
            raise ValueError(f"unknown router {router!r}; choose one of {', '.join(ROUTERS)}")
        self.workdir = Path(workdir).resolve()
        self.router = router
        self.with_load = load
        self.rate = rate
        self.load_seconds = load_seconds
        self.wait_for_targets = wait_for_targets
        self.stable = Backend("stable")
        self.canary = Backend("canary")
        self.router_server: NginxServer | HaproxyServer | None = None
        self.prometheus: PrometheusServer | None = None
        self.load: LoadGenerator | None = None
        self._stack = ExitStack()

    @property
    def backends(self) -> dict[str, Backend]:
        return {"stable": self.stable, "canary": self.canary}

    @property
    def url(self) -> str:
        """Where the application answers: the router."""
        assert self.router_server is not None, "the lab is not started"
        return self.router_server.url

    def start(self) -> Self:
        with ExitStack() as stack:
            for backend in self.backends.values():
                stack.enter_context(backend)
            addresses = {name: b.address for name, b in self.backends.items()}
            self.workdir.mkdir(parents=True, exist_ok=True)
            if self.router == "nginx":
                self.router_server = NginxServer(self.workdir / "nginx", addresses)
            else:
                self.router_server = HaproxyServer(self.workdir / "haproxy", addresses)
            stack.enter_context(self.router_server)
            self.prometheus = PrometheusServer(self.workdir / "prometheus", addresses)
            stack.enter_context(self.prometheus)
            if self.wait_for_targets:
                self.prometheus.wait_for_targets()
            if self.with_load:
                self.load = LoadGenerator(
                    self.url,
                    rate=self.rate,
                    max_seconds=self.load_seconds,
                    max_requests=max(1, int(self.rate * self.load_seconds)),
                )
                stack.enter_context(self.load)
            # Started: from now on the lab's own stack owns the cleanup.
            self._stack = stack.pop_all()
        return self

    def stop(self) -> None:
        """Load first, then Prometheus, the router and the backends (reverse start order)."""
        self._stack.close()

    def env(self) -> dict[str, str]:
        """The variables a plan uses against this lab (``--var K=V`` or the environment)."""
        assert self.router_server is not None and self.prometheus is not None, "not started"
        env = {
            "LAB_DIR": str(self.workdir),
            "ROUTER": self.router,
            "APP_URL": self.router_server.url,
            "PROMETHEUS_URL": self.prometheus.url,
            "STABLE_ADDR": self.stable.address,
            "CANARY_ADDR": self.canary.address,
            "STABLE_URL": self.stable.url,
            "CANARY_URL": self.canary.url,
        }
        options = self.router_server.router_options()
        if isinstance(self.router_server, NginxServer):
            env |= {
                "NGINX_UPSTREAM_FILE": options["upstream_file"],
                "NGINX_UPSTREAM": options["upstream"],
                "NGINX_CONFIG": options["config"],
                "NGINX_PREFIX": str(self.router_server.prefix),
                "NGINX_ERROR_LOG": str(self.router_server.error_log),
                "NGINX_BINARY": self.router_server.binary,
                "NGINX_CONFIRM_URL": options["confirm_url"],
            }
        else:
            env |= {
                "HAPROXY_SOCKET": options["socket"],
                "HAPROXY_BACKEND": options["backend"],
            }
        return env

    def pids(self) -> dict[str, int]:
        """Processes of the lab: this one (backends and load are its threads), the router's
        master and Prometheus."""
        found = {"lab": os.getpid()}
        router_pid = _pid_of(self.router_server)
        if router_pid is not None:
            found[self.router] = router_pid
        if self.prometheus is not None and self.prometheus.pid is not None:
            found["prometheus"] = self.prometheus.pid
        return found

    def describe(self) -> dict[str, Any]:
        """What ``lab.json`` holds."""
        assert self.router_server is not None
        return {
            "router": self.router,
            "env": self.env(),
            "pids": self.pids(),
            "router_options": {self.router: self.router_server.router_options()},
        }

    def write_files(self) -> tuple[Path, Path]:
        """``lab.env`` (for ``source``) and ``lab.json``, written whole or not at all."""
        env_lines = [f"export {k}={shlex.quote(v)}" for k, v in self.env().items()]
        env_file = _write_atomically(self.workdir / ENV_FILE, "\n".join(env_lines) + "\n")
        json_file = _write_atomically(
            self.workdir / JSON_FILE, json.dumps(self.describe(), indent=2) + "\n"
        )
        return env_file, json_file

    def remove_files(self) -> None:
        for name in (ENV_FILE, JSON_FILE):
            (self.workdir / name).unlink(missing_ok=True)


def _pid_of(server: NginxServer | HaproxyServer | None) -> int | None:
    # The router classes do not expose their process; nginx writes a pid file, haproxy (in
    # the foreground, -db) does not, so fall back to the child process object.
    if server is None:
        return None
    if isinstance(server, NginxServer):
        try:
            return int((server.prefix / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            pass
    pid = getattr(server, "pid", None)
    if isinstance(pid, int):
        return pid
    process = getattr(server, "_process", None)
    return process.pid if process is not None else None


def _write_atomically(path: Path, text: str) -> Path:
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(path)
    return path
