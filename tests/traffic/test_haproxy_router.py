"""The haproxy router against a real haproxy: live weights through the runtime API, confirmed
by `get weight`, and haproxy's own complaints surfaced as RouterErrors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from canary_lab.backend import Backend
from canary_lab.haproxy import HaproxyServer

from phasegate.plugin import PluginContext
from phasegate.traffic.base import RouterError
from phasegate.traffic.haproxy import HaproxyRouter, RuntimeAPI
from tests.checks.conftest import undocumented
from tests.traffic.conftest import (
    apply,
    assert_canary_share,
    assert_only_canary_serves,
    router_of,
    write_router_plan,
)


def router(haproxy: HaproxyServer, **changes: Any) -> HaproxyRouter:
    return HaproxyRouter.model_validate({"haproxy": {**haproxy.router_options(), **changes}})


async def _ask(haproxy: HaproxyServer, command: str) -> str:
    import time

    return await RuntimeAPI(str(haproxy.socket), time.monotonic() + 5).ask(command)


def ask(haproxy: HaproxyServer, command: str) -> str:
    import asyncio

    return asyncio.run(_ask(haproxy, command))


def test_a_quarter_of_the_traffic_reaches_the_canary(
    haproxy: HaproxyServer, backends: tuple[Backend, Backend], ctx: PluginContext
) -> None:
    assert apply(router(haproxy), {"stable": 75, "canary": 25}, ctx) == {
        "stable": 75,
        "canary": 25,
    }
    assert_canary_share(haproxy.url, backends[1], 25)


def test_get_weight_confirms_what_haproxy_uses(
    haproxy: HaproxyServer, backends: tuple[Backend, Backend], ctx: PluginContext
) -> None:
    assert ask(haproxy, "get weight app/canary") == "0 (initial 0)"
    applied = apply(router(haproxy), {"stable": 0, "canary": 100}, ctx)
    assert applied == {"stable": 0, "canary": 100}
    assert ask(haproxy, "get weight app/stable") == "0 (initial 100)"
    assert_only_canary_serves(haproxy.url, backends[0])


def test_server_names_map_backends(
    tmp_path: Path, backends: tuple[Backend, Backend], ctx: PluginContext
) -> None:
    stable, canary = backends
    servers = {"web-v1": stable.address, "web-v2": canary.address}
    with HaproxyServer(tmp_path / "named", servers) as haproxy:
        named = router(haproxy, servers={"stable": "web-v1", "canary": "web-v2"})
        assert apply(named, {"stable": 60, "canary": 40}, ctx) == {"stable": 60, "canary": 40}
        assert ask(haproxy, "get weight app/web-v2") == "40 (initial 0)"


def test_an_unknown_backend_is_haproxys_error(haproxy: HaproxyServer, ctx: PluginContext) -> None:
    with pytest.raises(RouterError, match=r"get weight nope/stable`.*No such backend"):
        apply(router(haproxy, backend="nope"), {"stable": 75, "canary": 25}, ctx)


def test_an_unknown_server_changes_nothing(haproxy: HaproxyServer, ctx: PluginContext) -> None:
    wrong = router(haproxy, servers={"canary": "canary-typo"})
    with pytest.raises(RouterError, match=r"app/canary-typo`.*No such server"):
        apply(wrong, {"stable": 75, "canary": 25}, ctx)
    # Names are checked before any weight moves: the stable server was not touched either.
    assert ask(haproxy, "get weight app/stable") == "100 (initial 100)"


def test_a_missing_socket_says_what_to_check(tmp_path: Path, ctx: PluginContext) -> None:
    missing = HaproxyRouter.model_validate(
        {"haproxy": {"socket": str(tmp_path / "admin.sock"), "backend": "app"}}
    )
    with pytest.raises(RouterError) as caught:
        apply(missing, {"stable": 75, "canary": 25}, ctx)
    message = str(caught.value)
    assert "cannot reach haproxy's runtime API" in message
    assert f"stats socket {tmp_path / 'admin.sock'} level admin" in message


@pytest.fixture
def refused() -> Iterator[str]:
    # Bound but not listening: connections are refused, and the port cannot be taken meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def silent() -> Iterator[str]:
    # Listening but never answering: what a wedged haproxy looks like to a client.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_a_refused_tcp_socket_says_what_to_check(refused: str, ctx: PluginContext) -> None:
    tcp = HaproxyRouter.model_validate({"haproxy": {"socket": refused, "backend": "app"}})
    with pytest.raises(RouterError, match=r"connection refused.*level admin"):
        apply(tcp, {"stable": 75, "canary": 25}, ctx)


def test_a_silent_socket_times_out(silent: str, ctx: PluginContext) -> None:
    quiet = HaproxyRouter.model_validate(
        {"haproxy": {"socket": silent, "backend": "app", "timeout": "200ms"}}
    )
    with pytest.raises(RouterError, match=r"did not answer .* in time"):
        apply(quiet, {"stable": 75, "canary": 25}, ctx)


def test_every_option_is_documented() -> None:
    assert undocumented(HaproxyRouter) == []


def test_a_plan_with_an_haproxy_router_loads(tmp_path: Path) -> None:
    plan = write_router_plan(
        tmp_path,
        "haproxy-canary",
        """
        router:
          haproxy: {socket: /run/haproxy/admin.sock, backend: app, timeout: 2s}
        """,
    )
    router = router_of(plan)
    assert isinstance(router, HaproxyRouter)
    assert router.haproxy.timeout == 2.0
