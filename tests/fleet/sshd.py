"""Real OpenSSH servers on 127.0.0.1 for fleet tests: Debian's /usr/sbin/sshd, one per port,
each with its own generated host key, config and pid; client key and known_hosts generated in
the test's directory. Started in the foreground (``-D -e``) and stopped by the pid we started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return Path(f"{path}.pub").read_text().strip()


@dataclass
class Lab:
    """Client side: the key and known_hosts every server of the lab trusts."""

    root: Path
    client_key: Path = field(init=False)
    known_hosts: Path = field(init=False)
    authorized_keys: Path = field(init=False)
    servers: list[Sshd] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.client_key = self.root / "client_key"
        public = keygen(self.client_key)
        self.authorized_keys = self.root / "authorized_keys"
        self.authorized_keys.write_text(public + "\n")
        self.known_hosts = self.root / "known_hosts"
        self.known_hosts.write_text("")

    def ssh_settings(self, **more: object) -> dict[str, object]:
        """A plan's ``targets.ssh`` for this lab: its client key, its known_hosts, no agent,
        and ``more`` (``connect_timeout=3``, ``run_dir=…``)."""
        return {
            "identity": [str(self.client_key)],
            "known_hosts": str(self.known_hosts),
            "agent": False,
            **more,
        }

    def start(
        self,
        *,
        trusted: bool = True,
        extra: tuple[str, ...] = (),
        addresses: tuple[str, ...] = ("127.0.0.1",),
        binds: tuple[tuple[Path, Path], ...] = (),
    ) -> Sshd:
        """One more server; it listens on each of ``addresses`` (loopback ones: the whole of
        127.0.0.0/8 is this machine's), each trusted in known_hosts: hosts told apart by
        their address are separate ssh endpoints for every client (Ansible's ControlMaster
        shares one connection between inventory hosts of the same address, port and user).
        ``binds`` (source, target): the server runs in a mount namespace of its own where each
        target directory shows the source's content (``unshare -m``, root only), so this host
        sees other files than the controller at the same path."""
        index = len(self.servers)
        home = self.root / f"sshd{index}"
        home.mkdir()
        host_key = home / "host_key"
        host_public = keygen(host_key)
        for _attempt in range(5):
            port = free_port()
            server = Sshd(home, port, host_key, addresses, binds=binds)
            server.write_config(self.authorized_keys, extra)
            if server.start():
                break
        else:  # pragma: no cover - the machine has no free ports
            raise RuntimeError("sshd did not start")
        if trusted:
            with self.known_hosts.open("a") as fh:
                for address in addresses:
                    fh.write(f"[{address}]:{port} {host_public}\n")
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@dataclass
class Sshd:
    home: Path
    port: int
    host_key: Path
    addresses: tuple[str, ...] = ("127.0.0.1",)
    process: subprocess.Popen[bytes] | None = None
    binds: tuple[tuple[Path, Path], ...] = ()

    def write_config(self, authorized_keys: Path, extra: tuple[str, ...] = ()) -> None:
        (self.home / "sshd_config").write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    *(f"ListenAddress {address}" for address in self.addresses),
                    f"HostKey {self.host_key}",
                    f"PidFile {self.home / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized_keys}",
                    "UsePAM no",
                    "StrictModes no",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "MaxSessions 64",
                    "MaxStartups 200",
                    "LogLevel ERROR",
                    *extra,
                    "",
                ]
            )
        )

    def start(self) -> bool:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        with (self.home / "sshd.log").open("ab") as log:
            command = [SSHD, "-D", "-e", "-f", str(self.home / "sshd_config")]
            if self.binds:
                # unshare execs sh, which execs sshd: the pid we keep is the server's.
                mounts = [str(p) for pair in self.binds for p in pair]
                command = [
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 1; shift 2; done; '
                    'shift; exec "$@"',
                    "binds",
                    *mounts,
                    "--",
                    *command,
                ]
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with socket.socket() as sock:
                if sock.connect_ex((self.addresses[0], self.port)) == 0:
                    return True
            time.sleep(0.02)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # the pid we started, nothing else
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextmanager
def ssh_lab(root: Path, servers: int = 1) -> Iterator[Lab]:
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("openssh-server is not installed (scripts/install-test-deps.sh)")
    lab = Lab(root)
    try:
        for _ in range(servers):
            lab.start()
        yield lab
    finally:
        lab.stop()
