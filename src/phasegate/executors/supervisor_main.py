"""The run's step supervisor: one long-lived process per run that spawns each supervised
command for the engine and records how it ended (issue 12).

Started once per run by ``executors/run_supervisor.py`` as ``python -I -S THIS_FILE FD``, in
its own session, with nothing of the engine's but one end of a ``SOCK_SEQPACKET`` socket pair
(FD). It imports the standard library only (``-I -S``: no site, no PYTHONPATH, no phasegate),
so its start costs one interpreter, not phasegate's imports.

It does for every step what the ``/bin/sh`` supervisor of ``executors/supervisor.py`` did per
step, without an ``exec`` of a shell per step:

1. A request (one message: ``marshal`` of ``(seq, argv, env, cwd, status_file)``, the step's
   stdout and stderr pipes passed along as descriptors) is spawned with ``posix_spawn`` in a
   new session (the step is its own process-group leader: a timeout or an abort kills its
   whole tree with one ``killpg``), stdin from /dev/null.
2. The status file gets a first line ``PID START SUPERVISOR_PID SUPERVISOR_START run``: how
   ``resume`` finds the step's group when the engine died before it journalled the pid, and
   who will write the record. A reader takes only a last line ``STATUS end`` as a record.
   The reply to the engine carries the same START: the engine journals it in
   ``item.spawned`` without reading ``/proc`` itself, where a quick command is already gone.
3. When the step ends, the record ``STATUS end`` is appended (the shell's convention: above
   128 is a death by signal) *before* the step is reaped (``waitid(WNOWAIT)``), and only then
   is the engine told. Whoever sees the step gone and no record knows from the first line that
   the record is on its way while this process lives (``supervisor.await_record``).

The engine's kill -9 does not reach it (another session); it then goes on recording, and
exits once it has no running command and the engine's end of the socket is closed, which is
also how it ends with the run.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import selectors
import signal
import socket
import sys

MAX_REQUEST = 256 * 1024
_FDS = 2  # the step's stdout and stderr
# Python ignores SIGPIPE and SIGXFSZ, this process the three that could end it: a command gets
# all of them at their default, as from a shell.
_DEFAULTS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _start_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return "-"
    fields = raw[raw.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else "-"


def _executable(program: str, env: dict[str, str]) -> str | None:
    """Where ``program`` is, searched on the step's own PATH (as ``execvpe`` would)."""
    if "/" in program:
        return program
    for directory in env.get("PATH", os.defpath).split(":"):
        path = os.path.join(directory or ".", program)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class Supervisor:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.connected = True
        self.children: dict[int, int] = {}  # pid -> descriptor of its status file (or -1)
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        self.me = f"{os.getpid()} {_start_of(os.getpid())}"
        self.cwd = os.getcwd()

    def send(self, message: tuple[str | int | None, ...]) -> None:
        if not self.connected:
            return
        try:
            self.sock.send(marshal.dumps(message))
        except OSError:  # the engine is gone: records still get written
            self.connected = False

    def request(self) -> None:
        try:
            data, ancdata, flags, _ = self.sock.recvmsg(
                MAX_REQUEST, socket.CMSG_SPACE(_FDS * 4), socket.MSG_CMSG_CLOEXEC
            )
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancdata, flags = b"", [], 0
        fds: list[int] = []
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                usable = len(payload) - len(payload) % 4
                fds += list(memoryview(payload)[:usable].cast("i"))
        try:
            if not data:
                self.connected = False  # the engine closed its end: the run is over
                return
            try:
                seq, argv, env, cwd, status_file = marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                return  # not a request of the engine's (truncated): nothing to answer
            if flags & socket.MSG_TRUNC or len(fds) != _FDS:
                self.send(("e", seq, 7, "request too large", None))  # E2BIG
                return
            try:
                self.spawn(seq, argv, env, cwd, status_file, fds)
            except ValueError as exc:  # a NUL in the working directory or the PATH
                self.send(("e", seq, None, str(exc), None))
            except OSError as exc:
                self.send(("e", seq, exc.errno or 5, exc.strerror or str(exc), None))
        finally:
            for fd in fds:
                os.close(fd)

    def spawn(
        self,
        seq: int,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        status_file: str,
        fds: list[int],
    ) -> None:
        if cwd != self.cwd:  # the command starts where this process is (posix_spawn)
            try:
                os.chdir(cwd)
            except OSError as exc:
                self.send(("e", seq, exc.errno, exc.strerror, cwd))
                return
            self.cwd = cwd
        path = _executable(argv[0], env) if argv else None
        if path is None:
            self.send(("e", seq, 2, "No such file or directory", argv[0] if argv else ""))
            return
        actions = [
            (os.POSIX_SPAWN_DUP2, self.devnull, 0),
            (os.POSIX_SPAWN_DUP2, fds[0], 1),
            (os.POSIX_SPAWN_DUP2, fds[1], 2),
        ]
        defaults = _DEFAULTS
        try:
            try:
                pid = os.posix_spawn(
                    path, argv, env, file_actions=actions, setsid=True, setsigdef=defaults
                )
            except OSError as exc:
                if exc.errno != 8:  # ENOEXEC: a script without #!, run by sh as a shell would
                    raise
                pid = os.posix_spawn(
                    "/bin/sh",
                    ["sh", path, *argv[1:]],
                    env,
                    file_actions=actions,
                    setsid=True,
                    setsigdef=defaults,
                )
        except OSError as exc:
            self.send(("e", seq, exc.errno or 5, exc.strerror or str(exc), path))  # 5: EIO
            return
        except ValueError as exc:  # a NUL in an argument or the environment
            self.send(("e", seq, None, str(exc), path))
            return
        record = -1
        start = _start_of(pid)  # read while the command cannot have been reaped yet
        if status_file:
            try:
                record = os.open(status_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
                os.write(record, f"{pid} {start} {self.me} run\n".encode())
            except OSError:
                pass
        self.children[pid] = record
        self.send(("s", seq, pid, start))

    def reap(self) -> None:
        while self.children:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            pid = info.si_pid
            if info.si_code == os.CLD_EXITED:
                code, status = info.si_status, info.si_status
            else:  # killed or dumped: the shell's convention for the record
                code, status = -info.si_status, 128 + info.si_status
            record = self.children.pop(pid, -1)
            if record >= 0:
                with contextlib.suppress(OSError):
                    os.write(record, f"{status} end\n".encode())
                os.close(record)
            os.waitpid(pid, 0)  # only now: the record is written before the step is gone
            self.send(("x", pid, code))


def main() -> int:
    sock = socket.socket(fileno=int(sys.argv[1]))
    sock.set_inheritable(False)
    os.chdir("/")
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # only the engine's socket ends it
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    supervisor = Supervisor(sock)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, "request")
    selector.register(wake_r, selectors.EVENT_READ, "child")
    while supervisor.connected or supervisor.children:
        if not supervisor.connected and selector.get_map().get(sock.fileno()) is not None:
            selector.unregister(sock)
        for key, _ in selector.select():
            if key.data == "request":
                supervisor.request()
            else:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
        supervisor.reap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
