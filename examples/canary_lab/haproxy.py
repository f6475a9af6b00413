"""A real haproxy in a scratch directory, with an admin runtime socket for the router.

haproxy runs in the foreground (``-db``) as a child of this process, in its own process group,
so stopping it is a signal and a wait. Its configuration, socket and output stay in
``workdir``. Servers start with weight 100 for the first and 0 for the others: all traffic on
the stable backend until a router moves it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any, Self

import httpx

from canary_lab.ports import free_port
from canary_lab.process import spawn, stop_group, wait_ready
from canary_lab.service import Service

BACKEND = "app"
START_LIMIT = 10.0
STOP_LIMIT = 10.0

CONFIG = """\
# canary_lab haproxy: everything under {workdir}
global
    stats socket {socket} level admin
    stats timeout 10s

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A failing canary must be seen failing, not retried on another server.
    retries 0

frontend web
    bind 127.0.0.1:{port}
    default_backend {backend}

backend {backend}
    balance roundrobin
{servers}
"""


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or shutil.which(
        "haproxy", path="/usr/local/sbin:/usr/sbin:/sbin"
    )


class HaproxyServer(Service):
    """haproxy on 127.0.0.1:port in front of ``servers`` (server name -> address). A context
    manager."""

    def __init__(self, workdir: Path, servers: dict[str, str], port: int | None = None) -> None:
        if not servers:
            raise ValueError("give at least one server")
        self.workdir = Path(workdir).resolve()
        self.servers = dict(servers)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket = self.workdir / "admin.sock"
        self.config = self.workdir / "haproxy.cfg"
        self.output = self.workdir / "haproxy.out"
        binary = haproxy_binary()
        if binary is None:
            raise FileNotFoundError(
                "haproxy is not installed (no `haproxy` on PATH or in /usr/sbin)"
            )
        self.binary = binary
        self._process: subprocess.Popen[bytes] | None = None

    def router_options(self) -> dict[str, Any]:
        """The ``haproxy:`` options of a plan's router for this server."""
        return {
            "socket": str(self.socket),
            "backend": BACKEND,
            "servers": {name: name for name in self.servers},
            "timeout": "5s",
        }

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"    server {name} {address} weight {100 if i == 0 else 0}"
            for i, (name, address) in enumerate(self.servers.items())
        ]
        self.config.write_text(
            CONFIG.format(
                workdir=self.workdir,
                socket=self.socket,
                port=self.port,
                backend=BACKEND,
                servers="\n".join(lines),
            )
        )
        self._process = spawn([self.binary, "-db", "-f", str(self.config)], self.output)
        try:
            wait_ready(self._process, "haproxy", self._answers, self.logs, self.url, START_LIMIT)
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        """Both the runtime API socket and the frontend answer."""
        if not self.socket.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
                admin.settimeout(1.0)
                admin.connect(str(self.socket))
                admin.sendall(b"show info\n")
                if not admin.recv(64):
                    return False
            httpx.get(self.url + "/healthz", timeout=1.0)
        except (OSError, httpx.HTTPError):
            return False
        return True

    def logs(self) -> str:
        return self.output.read_text(errors="replace")[-4000:] if self.output.exists() else ""

    def stop(self) -> None:
        """SIGTERM (haproxy stops at once), then a kill of its group if it lingers; waits."""
        process, self._process = self._process, None
        stop_group(process, signal.SIGTERM, STOP_LIMIT)
