"""What to tell the operator when a command cannot even start.

Every error of the spawn itself (``fork``/``exec``) becomes a step failure with a message that
says why and what to do; the engine never crashes on one (issue 10 §2.5: a ``run:`` over
128 KiB raised E2BIG out of the executor and left the run stuck).
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence

# Linux limits one argument (or one environment entry) to MAX_ARG_STRLEN = 32 pages.
MAX_ARG_STRLEN = 128 * 1024


def spawn_error(
    argv: Sequence[str], env: Mapping[str, str], cwd: str, exc: OSError | ValueError
) -> str:
    program = argv[0] if argv else "?"
    head = f"cannot start {program!r}"
    if isinstance(exc, ValueError):  # e.g. "embedded null byte"
        return f"{head}: {exc}; a command, its arguments and its environment cannot contain NUL"
    code = exc.errno
    if code == errno.E2BIG:
        return f"{head}: {_too_big(argv, env)}"
    name = errno.errorcode.get(code, "") if code is not None else ""
    reason = exc.strerror or str(exc)
    if code == errno.ENOENT and exc.filename == cwd:
        return f"{head}: working directory {cwd} does not exist ({name})"
    if code in (errno.ENOENT, errno.EACCES, errno.ENOTDIR, errno.ENOEXEC):
        target = exc.filename or program
        return f"{head}: {reason} ({target})"
    if code in (errno.EAGAIN, errno.ENOMEM, errno.EMFILE, errno.ENFILE):
        return f"{head}: {reason} ({name}): the machine is out of processes, memory or files"
    return f"{head}: {reason}" + (f" ({name})" if name else "")


def _too_big(argv: Sequence[str], env: Mapping[str, str]) -> str:
    args = sum(len(a.encode()) + 1 for a in argv)
    environment = sum(len(k.encode()) + len(v.encode()) + 2 for k, v in env.items())
    longest = max((len(a.encode()) for a in argv), default=0)
    biggest_env = max(env.items(), key=lambda kv: len(kv[1].encode()), default=None)
    if longest >= MAX_ARG_STRLEN:
        what = f"a {_kb(longest)} command (one argument is limited to 128 KiB)"
        fix = "put it in a script file and run that"
    elif biggest_env is not None and len(biggest_env[1].encode()) >= MAX_ARG_STRLEN:
        what = f"environment variable {biggest_env[0]} is {_kb(len(biggest_env[1].encode()))}"
        fix = "pass the value in a file instead"
    else:
        what = f"{_kb(args)} of arguments and {_kb(environment)} of environment"
        fix = "put the command in a script file, or pass data in files"
    return f"argument list too long (E2BIG): {what}; {fix}"


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB"
