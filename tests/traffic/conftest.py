"""Real backends behind real nginx and haproxy processes, on ports picked per test.

The lab harness (``canary_lab``, on ``sys.path`` through tests/conftest.py) that the benches
and the demo use is the one tested here too. A missing binary skips its tests with the reason; CI
installs both.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from canary_lab.backend import Backend
from canary_lab.haproxy import HaproxyServer, haproxy_binary
from canary_lab.nginx import NginxServer, nginx_binary

from phasegate.executors.local import LocalExecutor
from phasegate.masking import Masker
from phasegate.plan.loader import load_plan
from phasegate.plugin import PluginContext
from phasegate.substitution import substitute
from phasegate.traffic.base import RouterSpec, Weights
from tests.conftest import write_plan

SECRET = "s3cret-token"

ROUTER_PLAN = """\
version: 1
name: {name}
traffic:
{traffic}
phases:
  - id: canary
    steps:
      - set_weight: 5
"""


@pytest.fixture
def ctx(tmp_path: Path) -> PluginContext:
    """A context as the engine builds it: the real local executor and the process env."""
    values = {"PLAN_DIR": str(tmp_path), "TOKEN": SECRET}
    return PluginContext(
        executor=LocalExecutor(),
        masker=Masker([SECRET]),
        plan_dir=str(tmp_path),
        env=dict(os.environ),
        expand=lambda text: substitute(text, values),
        shell=["/bin/sh", "-c"],
    )


def apply(router: RouterSpec, weights: Weights, ctx: PluginContext) -> Weights:
    return asyncio.run(router.apply(weights, ctx))


@pytest.fixture
def backends() -> Iterator[tuple[Backend, Backend]]:
    with Backend("stable") as stable, Backend("canary") as canary:
        yield stable, canary


@pytest.fixture
def nginx(tmp_path: Path, backends: tuple[Backend, Backend]) -> Iterator[NginxServer]:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    stable, canary = backends
    with NginxServer(tmp_path / "nginx", {"stable": stable.address, "canary": canary.address}) as n:
        yield n


@pytest.fixture
def haproxy(tmp_path: Path, backends: tuple[Backend, Backend]) -> Iterator[HaproxyServer]:
    if haproxy_binary() is None:
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    stable, canary = backends
    servers = {"stable": stable.address, "canary": canary.address}
    with HaproxyServer(tmp_path / "haproxy", servers) as h:
        yield h


def shares(url: str, requests: int = 400) -> Counter[str]:
    """Which backend answered each of ``requests`` sequential requests (X-Backend header).

    Sequential and on fresh connections, so each request is one balancing decision."""
    seen: Counter[str] = Counter()
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(timeout=10.0, limits=limits) as client:
        for _ in range(requests):
            response = client.get(url + "/")
            seen[response.headers.get("x-backend", f"HTTP {response.status_code}")] += 1
    return seen


def assert_canary_share(url: str, canary: Backend, percent: int) -> None:
    """400 requests through the router at ``url``: all of them answered, the canary's share
    within 5 points of ``percent``, and the canary backend counted each one it served."""
    seen = shares(url)
    assert sum(seen.values()) == 400
    assert abs(seen["canary"] / 400 * 100 - percent) <= 5
    assert canary.served == seen["canary"]


def assert_only_canary_serves(url: str, stable: Backend) -> None:
    """50 requests through the router at ``url`` all reach the canary; stable sees none."""
    before = stable.served
    assert shares(url, 50) == {"canary": 50}
    assert stable.served == before


def write_router_plan(directory: Path, name: str, traffic: str) -> Path:
    """A one-step plan (``set_weight: 5``) whose ``traffic:`` block is ``traffic``.

    Three lines (version, name, ``traffic:``) come before ``traffic``, so its first line is
    line 4 of the plan file, which is what a test of an error's file:line counts on."""
    block = textwrap.indent(textwrap.dedent(traffic).strip("\n"), "  ")
    return write_plan(directory, ROUTER_PLAN.format(name=name, traffic=block))


def router_of(plan: Path) -> RouterSpec:
    """The router of ``plan`` as ``phasegate`` loads it."""
    loaded = load_plan(plan)
    assert loaded.plan.traffic is not None
    return loaded.plan.traffic.router
