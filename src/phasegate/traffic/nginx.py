"""``nginx`` router: weighted servers in an upstream include file that phasegate owns.

```yaml
traffic:
  backends: [stable, canary]
  router:
    nginx:
      upstream_file: /etc/nginx/phasegate/app-upstream.conf   # phasegate owns this file
      upstream: app                                           # the upstream block's name
      servers: {stable: "127.0.0.1:8001", canary: "127.0.0.1:8002"}   # or lists of addresses
      config: /etc/nginx/nginx.conf      # optional: -c for `nginx -t` and `nginx -s reload`
      nginx: nginx                       # optional: the binary, or an argv list
      confirm_url: http://127.0.0.1:8080/phasegate-weights    # optional
      timeout: 30s
```

The user's ``nginx.conf`` includes the file inside ``http { }``. A change is made the way an
operator would make it by hand, with the safety they would skip under pressure: the file is
replaced atomically, ``nginx -t`` validates the whole configuration, and only then ``nginx -s
reload`` starts workers with the new weights. A change nginx rejects puts the previous file back
(byte for byte), so the workers that keep running and the file on disk never disagree.

A reload returns before the new workers serve, so "reloaded" is not "live". The file also
defines ``$phasegate_weights`` (the weights as JSON); a location that returns it, e.g.

    location = /phasegate-weights { default_type application/json; return 200 $phasegate_weights; }

lets ``confirm_url`` prove that new workers answer before the change is reported as applied.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import httpx
from pydantic import Field

from phasegate.options import Command, Duration, Model
from phasegate.plugin import PluginContext
from phasegate.traffic.base import RouterError, RouterSpec, Weights

HEADER = "# Written by phasegate (nginx router): phasegate owns this file; edits are overwritten."
# What may stand in a `server` directive's address: host:port, [v6]:port, unix:/path. Anything
# else (spaces, `;`, braces, quotes) could end the directive and inject configuration.
_ADDRESS = re.compile(r"^[A-Za-z0-9_.:\[\]/@%-]+$")
_WEIGHTS_LINE = re.compile(r"^\s*default '(?P<json>[^']*)';\s*$", re.MULTILINE)
_NGINX_ERROR = re.compile(r"\[(emerg|alert|crit|error)\]")
# Directories where nginx usually lives but that a non-root PATH often lacks.
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
CONFIRM_EVERY = 0.02
# A reload starts the new workers, sleeps 100 ms, and only then tells the old ones to stop
# accepting: for that window either generation may answer. A first answer with the new weights
# comes from a new worker; answers that keep agreeing for longer than the window come after
# the old workers have let go of the listening sockets.
SETTLE = 0.25


class NginxOptions(Model):
    upstream_file: str = Field(description="the include file phasegate owns and rewrites")
    upstream: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+$", description="the name of the upstream block"
    )
    servers: dict[str, str | list[str]] = Field(
        min_length=1, description="backend -> server address (or a list of addresses)"
    )
    config: str | None = Field(None, description="nginx.conf, passed as -c to nginx")
    nginx: Command = Field("nginx", description="the nginx binary, or an argv list")
    confirm_url: str | None = Field(
        None, description="URL returning $phasegate_weights: polled until it shows the change"
    )
    timeout: Duration = Field(30.0, description="limit for one change, confirmation included")


class NginxRouter(RouterSpec):
    kind: ClassVar[str] = "nginx"

    nginx: NginxOptions = Field(description="the upstream file, its servers and how to reload")

    def describe(self) -> str:
        return f"nginx router: upstream {self.nginx.upstream} in {self.nginx.upstream_file}"

    async def apply(self, weights: Weights, ctx: PluginContext) -> Weights:
        options = self.nginx
        deadline = time.monotonic() + options.timeout
        path = Path(ctx.expand(options.upstream_file))
        if not path.is_absolute():
            path = Path(ctx.plan_dir) / path
        servers = _servers(options.servers, weights, ctx)
        text = render_upstream(options.upstream, servers, weights)
        previous = _read(path)
        _write_atomically(path, text.encode("utf-8"))
        try:
            await self._nginx(ctx, ["-t"], "rejected the new upstream file", deadline)
            await self._nginx(ctx, ["-s", "reload"], "could not reload", deadline)
        except BaseException:
            _restore(path, previous)
            raise
        if options.confirm_url:
            return await _confirm(ctx.expand(options.confirm_url), weights, deadline, ctx)
        return parse_weights(_read(path) or b"")

    async def _nginx(
        self, ctx: PluginContext, args: list[str], failed: str, deadline: float
    ) -> None:
        argv = _nginx_argv(self.nginx, ctx)
        if self.nginx.config:
            argv += ["-c", ctx.expand(self.nginx.config)]
        result = await ctx.executor.run(
            [*argv, *args],
            env=ctx.env,
            cwd=ctx.plan_dir,
            timeout=max(deadline - time.monotonic(), 0.1),
        )
        if result.error:
            raise RouterError(
                ctx.masker.text(result.error) + " (set the router's `nginx:` option to the binary)"
            )
        if result.timed_out:
            raise RouterError(f"`nginx {' '.join(args)}` timed out ({self.nginx.timeout:g}s)")
        if result.exit_code != 0:
            said = nginx_error(result.stderr or result.stdout)
            detail = f": {ctx.masker.text(said)}" if said else f" (exit {result.exit_code})"
            raise RouterError(f"nginx {failed}{detail}; the previous configuration still serves")


def render_upstream(upstream: str, servers: Mapping[str, list[str]], weights: Weights) -> str:
    """The whole include file: the weighted upstream and the ``$phasegate_weights`` map.

    nginx refuses ``weight=0``, so a backend at 0% is written ``down``. A backend with several
    addresses keeps its share: each address gets the backend's weight divided among them
    (scaled by the least common multiple of the address counts, so weights stay integers).
    """
    live = [len(servers[name]) for name, weight in weights.items() if weight > 0]
    scale = math.lcm(*live) if live else 1
    lines = [HEADER, f"upstream {upstream} {{"]
    for name, weight in weights.items():
        for address in servers[name]:
            if weight > 0:
                lines.append(f"    server {address} weight={weight * scale // len(servers[name])};")
            else:
                lines.append(f"    server {address} down;")
    lines.append("}")
    # A map with a constant key: the only way to give an http-level variable a fixed value.
    payload = json.dumps(weights, separators=(",", ":"))
    lines += ['map "" $phasegate_weights {', f"    default '{payload}';", "}", ""]
    return "\n".join(lines)


def parse_weights(text: bytes) -> Weights:
    """The weights a rendered file declares (its ``$phasegate_weights`` value)."""
    found = _WEIGHTS_LINE.search(text.decode("utf-8", errors="replace"))
    if not found:
        raise RouterError("the upstream file has no $phasegate_weights map")
    return _as_weights(found.group("json"))


def nginx_error(output: str) -> str:
    """nginx's own complaint: its first [emerg]/[error] line, without the ``nginx:`` prefix."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    chosen = next((line for line in lines if _NGINX_ERROR.search(line)), None)
    chosen = chosen or (lines[-1] if lines else "")
    return chosen.removeprefix("nginx: ")[:300]


