"""Who owns a run: (pid, host, process start time), so a dead owner and a reused pid are told
apart from a live one."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; fields resume after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


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
        start = _start_time(self.pid)
        # A different start time means the pid was reused by another process.
        return self.start is None or start is None or start == self.start
