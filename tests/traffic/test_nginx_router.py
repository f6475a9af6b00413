"""The nginx router against a real nginx: validated reloads, confirmed weights, and a rejected
change that leaves the file and the serving workers exactly as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from canary_lab.backend import Backend
from canary_lab.nginx import NginxServer

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan
from phasegate.plugin import PluginContext
from phasegate.traffic.base import RouterError
from phasegate.traffic.nginx import NginxRouter, parse_weights, render_upstream
from tests.checks.conftest import undocumented
from tests.traffic.conftest import (
    apply,
    assert_canary_share,
    assert_only_canary_serves,
    router_of,
    write_router_plan,
)


def router(nginx: NginxServer, /, **changes: Any) -> NginxRouter:
    return NginxRouter.model_validate({"nginx": {**nginx.router_options(), **changes}})


def live_weights(nginx: NginxServer) -> Any:
    return httpx.get(nginx.confirm_url, timeout=5.0).json()


def test_a_quarter_of_the_traffic_reaches_the_canary(
    nginx: NginxServer, backends: tuple[Backend, Backend], ctx: PluginContext
) -> None:
    applied = apply(router(nginx), {"stable": 75, "canary": 25}, ctx)
    assert applied == {"stable": 75, "canary": 25}
    assert_canary_share(nginx.url, backends[1], 25)


def test_zero_weight_is_written_down_and_gets_nothing(
    nginx: NginxServer, backends: tuple[Backend, Backend], ctx: PluginContext
) -> None:
    stable, _ = backends
    apply(router(nginx), {"stable": 0, "canary": 100}, ctx)
    text = nginx.upstream_file.read_text()
    assert f"server {stable.address} down;" in text
    assert "weight=0" not in text
    assert_only_canary_serves(nginx.url, stable)


def test_confirm_url_reports_what_the_new_workers_serve(
    nginx: NginxServer, ctx: PluginContext
) -> None:
    assert live_weights(nginx) == {"stable": 100, "canary": 0}
    for canary in (5, 50, 100, 0):
        weights = {"stable": 100 - canary, "canary": canary}
        assert apply(router(nginx), weights, ctx) == weights
        assert live_weights(nginx) == weights


def test_without_confirm_url_the_file_says_what_was_applied(
    nginx: NginxServer, ctx: PluginContext
) -> None:
    applied = apply(router(nginx, confirm_url=None), {"stable": 80, "canary": 20}, ctx)
    assert applied == {"stable": 80, "canary": 20}
    assert parse_weights(nginx.upstream_file.read_bytes()) == applied


def test_a_change_nginx_rejects_restores_the_file_and_keeps_serving(
    nginx: NginxServer, backends: tuple[Backend, Backend], ctx: PluginContext
) -> None:
    apply(router(nginx), {"stable": 90, "canary": 10}, ctx)
    before = nginx.upstream_file.read_bytes()
    stable, _ = backends
    broken = router(nginx, servers={"stable": stable.address, "canary": "127.0.0.1:99999"})
    with pytest.raises(RouterError) as caught:
        apply(broken, {"stable": 50, "canary": 50}, ctx)
    message = str(caught.value)
    assert "nginx rejected the new upstream file" in message
    assert 'invalid port in upstream "127.0.0.1:99999"' in message  # nginx's own words
    assert "previous configuration still serves" in message
    assert nginx.upstream_file.read_bytes() == before
    assert not [p for p in nginx.upstream_file.parent.iterdir() if p != nginx.upstream_file]
    assert live_weights(nginx) == {"stable": 90, "canary": 10}
    # ...and the same router keeps working once the plan is fixed.
    assert apply(router(nginx), {"stable": 50, "canary": 50}, ctx) == {"stable": 50, "canary": 50}


def test_a_failed_reload_restores_the_file(nginx: NginxServer, ctx: PluginContext) -> None:
    before = nginx.upstream_file.read_bytes()
    nginx.stop()  # `nginx -t` still passes, `nginx -s reload` finds no master to signal
    with pytest.raises(RouterError, match="nginx could not reload"):
        apply(router(nginx), {"stable": 50, "canary": 50}, ctx)
    assert nginx.upstream_file.read_bytes() == before


def test_a_backend_without_an_address_is_named(nginx: NginxServer, ctx: PluginContext) -> None:
    before = nginx.upstream_file.read_bytes()
    weights = {"stable": 90, "canary": 5, "canary2": 5}
    with pytest.raises(RouterError, match="no server address for backend 'canary2'"):
        apply(router(nginx), weights, ctx)
    assert nginx.upstream_file.read_bytes() == before


def test_an_address_that_would_inject_configuration_is_refused(
    nginx: NginxServer, ctx: PluginContext
) -> None:
    before = nginx.upstream_file.read_bytes()
    sneaky = router(nginx, servers={"stable": "127.0.0.1:1; } server {", "canary": "x:1"})
    with pytest.raises(RouterError, match="is not a server address"):
        apply(sneaky, {"stable": 50, "canary": 50}, ctx)
    assert nginx.upstream_file.read_bytes() == before


def test_a_missing_binary_is_a_clear_error(nginx: NginxServer, ctx: PluginContext) -> None:
    with pytest.raises(RouterError, match=r"cannot start .*no-such-nginx.*`nginx:` option"):
        apply(router(nginx, nginx="no-such-nginx"), {"stable": 50, "canary": 50}, ctx)


def test_options_are_expanded_and_errors_masked(nginx: NginxServer, ctx: PluginContext) -> None:
    stable = nginx.upstreams["stable"]
    masked = router(nginx, servers={"stable": stable, "canary": "${TOKEN}:99999"})
    with pytest.raises(RouterError) as caught:
        apply(masked, {"stable": 50, "canary": 50}, ctx)
    assert "s3cret-token" not in str(caught.value)
    assert "***" in str(caught.value)


def test_several_addresses_share_their_backends_weight() -> None:
    servers = {"stable": ["a:1", "b:1", "c:1"], "canary": ["d:1"]}
    text = render_upstream("app", servers, {"stable": 90, "canary": 10})
    # Each stable address carries a third of 90, the canary 10: the backends keep 90/10.
    assert "server a:1 weight=90;" in text
    assert "server d:1 weight=30;" in text
    assert text.count("weight=90;") == 3
    assert parse_weights(text.encode()) == {"stable": 90, "canary": 10}


def test_every_option_is_documented() -> None:
    assert undocumented(NginxRouter) == []


def test_a_plan_with_an_nginx_router_loads(tmp_path: Path) -> None:
    plan = write_router_plan(
        tmp_path,
        "nginx-canary",
        """
        backends: [stable, canary]
        router:
          nginx:
            upstream_file: ${PLAN_DIR}/app-upstream.conf
            upstream: app
            servers: {stable: "127.0.0.1:8001", canary: ["127.0.0.1:8002", "127.0.0.1:8003"]}
            confirm_url: http://127.0.0.1:8080/phasegate-weights
            timeout: 10s
        """,
    )
    router = router_of(plan)
    assert isinstance(router, NginxRouter)
    assert router.nginx.timeout == 10.0
    assert router.describe().startswith("nginx router: upstream app")


def test_an_unknown_option_fails_at_plan_load(tmp_path: Path) -> None:
    plan = write_router_plan(
        tmp_path,
        "nginx-canary",
        """
        router:
          nginx:
            upstream_file: /tmp/app-upstream.conf
            upstream: app
            servers: {stable: "127.0.0.1:8001", canary: "127.0.0.1:8002"}
            reload_command: nginx -s reload
        """,
    )
    with pytest.raises(PlanError) as caught:
        load_plan(plan)
    assert "reload_command" in str(caught.value)
    assert ":9" in str(caught.value)  # the file:line of the unknown key (line 6 of the block)
