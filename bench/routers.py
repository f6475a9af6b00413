"""Weight-change latency of the traffic routers, side by side, against real processes.

    uv run python bench/routers.py                 # 100 changes per router
    uv run python bench/routers.py --changes 20
    uv run python bench/run.py --only routers      # the same, inside the suite's report

One change is one ``RouterSpec.apply`` as the engine calls it, from the call to the confirmed
weights, alternating between two canary weights so every change really changes something:

- ``nginx``: write the upstream file atomically, ``nginx -t``, ``nginx -s reload``; measured
  without ``confirm_url`` (the change is handed to nginx) and with it (polled until fresh
  connections see only the new weights, which includes nginx's own 100 ms overlap of old and
  new workers plus the router's settle margin).
- ``haproxy``: ``get weight`` per server (names checked first), ``set server ... weight``,
  ``get weight`` again: live through the runtime API, no reload.
- ``command``: a two-line ``/bin/sh`` script that echoes the weight: the cost of spawning the
  user's command, as a reference.

Each router gets one warm-up change. The backends are the lab's (``examples/canary_lab``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "examples") not in sys.path:
    sys.path.insert(0, str(ROOT / "examples"))

from canary_lab.backend import Backend  # noqa: E402
from canary_lab.haproxy import HaproxyServer, haproxy_binary  # noqa: E402
from canary_lab.nginx import NginxServer, nginx_binary  # noqa: E402

from phasegate.checks.base import PluginContext  # noqa: E402
from phasegate.executors.local import LocalExecutor  # noqa: E402
from phasegate.masking import Masker  # noqa: E402
from phasegate.traffic.base import RouterSpec  # noqa: E402
from phasegate.traffic.command import CommandRouter  # noqa: E402
from phasegate.traffic.haproxy import HaproxyRouter  # noqa: E402
from phasegate.traffic.nginx import NginxRouter  # noqa: E402

SCRIPT = '#!/bin/sh\necho "$WEIGHT"\n'
WEIGHTS = (10, 20)


@dataclass
class RouterTimes:
    name: str
    how: str
    samples: list[float] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        if len(ordered) == 1:
            return ordered[0]
        return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]


def context(work: Path) -> PluginContext:
    return PluginContext(
        executor=LocalExecutor(),
        masker=Masker(),
        plan_dir=str(work),
        env=dict(os.environ),
        expand=lambda text: text,
        shell=["/bin/sh", "-c"],
    )


async def _changes(router: RouterSpec, ctx: PluginContext, changes: int) -> list[float]:
    samples = []
    for i in range(changes + 1):
        canary = WEIGHTS[i % 2]
        weights = {"stable": 100 - canary, "canary": canary}
        started = time.perf_counter()
        applied = await router.apply(weights, ctx)
        elapsed = time.perf_counter() - started
        if applied != weights:
            raise RuntimeError(f"{router.describe()} applied {applied}, asked {weights}")
        if i:  # the first change is the warm-up
            samples.append(elapsed)
    return samples


def measure(work: Path, changes: int, note: Callable[[str], None]) -> list[RouterTimes]:
    """``changes`` timed weight changes per router; a router whose binary is missing is
    skipped with a note."""
    work.mkdir(parents=True, exist_ok=True)
    ctx = context(work)
    results: list[RouterTimes] = []
    with Backend("stable") as stable, Backend("canary") as canary:
        upstreams = {"stable": stable.address, "canary": canary.address}
        if nginx_binary():
            with NginxServer(work / "nginx", upstreams) as nginx:
                options: dict[str, Any] = nginx.router_options()
                for how, confirm in (
                    ("nginx -t + reload", None),
                    ("nginx -t + reload + confirm_url", options["confirm_url"]),
                ):
                    router = NginxRouter.model_validate(
                        {"nginx": {**options, "confirm_url": confirm}}
                    )
                    times = RouterTimes("nginx", how)
                    times.samples = asyncio.run(_changes(router, ctx, changes))
                    results.append(times)
        else:
            note("nginx router skipped: nginx is not installed")
        if haproxy_binary():
            with HaproxyServer(work / "haproxy", upstreams) as haproxy:
                router = HaproxyRouter.model_validate({"haproxy": haproxy.router_options()})
                times = RouterTimes("haproxy", "runtime API set + get weight")
                times.samples = asyncio.run(_changes(router, ctx, changes))
                results.append(times)
        else:
            note("haproxy router skipped: haproxy is not installed")
    script = work / "set-weight.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    command = CommandRouter.model_validate({"command": [str(script)]})
    times = RouterTimes("command", "/bin/sh script (reference)")
    times.samples = asyncio.run(_changes(command, ctx, changes))
    results.append(times)
    return results


def table(results: list[RouterTimes]) -> str:
    """Markdown, like the suite's other per-case tables."""
    lines = [
        "| router | one change | changes | p50 | p95 | max |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.how} | {len(r.samples)} | {r.quantile(0.5) * 1000:.1f} ms "
            f"| {r.quantile(0.95) * 1000:.1f} ms | {max(r.samples) * 1000:.1f} ms |"
        )
    return "\n".join(lines)


def section(suite: Any) -> None:
    """``bench/run.py --only routers``: the table and every sample into the suite's report."""
    changes = 20 if suite.args.quick else 100
    results = measure(suite.work / "routers", changes, suite.notes.append)
    reference = next(r for r in results if r.name == "command").quantile(0.5)
    for r in results:
        if r.name != "command":
            p50 = r.quantile(0.5)
            suite.row(
                f"{r.name} router change ({r.how}), p50",
                f"{p50 * 1000:.1f} ms",
                f"command {reference * 1000:.1f} ms",
                f"{p50 / reference:.1f}x",
                "(information)",
                None,
            )
    suite.tables.append(("Traffic routers, weight-change latency", table(results)))
    suite.results["routers"] = {f"{r.name}: {r.how}": r.samples for r in results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=100, help="timed changes per router")
    args = parser.parse_args(argv)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="phasegate-routers-") as work:
        results = measure(Path(work), args.changes, notes.append)
    print(table(results))
    for text in notes:
        print(f"- {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
