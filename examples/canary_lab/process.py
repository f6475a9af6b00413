"""Lab servers (nginx, haproxy, Prometheus) as child processes in a session of their own.

Each server runs in the foreground as a child of the lab, so stopping it is a signal and a
wait, never a search for a pid. The new session keeps a Ctrl-C in the lab's terminal away from
the servers (the lab stops them itself, in order) and makes the server's process group one
that a kill reaches whole, nginx's workers included.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def spawn(argv: list[str], output: Path, *, append: bool = False) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session, without stdin, writing stdout and stderr to
    ``output`` (truncated first, or appended to with ``append``)."""
    with output.open("ab" if append else "wb") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(
    process: subprocess.Popen[bytes],
    name: str,
    answers: Callable[[], bool],
    logs: Callable[[], str],
    where: str,
    limit: float,
) -> None:
    """Poll ``answers`` every 50 ms until it says the server is up. A server that exits
    first is an error carrying its ``logs()``; one still silent after ``limit`` seconds is
    an error naming ``where`` it should have answered."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start:\n{logs()}")
        if answers():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer on {where} in {limit:g}s")


def stop_group(
    process: subprocess.Popen[bytes] | None, stop_signal: signal.Signals, limit: float
) -> None:
    """Send the server's own stop signal and wait up to ``limit`` seconds; if it lingers,
    SIGKILL its whole process group and wait again. Nothing to do once it has exited."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=limit)


def subreaper(on: bool) -> None:
    """While on, orphaned descendants (workers whose server was killed or stopped) are
    re-parented to this process, which can wait for them and reap them: nothing is left
    behind, and a killed worker is truly gone, not a zombie that looks alive. Off again
    afterwards, so other orphans go to init as they expect."""
    pr_set_child_subreaper = 36
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, int(on), 0, 0, 0)


def reap() -> None:
    """Collect every child that has exited, without waiting."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                raw = (entry / "stat").read_text()
                parents[int(entry.name)] = int(raw[raw.rfind(")") + 2 :].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found
