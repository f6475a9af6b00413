"""Host gates that are not commands, over real sshd hosts: an ``http`` and a ``tcp`` gate are
evaluated for each host with that host's values (``${HOST_ADDRESS}``, ``${HOST_<LABEL>}``),
each against the host's own HTTP server (one per host, on the host's own loopback address and
a port the test picks), journalled per host, and a failing one counts against the batch's
``max_fail_percentage`` exactly as a failed command does (the phase stops and rolls back).
A ``manual`` check in ``host_gates`` is refused by validation, naming where it is written."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import journal, ledger
from tests.fleet.sshd import Lab, ssh_lab

HOSTS = ["h0", "h1", "h2", "h3"]
ADDRESSES = {h: f"127.0.2.{i + 1}" for i, h in enumerate(HOSTS)}
UNHEALTHY = "h2"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("httpgates") / "lab"
    with ssh_lab(root, servers=0) as lab:
        lab.start(addresses=tuple(ADDRESSES.values()))
        yield lab


class Servers:
    """One HTTP server per host, on the host's address; each records the requests it got."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {h: [] for h in HOSTS}
        self.servers: dict[str, ThreadingHTTPServer] = {}
        for host, address in ADDRESSES.items():
            self.servers[host] = ThreadingHTTPServer((address, 0), self._handler(host))
            threading.Thread(target=self.servers[host].serve_forever, daemon=True).start()

    def _handler(self, host: str) -> type[BaseHTTPRequestHandler]:
        seen = self.seen[host]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                code = 503 if host == UNHEALTHY else 200
                body = f"{host} {'down' if code == 503 else 'ok'}\n".encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def port(self, host: str) -> int:
        return int(self.servers[host].server_address[1])

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


@pytest.fixture
def servers() -> Iterator[Servers]:
    running = Servers()
    try:
        yield running
    finally:
        running.stop()


def write(root: Path, lab: Lab, servers: Servers, gates: list[dict[str, Any]]) -> Path:
    hosts = []
    for host in HOSTS:
        hosts.append(
            {
                "name": host,
                "groups": ["web"],
                "labels": {
                    "ansible_host": ADDRESSES[host],
                    "ansible_port": lab.servers[0].port,
                    "http_port": servers.port(host),
                },
            }
        )
    plan: dict[str, Any] = {
        "version": 1,
        "name": "httpgates",
        "vars": {"LEDGER": str(root / "ledger")},
        "targets": {
            "hosts": hosts,
            "ssh": lab.ssh_settings(connect_timeout=10, run_dir=str(root / "remote-runs")),
        },
        "phases": [
            {
                "id": "deploy",
                "hosts": "'web' in groups",
                "batch": {"size": [1, 3]},
                "max_fail_percentage": 25,
                "steps": [
                    {
                        "id": "install",
                        "run": 'echo "install $PHASEGATE_HOST" >> "$LEDGER"',
                        "undo": 'echo "undo $PHASEGATE_HOST" >> "$LEDGER"',
                    }
                ],
                "host_gates": gates,
            }
        ],
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


GATES: list[dict[str, Any]] = [
    {"id": "port", "tcp": "${HOST_ADDRESS}:${HOST_HTTP_PORT}"},
    {"id": "health", "http": "http://${HOST_ADDRESS}:${HOST_HTTP_PORT}/healthz?for=${host}"},
]


def test_http_and_tcp_gates_per_host_count_against_the_batch_budget(
    cli: CLI, lab: Lab, servers: Servers
) -> None:
    write(cli.cwd, lab, servers, GATES)
    result = cli("run", "plan.yaml")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr  # rolled back
    run = str(cli.status()["run"]["id"])
    events = journal(cli.state_dir, run)
    ends = [e for e in events if e["type"] == "item.finished"]

    # Each host's server got exactly one request: its own host's, at its own address.
    assert servers.seen == {h: [f"/healthz?for={h}"] for h in HOSTS}

    # Journalled per host, in gate order after the host's step; h2's health gate failed.
    gates = [(e["key"], e["host"], e["status"]) for e in ends if e.get("kind") == "gate"]
    expected = {
        (f"deploy/gate:{g}@{h}", h, "failed" if (g, h) == ("health", UNHEALTHY) else "passed")
        for g in ("port", "health")
        for h in HOSTS
    }
    assert sorted(gates) == sorted(expected)
    order = [e["key"] for e in ends]
    for host in HOSTS:
        assert (
            order.index(f"deploy/install@{host}")
            < order.index(f"deploy/gate:port@{host}")
            < order.index(f"deploy/gate:health@{host}")
        )
    failed = next(e for e in ends if e["key"] == f"deploy/gate:health@{UNHEALTHY}")
    assert failed["tolerated"] is True  # the budget, not the host, decides about the run

    # Batch 2 (h1, h2, h3): 1 of 3 failed = 33% > 25%: the phase stops, as for a failed step.
    fleet = next(e for e in ends if e["key"] == "deploy/fleet")
    assert fleet["status"] == "failed"
    assert fleet["message"] == "batch 2: 1 of 3 hosts failed"

    # Rollback undoes the install on every host where it completed (h2's too), newest first.
    lines = ledger(cli.cwd)
    installed = [line.split()[1] for line in lines if line.startswith("install")]
    undone = [line.split()[1] for line in lines if line.startswith("undo")]
    assert sorted(installed) == HOSTS
    completed = [
        e["host"]
        for e in ends
        if e["key"].startswith("deploy/install@") and e["status"] == "succeeded"
    ]
    assert undone == list(reversed(completed))
    assert cli.status()["run"]["status"] == "rolled_back"


def test_a_manual_host_gate_is_refused_where_it_is_written(
    cli: CLI, lab: Lab, servers: Servers
) -> None:
    path = write(cli.cwd, lab, servers, [GATES[0], {"id": "eyes", "manual": "looks fine?"}])
    result = cli("validate", "plan.yaml")
    assert result.returncode != 0
    text = result.stdout + result.stderr
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "id: eyes" in t)
    found = re.search(r"plan\.yaml:(\d+):(\d+)", text)
    assert found is not None, text
    assert int(found.group(1)) == line
    assert "a manual check cannot be one of host_gates" in text
    assert "Traceback" not in text
