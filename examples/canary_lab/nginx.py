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
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from canary_lab.ports import free_port
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


class NginxServer:
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

    def start(self) -> NginxServer:
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
        log = (self.prefix / "nginx.out").open("wb")
        with log:
            self._process = subprocess.Popen(
                [*self.argv, "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a kill reaches the workers too
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"nginx exited at start:\n{self.logs()}")
            try:
                if httpx.get(self.confirm_url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not answer on {self.url} in {START_LIMIT:g}s")

    def logs(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.prefix / "nginx.out", self.error_log)]
        return "".join(p for p in parts if p)[-4000:]

    def stop(self) -> None:
        """Graceful quit (SIGQUIT to the master), then a kill if it lingers; always waits."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=STOP_LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_LIMIT)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
