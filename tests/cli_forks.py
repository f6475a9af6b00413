"""The ``cli`` fixture's commands, forked from a warm process instead of a fresh interpreter.

Why: the suite runs `phasegate` thousands of times; a fresh interpreter spends ~0.45 s of CPU
importing phasegate and building its pydantic validators before the command does anything,
and the suite is CPU-bound on two cores. Here a "zygote" process (one per pytest process,
started on first use, gone with it) has imported every module and built every validator
once (tests/cli_warmup.py); each command is forked from it.

What stays real: each command is its own process (own pid, working directory, environment,
stdin, stdout and stderr as files, exit status — a signal's negative, as subprocess says),
running phasegate's console entry point as ``python -m phasegate`` does, its steps its own
children. What differs: the process was forked, not exec'd (its /proc cmdline is the
zygote's, and it is not the test process's child). So commands a test kills, signals or
watches while they run (``CLI.spawn``), commands given a PYTHON* variable (a plugin on
PYTHONPATH), and the tests of start-up and installation keep a real ``python -m phasegate``;
``PHASEGATE_TEST_FRESH_INTERPRETER=1`` makes every command a fresh interpreter again.

Protocol, per command: connect to the zygote's Unix socket and send one JSON request; the
zygote forks a waiter, which forks the command, sends its pid, waits for it and sends its
exit status.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_lock = threading.Lock()
_zygote: dict[str, tuple[subprocess.Popen[bytes], str]] = {}  # "this process": (zygote, socket)


def enabled() -> bool:
    return os.environ.get("PHASEGATE_TEST_FRESH_INTERPRETER", "") not in ("1", "true")


def phasegate(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m phasegate ARGS`` run to completion (``capture_output``, ``text``): forked
    from the zygote, unless the command needs what only a fresh interpreter reads (a PYTHON*
    variable other than this process's, e.g. PYTHONPATH with a plugin)."""
    python_vars = {k for k in (*env, *os.environ) if k.startswith("PYTHON")}
    if enabled() and all(env.get(k) == os.environ.get(k) for k in python_vars):
        return run(args, cwd=cwd, env=env, timeout=timeout, input=input)
    return subprocess.run(
        [sys.executable, "-m", "phasegate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def zygote_pid() -> int | None:
    """This process's zygote, if it runs: cleanups that end every descendant of the test
    process leave it (and so its warm-up) alone."""
    known = _zygote.get("this process")
    return known[0].pid if known is not None and known[0].poll() is None else None


def _socket_path() -> str:
    with _lock:
        known = _zygote.get("this process")
        if known is not None and known[0].poll() is None:
            return known[1]
        where = tempfile.mkdtemp(prefix="pg-zygote-")
        path = os.path.join(where, "sock")
        boot = (
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"from tests.cli_forks import serve; serve({path!r})"
        )
        # stdin is the lifeline: the zygote ends when this process does (EOF).
        proc = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not os.path.exists(path + ".ready"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the CLI zygote did not start (exit {proc.poll()})")
            time.sleep(0.02)
        _zygote["this process"] = (proc, path)
        atexit.register(_stop, proc, where)
        return path


def _stop(proc: subprocess.Popen[bytes], where: str) -> None:
    """At this process's exit: close the zygote's lifeline, wait for it to end, remove its
    socket's directory."""
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(where, ignore_errors=True)


def run(
    args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, input: str | None
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([python, -m, phasegate, *args], capture_output=True, text=True, …)``."""
    cmd = [sys.executable, "-m", "phasegate", *args]
    with tempfile.TemporaryDirectory(prefix="pg-cli-") as tmp:
        inp, out, err = (Path(tmp) / name for name in ("in", "out", "err"))
        inp.write_text(input or "", encoding="utf-8")
        request = {"args": args, "cwd": str(cwd), "env": env}
        request.update({"in": str(inp), "out": str(out), "err": str(err)})
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(_socket_path())
            conn.sendall(json.dumps(request).encode() + b"\n")
            received = bytearray()
            pid = int(_line(conn, received))
            conn.settimeout(timeout)
            try:
                line = _line(conn, received)
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)  # as subprocess.run does on a timeout
                conn.settimeout(None)
                _line(conn, received)  # the waiter has reaped it
                raise subprocess.TimeoutExpired(
                    cmd, timeout, output=_read(out), stderr=_read(err)
                ) from None
        return subprocess.CompletedProcess(cmd, int(line), _read(out), _read(err))


def _line(conn: socket.socket, received: bytearray) -> str:
    """The next line the waiter sent (bytes after it stay in ``received``)."""
    while b"\n" not in received:
        chunk = conn.recv(64)
        if not chunk:
            raise RuntimeError("the CLI zygote's waiter ended without an answer")
        received.extend(chunk)
    line, _, rest = bytes(received).partition(b"\n")
    received[:] = rest
    return line.decode()


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    # As `text=True` reads a pipe: UTF-8 with universal newlines.
    with open(path, encoding="utf-8", newline=None) as f:
        return f.read()


# -- the zygote ------------------------------------------------------------------------------
def serve(path: str) -> None:
    import gc
    import select

    import tests.cli_warmup  # noqa: F401 (imports every module, builds every validator)

    gc.collect()
    gc.freeze()  # children share the warm heap instead of copying it on their first GC
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    Path(path + ".ready").touch()
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            listener.close()
            os._exit(0)  # the test process has ended
        if listener in readable:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                _waiter(conn)
            conn.close()


def _waiter(conn: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        request = json.loads(conn.makefile("r", encoding="utf-8").readline())
        pid = os.fork()
        if pid == 0:
            conn.close()
            _command(request)
        conn.sendall(f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
    finally:
        os._exit(0)


def _command(request: dict[str, Any]) -> None:
    """In the forked command: become ``python -m phasegate ARGS`` as a fresh interpreter
    would have started it (stdio, directory, environment, argv, signals)."""
    import io
    import runpy

    # As CPython sets them at start-up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    flags = {"in": os.O_RDONLY, "out": os.O_WRONLY | os.O_CREAT, "err": os.O_WRONLY | os.O_CREAT}
    for fd, name in ((0, "in"), (1, "out"), (2, "err")):
        opened = os.open(request[name], flags[name], 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), "utf-8")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), "utf-8"
    )
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
        "utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.argv = [sys.executable, *request["args"]]
    code = 0
    try:
        runpy.run_module("phasegate", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = _exit_status(exc.code)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    for thread in threading.enumerate():  # what the interpreter's exit waits for
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
