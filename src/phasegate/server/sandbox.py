"""Loading a plan a client sent, in a child process with CPU-time and memory limits.

Why: a plan posted to the API is untrusted input for native code (libyaml, the CEL library)
and for algorithms whose worst case a crafted document can reach. Bounds before parsing
(``yamlsource``'s nesting pre-scan, ``expr.check_bounds``, the request body limit) stop the
attacks we know; the child stops the ones we do not: a segfault, a runaway or a memory blow-up
ends the child, never the server, and the caller gets a clear 422 instead of a reset
connection. This is the shape browsers use for untrusted content (a renderer process with
limits) and what ``ulimit`` + ``fork`` gives a CGI script.

How: children are forked from a ``multiprocessing`` fork server that has already imported the
plan code (``PRELOAD``), so a child starts in ~15 ms, not the ~1 s of a fresh interpreter, and
the server's threads are never forked. A child empties its environment (nothing it runs may
read the server's), sets ``RLIMIT_CPU`` and ``RLIMIT_AS``, runs one function, sends back its
result (or the error envelope it raised) over a pipe and exits. A child still running after
``WALL_SECONDS`` (blocked, not computing) is killed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from phasegate.errors import PhasegateError
from phasegate.server.errors import ApiError, ErrorBody, from_phasegate

log = logging.getLogger("phasegate.server.sandbox")

CPU_SECONDS = 10  # a 1 MB plan validates in well under a second
MEMORY_BYTES = 1024 * 1024 * 1024  # address space: Python, pydantic and the CEL library fit
WALL_SECONDS = 30
# Everything validate and preview import, so that a child imports nothing.
PRELOAD = [
    "phasegate.server.api.plans",
    "phasegate.plan.blockers",
    "phasegate.plan.preview",
    "phasegate.server.sandbox_warmup",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = CPU_SECONDS
    memory_bytes: int = MEMORY_BYTES
    wall_seconds: float = WALL_SECONDS


DEFAULT_LIMITS = Limits()

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def run_limited(work: Callable[..., T], *args: Any, limits: Limits = DEFAULT_LIMITS) -> T:
    """``work(*args)`` in a limited child: its result, or the ``ApiError`` it raised (a
    ``PhasegateError`` is translated as a route's would be); a crash, a runaway or an
    exhausted limit becomes a 422 ``invalid_plan`` (the plan is what made it happen)."""
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(target=_child, args=(sender, limits, work, args), daemon=True)
    child.start()
    sender.close()
    outcome: tuple[str, Any] | None = None
    try:
        if receiver.poll(limits.wall_seconds):
            try:
                outcome = receiver.recv()
            except EOFError:
                outcome = None  # it died without answering
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
    if outcome is None:
        raise _death(child.exitcode, limits)
    kind, payload = outcome
    if kind == "ok":
        result: T = payload
        return result
    if kind == "error":
        status, body, headers = payload
        raise ApiError(
            status, body.code, body.message, hint=body.hint, details=body.details, headers=headers
        )
    if kind == "memory":
        raise _limit(f"needs more than {limits.memory_bytes // (1024 * 1024)} MiB of memory")
    log.error("checking a posted plan failed:\n%s", payload)
    raise ApiError(
        500, "internal", "internal error", hint="this is a bug in phasegate; the server log has it"
    )


def _limit(what: str) -> ApiError:
    return ApiError(
        422,
        "invalid_plan",
        f"checking this plan {what}; it was stopped",
        hint="a plan is a few hundred lines: look for a huge or deeply nested value or expression",
    )


def _death(exitcode: int | None, limits: Limits) -> ApiError:
    if exitcode is None or exitcode == -signal.SIGKILL:
        return _limit(f"took more than {limits.wall_seconds:g} s")
    if exitcode == -signal.SIGXCPU:
        return _limit(f"took more than {limits.cpu_seconds} s of CPU")
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        return _limit(f"crashed the plan checker ({name})")
    return _limit(f"made the plan checker exit with status {exitcode}")


def _child(
    sender: Connection, limits: Limits, work: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    os.environ.clear()  # nothing a plan does here may read the server's environment
    cpu, memory = limits.cpu_seconds, limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    outcome: tuple[str, Any]
    try:
        outcome = ("ok", work(*args))
    except PhasegateError as exc:
        outcome = ("error", _transported(from_phasegate(exc)))
    except ApiError as exc:
        outcome = ("error", _transported(exc))
    except MemoryError:
        outcome = ("memory", None)
    except Exception:  # reported to the server's log by the parent
        outcome = ("internal", traceback.format_exc())
    sender.send(outcome)
    sender.close()
    # Nothing to clean up, and the interpreter's orderly shutdown (collecting every module
    # the fork server preloaded) would cost the caller more than the work itself.
    os._exit(0)


def _transported(error: ApiError) -> tuple[int, ErrorBody, dict[str, str] | None]:
    return error.status, error.body, error.headers
