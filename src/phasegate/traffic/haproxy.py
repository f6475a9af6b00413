"""``haproxy`` router: server weights changed live through haproxy's runtime API.

```yaml
traffic:
  backends: [stable, canary]
  router:
    haproxy:
      socket: /run/haproxy/admin.sock     # a unix socket, or "127.0.0.1:9999" (TCP)
      backend: app                         # the haproxy backend
      servers: {stable: stable, canary: canary}   # optional: backend -> haproxy server name
      timeout: 5s
```

haproxy needs ``stats socket /run/haproxy/admin.sock level admin`` in its ``global`` section.
No reload and no file: ``set server app/canary weight 5`` takes effect for the next request,
and ``get weight`` then reads back what haproxy really uses, which is what the change reports.
Weight 0 is valid in haproxy: the server takes no new traffic. Runtime weights do not survive
an haproxy restart; resuming a run re-applies the last weights for that reason.

haproxy answers a non-interactive connection and closes it, so each command gets its own
connection; a ``set`` that succeeds answers nothing, anything else is haproxy's complaint.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import ClassVar

from pydantic import Field

from phasegate.options import Duration, Model
from phasegate.plugin import PluginContext
from phasegate.traffic.base import RouterError, RouterSpec, Weights

_NAME = r"^[A-Za-z0-9_.:-]+$"
_TCP = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")
_WEIGHT = re.compile(r"^\s*(?P<current>\d+)\s*\(initial\s+\d+\)\s*$")
ANSWER_LIMIT = 64 * 1024


class HaproxyOptions(Model):
    socket: str = Field(description="the admin stats socket: a unix path, or host:port")
    backend: str = Field(pattern=_NAME, description="the haproxy backend holding the servers")
    servers: dict[str, str] = Field(
        default_factory=dict, description="backend -> haproxy server name (default: same name)"
    )
    timeout: Duration = Field(5.0, description="limit for one change, confirmation included")


class HaproxyRouter(RouterSpec):
    kind: ClassVar[str] = "haproxy"

    haproxy: HaproxyOptions = Field(description="the runtime API socket and the servers")

    def describe(self) -> str:
        return f"haproxy router: backend {self.haproxy.backend} via {self.haproxy.socket}"

    async def apply(self, weights: Weights, ctx: PluginContext) -> Weights:
        options = self.haproxy
        api = RuntimeAPI(ctx.expand(options.socket), time.monotonic() + options.timeout)
        backend = ctx.expand(options.backend)
        targets = {name: f"{backend}/{self._server(name, ctx)}" for name in weights}
        # Every server is looked up before any weight moves, so a misspelt name changes
        # nothing instead of leaving half of the weights applied.
        await self._weights(api, targets, ctx)
        for name, weight in weights.items():
            answer = await api.ask(f"set server {targets[name]} weight {weight}")
            if answer:
                said = ctx.masker.text(answer)
                raise RouterError(f"haproxy refused `set server {targets[name]}`: {said}")
        return await self._weights(api, targets, ctx)

    async def _weights(
        self, api: RuntimeAPI, targets: dict[str, str], ctx: PluginContext
    ) -> Weights:
        """The weights haproxy uses now (``get weight`` answers ``95 (initial 100)``)."""
        found: Weights = {}
        for name, target in targets.items():
            answer = await api.ask(f"get weight {target}")
            weight = _WEIGHT.match(answer)
            if not weight:
                said = ctx.masker.text(answer) or "nothing"
                raise RouterError(f"haproxy answered `get weight {target}` with: {said}")
            found[name] = int(weight.group("current"))
        return found

    def _server(self, name: str, ctx: PluginContext) -> str:
        server = ctx.expand(self.haproxy.servers.get(name, name))
        if not re.match(_NAME, server):
            raise RouterError(f"backend {name!r}: {server!r} is not an haproxy server name")
        return server


class RuntimeAPI:
    """haproxy's runtime API over its stats socket: one command, one connection, one answer."""

    def __init__(self, socket: str, deadline: float) -> None:
        self.socket = socket
        self.deadline = deadline

    async def ask(self, command: str) -> str:
        """Send one command and return haproxy's answer, stripped; raises RouterError."""
        remaining = self.deadline - time.monotonic()
        try:
            async with asyncio.timeout(max(remaining, 0.01)):
                reader, writer = await self._connect()
                try:
                    writer.write(command.encode("ascii") + b"\n")
                    await writer.drain()
                    answer = await reader.read(ANSWER_LIMIT)
                    while chunk := await reader.read(ANSWER_LIMIT):
                        answer += chunk
                finally:
                    writer.close()
        except TimeoutError:
            raise RouterError(
                f"haproxy did not answer `{command}` on {self.socket} in time; {self._hint()}"
            ) from None
        except OSError as exc:
            raise RouterError(
                f"cannot reach haproxy's runtime API at {self.socket} "
                f"({_reason(exc)}); {self._hint()}"
            ) from exc
        return answer.decode("utf-8", errors="replace").strip()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        tcp = _TCP.match(self.socket)
        if tcp and "/" not in self.socket:
            host = tcp.group("host").strip("[]")
            return await asyncio.open_connection(host, int(tcp.group("port")))
        return await asyncio.open_unix_connection(self.socket.removeprefix("unix@"))

    def _hint(self) -> str:
        return (
            f"check that haproxy runs and its global section has "
            f"`stats socket {self.socket} level admin`"
        )


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return exc.strerror or str(exc)
