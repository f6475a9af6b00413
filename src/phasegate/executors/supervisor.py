"""The step supervisor's records, and the per-command shell supervisor: a tiny ``/bin/sh``
parent that outlives phasegate and records how the step ended.

Locally, one supervisor per run spawns every command and writes the same records
(``supervisor_main.py``, ``run_supervisor.py``); the shell form below is what remote hosts run
(``ssh_scripts.py``), and the local fallback (a request too large for one message, no
``posix_spawn``). ``read_status``, ``read_mark``, ``await_record`` and ``find_supervisor``
read both.

Model: Ansible's ``async`` status files. A command under the shell supervisor runs as

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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SUPERVISOR_SHELL = "/bin/sh"
# How long a reader waits for the record of a command that has ended while the run's
# supervisor that will write it still lives (``await_record``): microseconds in practice.
RECORD_WAIT = 5.0
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
    """The supervisor's record, or None when there is none or it is incomplete. The record is
    the file's last line; the run's supervisor writes a first line (``RunningMark``) when it
    spawns the command."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(512)
            ended = os.fstat(fh.fileno()).st_mtime
    except OSError:
        return None
    if not raw.endswith(b"\n"):
        return None
    parts = raw[raw.rfind(b"\n", 0, -1) + 1 :].decode("ascii", errors="replace").split()
    if len(parts) != 2 or parts[1] != "end":
        return None
    with contextlib.suppress(ValueError):
        return StatusRecord(status=int(parts[0]), ended_at=ended)
    return None


@dataclass(frozen=True)
class RunningMark:
    """The first line the run's supervisor (``supervisor_main.py``) writes to a status file
    when it spawns the command: the command's pid (its process group) and the supervisor that
    will append the record, each with its start time (``/proc/PID/stat``), so that a reused
    pid never matches."""

    pid: int
    start: str
    supervisor: int
    supervisor_start: str


def read_mark(path: Path | str) -> RunningMark | None:
    try:
        with open(path, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return None
    parts = first.decode("ascii", errors="replace").split()
    if not first.endswith(b"\n") or len(parts) != 5 or parts[4] != "run":
        return None
    try:
        return RunningMark(int(parts[0]), parts[1], int(parts[2]), parts[3])
    except ValueError:
        return None


def await_record(path: Path, wait: float = RECORD_WAIT) -> StatusRecord | None:
    """The record of a command whose group has ended, waiting (bounded) while the run's
    supervisor that spawned it still lives: it appends the record just before it reaps the
    command, so a reader may see the command gone a moment before its record is there. With
    no such supervisor (a shell supervisor, whose exit already followed its write; or a
    supervisor that is gone) it does not wait."""
    record = read_status(path)
    mark = read_mark(path) if record is None else None
    if mark is None:
        return record
    deadline = time.monotonic() + wait
    while record is None and time.monotonic() < deadline:
        if not _alive(mark.supervisor, mark.supervisor_start):
            return read_status(path)
        time.sleep(0.005)
        record = read_status(path)
    return record


def _alive(pid: int, start: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return False
    fields = raw[raw.rfind(b")") + 2 :].split()
    return len(fields) > 19 and fields[0] not in (b"Z", b"X") and fields[19].decode() == start


def find_supervisor(status_file: str) -> int | None:
    """The process group of a live command recording into ``status_file``, when the engine
    died before it journalled the pid: the command's own pid, from the run supervisor's first
    line (checked against its start time), or else the pid of a live ``/bin/sh`` supervisor,
    found by its command line (the status file's path is unique per run, item and attempt, so
    a reused pid cannot match)."""
    mark = read_mark(status_file)
    if mark is not None:
        if read_status(Path(status_file)) is None and _alive(mark.pid, mark.start):
            return mark.pid
        return None
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
