"""Who owns a run: (pid, host, process start time), so a dead owner and a reused pid are told
apart from a live one. Also the /proc readings that find a step's process group after a crash.

A zombie (state ``Z`` in ``/proc/PID/stat``: exited, not yet reaped by its parent) is dead: it
runs no code and will never act on a request, release a lock or finish a step. ``kill(pid, 0)``
succeeds on one, so liveness is read from ``/proc`` instead.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcStat:
    state: str  # R, S, D, Z, T, ...
    pgrp: int
    start: str  # clock ticks since boot: with the pid, a unique name for a process


def proc_stat(pid: int) -> ProcStat | None:
    """The few fields of ``/proc/PID/stat`` we use, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; fields resume after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return ProcStat(state=fields[0], pgrp=int(fields[2]), start=fields[19])


def _start_time(pid: int) -> str | None:
    stat = proc_stat(pid)
    return stat.start if stat is not None else None


def process_alive(pid: int, start: str | None) -> bool:
    """The process ``pid`` that started at ``start`` still runs code (not gone, not a zombie,
    not a newer process that reused the pid)."""
    stat = proc_stat(pid)
    if stat is None or stat.state in ("Z", "X"):
        return False
    return start is None or stat.start == start


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``. A step's group outlives its
    leader when the leader is killed and a child goes on; ``killpg(pgid, 0)`` would also
    count zombies, so /proc is read."""
    members = []
    with os.scandir("/proc") as entries:
        names = [entry.name for entry in entries if entry.name.isdigit()]
    for name in names:
        stat = proc_stat(int(name))
        if stat is not None and stat.pgrp == pgid and stat.state not in ("Z", "X"):
            members.append(int(name))
    return members


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    start: str | None

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(pid=pid, host=socket.gethostname(), start=_start_time(pid))

    def alive(self) -> bool | None:
        """True/False on this host; None when the owner is on another host (cannot tell)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, but another user's: still alive
        stat = proc_stat(self.pid)
        if stat is None:
            return False
        if stat.state in ("Z", "X"):
            return False  # exited; its parent has not reaped it yet
        # A different start time means the pid was reused by another process.
        return self.start is None or stat.start == self.start
