"""What every plugin sees: one :class:`PluginContext`, and the helpers plugins share.

Check kinds, metric providers and routers all receive the same context (issue 12 §5: plugins
see one context, never the runner). It sits below the plugin packages (checks, metrics,
traffic) so that each of them can use it without importing another: the ``metric`` check uses
the metric providers, and a provider must not need the checks package for its context.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from phasegate.executors.base import Executor
from phasegate.masking import Masker
from phasegate.substitution import substitute, unescape_shell

if TYPE_CHECKING:
    import httpx  # only for annotations: loading a plan must not import httpx

    from phasegate.executors.ssh_files import HostFiles

# A check without its own `timeout` and a plan without `defaults.timeout`: one evaluation.
DEFAULT_CHECK_TIMEOUT = 60.0
EXCERPT_LIMIT = 2048
MESSAGE_LIMIT = 300


@dataclass
class PluginContext:
    """What a plugin may use. Everything with side effects arrives through here."""

    executor: Executor
    masker: Masker
    plan_dir: str
    env: Mapping[str, str]
    expand: Callable[[str], str]
    shell: list[str]
    # The names CEL expressions see (vars, steps, checks, ...), any Python values CEL converts.
    activation: Callable[[], Mapping[str, object]] = field(default=lambda: {})
    timeout: float = DEFAULT_CHECK_TIMEOUT
    # Where commands start when they name no `cwd`: the shell session's (`shell_session`),
    # else the plan's directory.
    cwd: str | None = None
    # A schedule's consecutive passes (None: no such schedule), read from the run's store;
    # None outside a run (the `streak` check says so).
    streak: Callable[[str], int | None] | None = None
    # Where the `file` and `kpi` checks read: None, this machine; else a fleet host's files,
    # opened over its connection (a fleet phase's host gates on ssh hosts,
    # engine/fleet_gates.py; executors/ssh_files.py).
    host_files: Callable[[], AbstractAsyncContextManager[HostFiles]] | None = None


def command_argv(run: str | list[str], shell: list[str], values: dict[str, str]) -> list[str]:
    """How every command is started: a string goes to the shell as one argument (variables
    reach it through the environment), an argv list is substituted element by element."""
    if isinstance(run, str):
        return [*shell, unescape_shell(run)]
    return [substitute(part, values) for part in run]


def describe_command(run: str | list[str]) -> str:
    """A command as one line for logs and previews: a script as written, an argv quoted."""
    if isinstance(run, str):
        return run.strip()
    return shlex.join(run)


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more chars)"


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def hide_password(text: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host`` for messages and reports."""
    return re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", text)


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """A streamed response's body, at most ``limit`` bytes (reading stops there, so a huge or
    endless answer cannot exhaust memory), and whether there was more; closes the response."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    finally:
        await response.aclose()
    return b"".join(chunks)[:limit], size > limit
