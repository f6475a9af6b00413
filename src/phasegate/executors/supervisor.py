"""The step supervisor: a tiny ``/bin/sh`` parent that outlives phasegate and records how the
step ended.

Model: Ansible's ``async`` status files. Every local command runs as

    /bin/sh -c SUPERVISOR STATUS_FILE argv...

The shell is the process-group leader (the executor starts a new session), runs the command
in the foreground, then writes the command's exit status to STATUS_FILE and exits with the
same status (or dies of the same signal, so a timeout or a kill still reads as a signal). If
phasegate is killed meanwhile, the supervisor is not: the record is written anyway, and
``resume`` can tell "finished with exit 0 while phasegate was dead" from "really unknown".

Why sh and not Python: a supervisor runs for every step, and ``dash`` starts in well under a
millisecond where an interpreter costs 15-25 ms. Why no ``date`` and no ``mv``: each would be
another fork per step. The end time is the status file's mtime (the kernel writes it), and
the record is one short ``write(2)`` of ``"<status> end\\n"``; a reader takes a record only
when it is complete (the word ``end`` and the newline), so a supervisor killed mid-write reads
as "no record", which is the safe answer (unknown, ask a human).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SUPERVISOR_SHELL = "/bin/sh"
# $0 is the status file; "$@" is the command. The shell's own stderr goes to /dev/null (the
# command keeps the real one, through fd 3) so that dash's "Killed" notes never reach a step's
# log. TERM/INT/HUP are caught (``:``), not ignored: a caught signal is reset in the child, and
# POSIX makes the shell run the trap only once the foreground command has ended, so a SIGTERM
# to the group (a timeout, an abort) gives the step its grace period and the supervisor exits
# when the step does, not before. Exit statuses above 128 are deaths by signal (the shell's
# convention); the supervisor re-raises the signal on itself so that its parent sees a signal,
# as without a supervisor.
SUPERVISOR_SCRIPT = (
    'trap : TERM INT HUP; exec 3>&2 2>/dev/null; "$@" 2>&3 3>&-; s=$?; echo "$s end" >"$0"; '
    'trap - TERM INT HUP; if [ "$s" -gt 128 ]; then kill -$((s - 128)) $$; fi; exit "$s"'
)


def supervised(argv: Sequence[str], status_file: str) -> list[str]:
    """The argv that runs ``argv`` under the supervisor, recording into ``status_file``."""
    return [SUPERVISOR_SHELL, "-c", SUPERVISOR_SCRIPT, status_file, *argv]


def cannot_start(argv: Sequence[str], env: Mapping[str, str], cwd: str) -> str | None:
    """Why ``argv[0]`` cannot be executed, checked before the supervisor is spawned: the shell
    would report a missing program as exit 127, and phasegate reports it as "cannot start"
    (a spawn error, no process ran)."""
    program = argv[0] if argv else ""
    if not program:
        return "cannot start '': empty command"
    if not os.path.isdir(cwd):
        return None  # the spawn itself reports the working directory, as without supervisor
    if "/" in program:
        path = program if os.path.isabs(program) else os.path.join(cwd, program)
        if not os.path.exists(path):
            return f"cannot start {program!r}: No such file or directory ({program})"
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            return f"cannot start {program!r}: Permission denied ({program})"
        return None
    if shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        return f"cannot start {program!r}: No such file or directory ({program})"
    return None


@dataclass(frozen=True)
class StatusRecord:
    """What a supervisor wrote: the command's exit status and when it ended."""

    status: int  # 0-255; above 128 means "killed by signal status-128"
    ended_at: float

    @property
    def signal(self) -> int | None:
        return self.status - 128 if self.status > 128 else None


def read_status(path: Path) -> StatusRecord | None:
    """The supervisor's record, or None when there is none or it is incomplete."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(64)
            ended = os.fstat(fh.fileno()).st_mtime
    except OSError:
        return None
    parts = raw.decode("ascii", errors="replace").split()
    if not raw.endswith(b"\n") or len(parts) != 2 or parts[1] != "end":
        return None
    with contextlib.suppress(ValueError):
        return StatusRecord(status=int(parts[0]), ended_at=ended)
    return None


def find_supervisor(status_file: str) -> int | None:
    """The pid of a live supervisor writing to ``status_file``, found by its command line (the
    status file's path is unique per run, item and attempt, so a reused pid cannot match).
    Used when the engine died before it journalled the step's pid."""
    needle = status_file.encode()
    with os.scandir("/proc") as entries:
        names = [entry.name for entry in entries if entry.name.isdigit()]
    for name in names:
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                args = fh.read().split(b"\0")
        except OSError:
            continue
        if len(args) > 3 and args[2] == SUPERVISOR_SCRIPT.encode() and args[3] == needle:
            return int(name)
    return None
