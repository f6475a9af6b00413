"""Fixtures for the canary lab: real backends, nginx, Prometheus and load on 127.0.0.1.

One lab (``shared_lab``) serves the whole module, because Prometheus 2.42 needs ~5 s to
discover its first targets; tests that change it (weights, faults) put it back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from canary_lab.lab import Lab
from canary_lab.nginx import NginxServer
from canary_lab.prometheus import PROMETHEUS_BINARY

from phasegate.traffic.nginx import render_upstream

T = TypeVar("T")


def missing_binaries() -> list[str]:
    missing = [] if Path(PROMETHEUS_BINARY).exists() else [PROMETHEUS_BINARY]
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")):
        missing.append("nginx")
    return missing


@pytest.fixture
def lab_binaries() -> None:
    if missing := missing_binaries():
        pytest.skip(f"not installed: {', '.join(missing)}")


@contextmanager
def running_lab(
    tmp_path_factory: pytest.TempPathFactory, *, rate: float, load_seconds: float = 300
) -> Iterator[Lab]:
    """A started nginx lab with load at ``rate`` requests per second for at most
    ``load_seconds``, for a module-scoped fixture; skips the module when a binary the lab
    needs is not installed."""
    if missing := missing_binaries():
        pytest.skip(f"not installed: {', '.join(missing)}")
    workdir = tmp_path_factory.mktemp("lab")
    with Lab(workdir, router="nginx", load=True, rate=rate, load_seconds=load_seconds) as lab:
        yield lab


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory, rate=100) as lab:
        yield lab


def eventually(
    probe: Callable[[], T], until: Callable[[T], bool], *, timeout: float = 30, what: str = ""
) -> T:
    """Poll ``probe`` every 0.25 s until its value satisfies ``until``; fail after
    ``timeout`` seconds showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what or 'condition'} not met within {timeout:g}s; last: {value!r}")
        time.sleep(0.25)


def set_nginx_weights(server: NginxServer, weights: dict[str, int]) -> None:
    """What phasegate's nginx router does, reduced to what a lab test needs: rewrite the
    upstream file, reload, and wait until the new workers serve the weights."""
    servers = {name: [address] for name, address in server.upstreams.items()}
    server.upstream_file.write_text(render_upstream("app", servers, weights))
    subprocess.run(
        [*server.argv, "-c", str(server.config), "-s", "reload"],
        check=True,
        capture_output=True,
        timeout=15,
    )
    eventually(
        lambda: json.loads(httpx.get(server.confirm_url, timeout=2).text),
        lambda live: live == weights,
        timeout=15,
        what=f"nginx serving {weights}",
    )
