"""The ``tcp`` check: a port accepts connections, or does not.

Plan syntax::

    - tcp: "127.0.0.1:5432"          # HOST:PORT; IPv6 as "[::1]:5432"; ${VAR}s expand
      expect: {open: true}           # default; `open: false` checks that nothing listens

A refused connection, an unreachable network or no answer within the timeout all count as
"not open". A host name that does not resolve or a malformed address is ``error``: the check
could not look.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from typing import ClassVar

from pydantic import Field, field_validator

from phasegate.checks._support import time_limit
from phasegate.checks.base import CheckSpec, Observation
from phasegate.options import Model
from phasegate.plugin import PluginContext, one_line
from phasegate.run.record import JsonDict

_ADDRESS = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d+)$")


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port); ValueError on anything else."""
    match = _ADDRESS.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not HOST:PORT (write IPv6 addresses as [::1]:PORT)")
    port = int(match["port"])
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range 1-65535")
    return match["v6"] or match["host"], port


class TcpExpect(Model):
    open: bool = Field(True, description="the port accepts connections (true) or not (false)")


class TcpCheck(CheckSpec):
    """A TCP port is open (or closed)."""

    kind: ClassVar[str] = "tcp"

    tcp: str = Field(
        min_length=1, description="HOST:PORT to connect to, [::1]:PORT for IPv6; ${VAR}s expand"
    )
    expect: TcpExpect = Field(default_factory=TcpExpect, description="what must hold")

    @field_validator("tcp")
    @classmethod
    def _address(cls, value: str) -> str:
        # With a variable in it the address can only be checked once expanded.
        if "${" not in value:
            parse_address(value)
        return value

    def describe(self) -> str:
        return self.name or f"tcp {self.tcp}"

    def expectation(self) -> str:
        return "open" if self.expect.open else "closed"

    async def evaluate(self, ctx: PluginContext) -> Observation:
        text = ctx.expand(self.tcp)
        try:
            host, port = parse_address(text)
        except ValueError as exc:
            return Observation("error", {"address": text}, one_line(str(exc)))
        limit = time_limit(self, ctx)
        observed: JsonDict = {"host": host, "port": port}
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit)
        except (socket.gaierror, UnicodeError) as exc:
            # UnicodeError: the IDNA codec refuses names such as "bad..host" before any lookup.
            reason = exc.strerror if isinstance(exc, socket.gaierror) else "invalid host name"
            return Observation(
                "error", observed, one_line(f"{text}: cannot resolve {host!r}: {reason}")
            )
        except TimeoutError:
            reason = f"no answer within {limit:g}s"
        except OSError as exc:
            # asyncio words every refusal "Connect call failed (addr)"; the errno says why.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            observed["open"] = True
            if self.expect.open:
                return Observation("passed", observed, f"{text} is open")
            return Observation(
                "failed", observed, f"expected {text} to be closed; it accepted a connection"
            )
        observed.update(open=False, reason=reason)
        if self.expect.open:
            return Observation(
                "failed", observed, one_line(f"expected {text} to be open; {reason}")
            )
        return Observation("passed", observed, one_line(f"{text} is closed, as expected: {reason}"))