def _servers(
    configured: Mapping[str, str | list[str]], weights: Weights, ctx: PluginContext
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in weights:
        if name not in configured:
            raise RouterError(
                f"the nginx router has no server address for backend {name!r}; "
                f"add it under `servers:` (known: {', '.join(configured)})"
            )
        value = configured[name]
        addresses = [ctx.expand(a).strip() for a in ([value] if isinstance(value, str) else value)]
        if not addresses:
            raise RouterError(f"backend {name!r} has an empty list of server addresses")
        for address in addresses:
            if not _ADDRESS.match(address):
                raise RouterError(
                    f"backend {name!r}: {ctx.masker.text(address)!r} is not a server address "
                    "(host:port, [v6]:port or unix:/path)"
                )
        found[name] = addresses
    return found


def _nginx_argv(options: NginxOptions, ctx: PluginContext) -> list[str]:
    raw = options.nginx
    argv = [ctx.expand(part) for part in (raw.split() if isinstance(raw, str) else raw)]
    if not argv:
        raise RouterError("the router's `nginx:` option is empty")
    if os.sep not in argv[0]:
        search = os.pathsep.join([ctx.env.get("PATH", os.defpath), *_SBIN])
        argv[0] = shutil.which(argv[0], path=search) or argv[0]
    return argv


async def _confirm(url: str, weights: Weights, deadline: float, ctx: PluginContext) -> Weights:
    """Poll until fresh connections are answered with the new weights, and only with them, for
    ``SETTLE`` seconds: then the old workers have stopped accepting."""
    last = "no answer"
    settled_at: float | None = None
    # No keep-alive: an old worker finishes its open connections with the old weights.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=2.0) as client:
        while True:
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    reported = _as_weights(response.text)
                    if reported == weights:
                        settled_at = settled_at or time.monotonic() + SETTLE
                        if time.monotonic() >= settled_at:
                            return reported
                    else:
                        settled_at = None
                        last = f"it still reports {response.text.strip()[:200]}"
                else:
                    last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            except RouterError as exc:
                last = str(exc)
            if time.monotonic() + CONFIRM_EVERY > deadline:
                raise RouterError(
                    f"nginx reloaded, but {ctx.masker.text(url)} did not confirm the new "
                    f"weights in time ({ctx.masker.text(last)})"
                )
            await asyncio.sleep(CONFIRM_EVERY)


def _as_weights(text: str) -> Weights:
    try:
        value = json.loads(text)
    except ValueError:
        raise RouterError(f"not a JSON object of weights: {text.strip()[:200]!r}") from None
    if not isinstance(value, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value.values()
    ):
        raise RouterError(f"not a JSON object of weights: {text.strip()[:200]!r}")
    return {str(k): int(v) for k, v in value.items()}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RouterError(f"cannot read the upstream file {path}: {exc.strerror}") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers (nginx -t, a reload) see the old file or the new one, never half of either."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise RouterError(f"cannot write beside the upstream file {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise RouterError(f"cannot write the upstream file {path}: {exc.strerror}") from exc
    _fsync_dir(path.parent)


def _restore(path: Path, previous: bytes | None) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, previous)


def _fsync_dir(directory: Path) -> None:
    # The rename itself must survive a crash, or the old file could reappear after a reboot.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
