"""The canary lab against real processes: what phasegate's canary analysis will rely on.

Waiting is always polling with a deadline (``eventually``), never a fixed sleep: the tests
assert what Prometheus and the load generator see, not how fast they see it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from canary_lab.backend import Backend
from canary_lab.lab import JSON_FILE, Lab
from canary_lab.load import Counts, LoadGenerator
from canary_lab.nginx import NginxServer
from canary_lab.ports import free_port
from canary_lab.prometheus import PrometheusError

from tests.conftest import EXAMPLES
from tests.lab.conftest import eventually, set_nginx_weights

ERROR_RATIO = (
    'sum(rate(app_requests_total{version="canary",code=~"5.."}[5s]))'
    ' / sum(rate(app_requests_total{version="canary"}[5s]))'
)
P95 = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(app_request_duration_seconds_bucket{version="canary"}[5s])))'
)
CANARY_RATE = 'sum(rate(app_requests_total{version="canary"}[5s]))'
HALF = {"stable": 50, "canary": 50}


@contextmanager
def canary_traffic(lab: Lab) -> Iterator[None]:
    """Half the load on the canary for the block; all on stable and the canary healed after."""
    assert isinstance(lab.router_server, NginxServer)
    set_nginx_weights(lab.router_server, HALF)
    try:
        assert lab.prometheus is not None
        eventually(
            lambda: lab.prometheus.query(CANARY_RATE) if lab.prometheus else None,
            lambda rate: rate is not None and rate > 0,
            what="canary traffic in Prometheus",
        )
        yield
    finally:
        lab.canary.set_fault()
        set_nginx_weights(lab.router_server, {"stable": 100, "canary": 0})


# -- the lab (one shared nginx + Prometheus + load) --------------------------------------


def test_initial_upstream_sends_all_load_to_stable(shared_lab: Lab) -> None:
    assert shared_lab.load is not None
    before = shared_lab.load.snapshot()
    window = eventually(
        lambda: shared_lab.load.snapshot() - before if shared_lab.load else Counts(),
        lambda counts: counts.answered >= 50,
        what="50 answers through nginx",
    )
    assert window.by_backend.get("canary", 0) == 0
    assert window.by_backend["stable"] == window.answered
    assert window.errors == 0


def test_prometheus_scrapes_both_backends(shared_lab: Lab) -> None:
    prometheus = shared_lab.prometheus
    assert prometheus is not None
    assert prometheus.query('count(up{job="app"} == 1)') == 2
    assert prometheus.query('up{backend="stable"}') == 1
    assert prometheus.query('up{backend="canary"}') == 1


def test_error_ratio_is_zero_when_healthy_and_high_when_faulted(shared_lab: Lab) -> None:
    prometheus = shared_lab.prometheus
    assert prometheus is not None
    with canary_traffic(shared_lab):
        assert prometheus.query(ERROR_RATIO) == 0
        shared_lab.canary.set_fault(error_rate=0.5)
        eventually(
            lambda: prometheus.query(ERROR_RATIO),
            lambda ratio: ratio is not None and ratio > 0.3,
            what="canary error ratio > 0.3",
        )


def test_p95_latency_exceeds_injected_latency(shared_lab: Lab) -> None:
    prometheus = shared_lab.prometheus
    assert prometheus is not None
    with canary_traffic(shared_lab):
        shared_lab.canary.set_fault(latency=0.6)
        eventually(
            lambda: prometheus.query(P95),
            lambda p95: p95 is not None and p95 > 0.5,
            what="canary p95 > 0.5 s",
        )


def test_lab_env_names_what_a_plan_needs(shared_lab: Lab) -> None:
    env = shared_lab.env()
    assert shared_lab.router_server is not None
    options = shared_lab.router_server.router_options()
    assert env["NGINX_UPSTREAM_FILE"] == options["upstream_file"]
    assert env["NGINX_CONFIG"] == options["config"]
    assert env["NGINX_CONFIRM_URL"] == options["confirm_url"]
    nginx = [env["NGINX_BINARY"], "-p", env["NGINX_PREFIX"], "-e", env["NGINX_ERROR_LOG"]]
    assert options["nginx"] == nginx
    assert options["servers"] == {"stable": env["STABLE_ADDR"], "canary": env["CANARY_ADDR"]}
    assert httpx.get(env["APP_URL"]).headers["X-Backend"] == "stable"
    assert httpx.get(env["CANARY_URL"]).headers["X-Backend"] == "canary"


def test_prometheus_stops_and_starts_on_the_same_port_with_its_data(shared_lab: Lab) -> None:
    prometheus = shared_lab.prometheus
    assert prometheus is not None
    url, pid = prometheus.url, prometheus.pid
    prometheus.stop()
    assert not prometheus.running
    with pytest.raises(PrometheusError):
        prometheus.query("up")
    prometheus.start()
    assert prometheus.url == url
    assert prometheus.pid != pid
    # The samples scraped before the stop are still there: same data directory.
    assert prometheus.query('count(up{job="app"})') == 2
    prometheus.wait_for_targets()


# -- the load generator alone ------------------------------------------------------------


def test_load_stops_at_max_requests() -> None:
    with Backend("stable") as backend:
        load = LoadGenerator(backend.url, rate=1000, max_requests=40, max_seconds=60)
        with load:
            assert load.wait(timeout=30)
        counts = load.snapshot()
    assert counts.total == 40
    assert counts.by_backend == {"stable": 40}
    assert counts.by_status == {200: 40}


def test_load_stops_at_max_seconds() -> None:
    with Backend("stable") as backend:
        load = LoadGenerator(backend.url, rate=20, max_requests=1_000_000, max_seconds=2.0)
        with load:
            assert load.wait(timeout=30)
        counts = load.snapshot()
    # The rate allows ~40 requests in 2 s; far below max_requests means time bounded it.
    # (0.5 s: a suite at load ~15 sent none in time.)
    assert 0 < counts.total < 100


def test_load_counts_connection_errors_when_the_target_is_down() -> None:
    load = LoadGenerator(f"http://127.0.0.1:{free_port()}/", rate=1000, max_requests=20)
    with load:
        assert load.wait(timeout=30)
    counts = load.snapshot()
    assert counts.errors == counts.total == 20
    assert counts.answered == 0
    assert load.last_error is not None


def test_counts_subtract_to_the_traffic_between_two_snapshots() -> None:
    before = Counts(by_backend={"stable": 10}, by_status={200: 10}, errors=1)
    after = Counts(by_backend={"stable": 15, "canary": 5}, by_status={200: 18, 500: 2}, errors=3)
    window = after - before
    assert window.by_backend == {"stable": 5, "canary": 5}
    assert window.by_status == {200: 8, 500: 2}
    assert (window.answered, window.errors, window.total) == (10, 2, 12)
    assert window.share("canary") == 0.5
    assert Counts().share("canary") == 0.0


def test_load_rejects_unbounded_settings() -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        LoadGenerator("http://127.0.0.1:1/", max_seconds=float("inf"))
    with pytest.raises(ValueError, match="rate"):
        LoadGenerator("http://127.0.0.1:1/", rate=0)


# -- haproxy and the CLI -----------------------------------------------------------------


def test_lab_with_haproxy_sends_all_load_to_stable(tmp_path: Path, lab_binaries: None) -> None:
    with Lab(tmp_path, router="haproxy", rate=100, wait_for_targets=False) as lab:
        env = lab.env()
        assert Path(env["HAPROXY_SOCKET"]).exists()
        assert "NGINX_UPSTREAM_FILE" not in env
        assert lab.load is not None
        window = eventually(
            lambda: lab.load.snapshot() if lab.load else Counts(),
            lambda counts: counts.answered >= 30,
            what="30 answers through haproxy",
        )
        assert window.by_backend.get("canary", 0) == 0


def lab_cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES)}
    return subprocess.Popen(
        [sys.executable, "-m", "canary_lab", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_left_behind(lab_dir: Path) -> None:
    """A lab SIGKILLed by a failing test cannot stop its nginx and Prometheus: end them by
    the pids it recorded, so a failure leaves no server behind."""
    try:
        pids = json.loads((lab_dir / JSON_FILE).read_text())["pids"]
    except (OSError, ValueError, KeyError):
        return
    for name, pid in pids.items():
        if name != "lab":
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)


def test_cli_up_runs_the_lab_until_sigint_and_leaves_nothing(
    tmp_path: Path, lab_binaries: None
) -> None:
    lab_dir = tmp_path / "lab"
    process = lab_cli("up", "--dir", str(lab_dir), "--rate", "30", cwd=tmp_path)
    try:
        description = eventually(
            lambda: (lab_dir / JSON_FILE).exists() or process.poll() is not None,
            bool,
            timeout=60,
            what="lab.json",
        )
        assert description and process.poll() is None, process.communicate(timeout=30)
        lab = json.loads((lab_dir / JSON_FILE).read_text())
        env, pids = lab["env"], lab["pids"]
        assert set(pids) == {"lab", "nginx", "prometheus"}
        assert httpx.get(env["APP_URL"]).headers["X-Backend"] == "stable"
        assert (lab_dir / "lab.env").read_text().count("export ") == len(env)

        fault = lab_cli("fault", "canary", "--error-rate", "1", "--dir", str(lab_dir), cwd=tmp_path)
        fault_out, fault_err = fault.communicate(timeout=30)
        assert fault.returncode == 0, fault_err
        assert "error_rate=1.0" in fault_out
        assert httpx.get(env["CANARY_URL"]).status_code == 500

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
            _kill_left_behind(lab_dir)
    assert process.returncode == 0, err
    assert "stable" in out and "lab stopped" in out
    for name, pid in pids.items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
            pytest.fail(f"{name} (pid {pid}) is still running")
    assert not (lab_dir / JSON_FILE).exists()


def test_cli_fault_without_a_lab_is_a_clear_message(tmp_path: Path) -> None:
    process = lab_cli("fault", "canary", "--dir", str(tmp_path), cwd=tmp_path)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err.startswith("canary-lab: no lab is running in")
    assert "Traceback" not in err
