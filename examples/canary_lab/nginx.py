"""A real nginx in a scratch directory, proxying to lab backends through a phasegate-owned
upstream file.

Everything nginx touches lives under ``workdir`` (the prefix): the configuration, the upstream
file, the pid file, the error log and the temp paths, so several labs (and parallel tests) run
side by side and nothing is left behind. nginx runs in the foreground (``daemon off``) as a
child of this process, so stopping it is a signal and a wait, never a search for a pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any, Self

import httpx

from canary_lab.ports import free_port
from canary_lab.process import spawn, stop_group, wait_ready
from canary_lab.service import Service
from phasegate.traffic.nginx import render_upstream

UPSTREAM = "app"
START_LIMIT = 10.0
STOP_LIMIT = 10.0

CONFIG = """\
# canary_lab nginx: everything under {prefix}
daemon off;
master_process on;
worker_processes 1;
{user}pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{ worker_connections 512; }}

http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;

    include {upstream_file};

    server {{
        listen 127.0.0.1:{port};

        location = /phasegate-weights {{
            default_type application/json;
            return 200 $phasegate_weights;
        }}

        location / {{
            proxy_pass http://{upstream};
            # A failing canary must be seen failing, not retried on the stable backend.
            proxy_next_upstream off;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/local/sbin:/usr/sbin:/sbin")


class NginxServer(Service):
    """nginx on 127.0.0.1:port in front of ``upstreams`` (backend name -> address); all traffic
    starts on the first backend. A context manager."""

    def __init__(self, workdir: Path, upstreams: dict[str, str], port: int | None = None) -> None:
        if not upstreams:
            raise ValueError("give at least one upstream")
        self.prefix = Path(workdir).resolve()
        self.upstreams = dict(upstreams)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.confirm_url = f"{self.url}/phasegate-weights"
        self.config = self.prefix / "nginx.conf"
        self.upstream_file = self.prefix / "phasegate" / f"{UPSTREAM}-upstream.conf"
        self.error_log = self.prefix / "error.log"
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (no `nginx` on PATH or in /usr/sbin)")
        self.binary = binary
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def argv(self) -> list[str]:
        """nginx with this lab's prefix and error log (before the config is read)."""
        return [self.binary, "-p", str(self.prefix), "-e", str(self.error_log)]

    def router_options(self) -> dict[str, Any]:
        """The ``nginx:`` options of a plan's router for this server."""
        return {
            "upstream_file": str(self.upstream_file),
            "upstream": UPSTREAM,
            "servers": dict(self.upstreams),
            "config": str(self.config),
            "nginx": self.argv,
            "confirm_url": self.confirm_url,
            "timeout": "15s",
        }

    def start(self) -> Self:
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        self.upstream_file.parent.mkdir(parents=True, exist_ok=True)
        names = list(self.upstreams)
        weights = {name: 100 if i == 0 else 0 for i, name in enumerate(names)}
        servers = {name: [address] for name, address in self.upstreams.items()}
        self.upstream_file.write_text(render_upstream(UPSTREAM, servers, weights))
        self.config.write_text(
            CONFIG.format(
                prefix=self.prefix,
                user="user root;\n" if os.geteuid() == 0 else "",
                upstream_file=self.upstream_file,
                port=self.port,
                upstream=UPSTREAM,
            )
        )
        self._process = spawn([*self.argv, "-c", str(self.config)], self.prefix / "nginx.out")
        try:
            wait_ready(self._process, "nginx", self._answers, self.logs, self.url, START_LIMIT)
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        """The weights location answers: the workers serve this configuration."""
        try:
            return httpx.get(self.confirm_url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def logs(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.prefix / "nginx.out", self.error_log)]
        return "".join(p for p in parts if p)[-4000:]

    def stop(self) -> None:
        """Graceful quit (SIGQUIT to the master), then a kill if it lingers; always waits."""
        process, self._process = self._process, None
        stop_group(process, signal.SIGQUIT, STOP_LIMIT)
