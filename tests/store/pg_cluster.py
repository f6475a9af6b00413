"""A real PostgreSQL for the test session: Debian's ``initdb``/``pg_ctl``, a cluster in a temp
dir, listening on 127.0.0.1 only, on a port picked here, stopped (``pg_ctl stop``) at session
end. Registered from tests/conftest.py (``pytest_plugins``) so that every test package shares
the one server.

Root: PostgreSQL refuses to run as root (CI does), so the cluster then belongs to Debian's
``postgres`` system user and ``initdb``/``pg_ctl`` run through ``runuser -u postgres``.

Each test gets its own database, ``CREATE DATABASE … TEMPLATE`` of a database whose schema is
already migrated (a file copy: milliseconds), named after the test's state directory, so a
second process given the same directory (tests/store/contract/test_shared_journal.py) opens the
same database. The cluster runs with ``fsync=off``: it is thrown away with the session, and the
store's durability choices (``synchronous_commit`` per transaction) are made all the same.

Unavailable PostgreSQL (not installed, cannot start): the tests that need it fail with the
reason when ``$CI`` is true, and are skipped with it otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# How a test process (and the child processes it starts) finds the session's server.
URL_ENV = "PHASEGATE_TEST_POSTGRES_URL"
TEMPLATE = "phasegate_template"
START_SECONDS: list[float] = []  # how long the start took (reported by the contract suite)


def pg_bin() -> Path | None:
    """The newest Debian PostgreSQL's bin directory (``/usr/lib/postgresql/N/bin``), or
    ``$PHASEGATE_TEST_PG_BIN`` (another installation)."""
    chosen = os.environ.get("PHASEGATE_TEST_PG_BIN")
    if chosen:
        return Path(chosen) if (Path(chosen) / "pg_ctl").exists() else None
    found = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"):
        with contextlib.suppress(ValueError):
            found.append((float(candidate.parent.parent.name), candidate.parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


@dataclass
class Cluster:
    bin: Path
    root: Path  # the temp dir; data/ and log/ inside
    port: int
    password: str
    as_postgres: bool

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def command(self, tool: str, *args: str) -> list[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return [*prefix, str(self.bin / tool), *args]

    def run(self, tool: str, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(
            self.command(tool, *args), capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            log = self.root / "log" / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args[:3])}… exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-1500:]}\n{tail}"
            )

    def stop(self) -> None:
        """``pg_ctl stop``; if that fails, SIGKILL the postmaster by the pid it recorded (its
        children exit with it), so a session never leaves a server behind."""
        pid = None
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        with contextlib.suppress(Exception):
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)
        if pid is not None and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cluster(*, durable: bool = False) -> Cluster:
    """initdb + pg_ctl start; raises RuntimeError saying why it cannot. ``durable``: fsync on,
    as a production server runs (the benchmark's engine case compares it with SQLite's durable
    commits); the tests' throwaway cluster runs without."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl); "
            "scripts/install-test-deps.sh installs Debian's `postgresql`"
        )
    as_postgres = os.geteuid() == 0
    # Not under pytest's tmp dirs: those are 0700 root's, which the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="phasegate-pg-"))
    (root / "log").mkdir()
    password = secrets.token_hex(12)
    (root / "pwfile").write_text(password + "\n")
    if as_postgres:
        root.chmod(0o755)
        for path in (root, root / "log", root / "pwfile"):
            shutil.chown(path, "postgres", "postgres")
    cluster = Cluster(binaries, root, 0, password, as_postgres)
    try:
        cluster.run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            "--pwfile",
            str(root / "pwfile"),
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        # A port taken between picking and binding: pick again (bounded).
        for attempt in range(5):
            cluster.port = _free_port()
            options = (
                f"-p {cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
                " -c max_connections=200"
            )
            if not durable:
                options += " -c fsync=off -c full_page_writes=off"
            try:
                cluster.run(
                    "pg_ctl",
                    "-D",
                    str(cluster.data),
                    "-l",
                    str(root / "log" / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                break
            except RuntimeError:
                if attempt == 4:
                    raise
    except BaseException:
        cluster.stop()
        raise
    return cluster


def make_template(cluster: Cluster) -> None:
    """A database with the store's schema migrated, that each test's database copies."""
    import psycopg

    from phasegate.store.postgres import PostgresStore

    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    store = PostgresStore(cluster.url(TEMPLATE), state_dir=cluster.root / "template-state")
    store.close()


def database_url(state_dir: Path) -> str:
    """The URL of the database that belongs to ``state_dir``, created (from the template) the
    first time any process asks. Needs the session's server (``URL_ENV``)."""
    import psycopg
    from psycopg import errors

    admin = os.environ.get(URL_ENV)
    if not admin:
        raise RuntimeError(f"no PostgreSQL for this test (${URL_ENV} is unset)")
    name = "t_" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:24]
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            # Another process creating it at the same moment: theirs is as good as ours.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    return admin.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The session's PostgreSQL: the admin URL (also in ``$PHASEGATE_TEST_POSTGRES_URL``)."""
    began = time.monotonic()
    try:
        cluster = start_cluster()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        message = f"PostgreSQL could not be started for the tests: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        make_template(cluster)
        START_SECONDS.append(time.monotonic() - began)
        os.environ[URL_ENV] = cluster.url()
        yield cluster.url()
    finally:
        os.environ.pop(URL_ENV, None)
        cluster.stop()
