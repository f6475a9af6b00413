"""Helpers for the operator-experience tests: journal events, and the CLI on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI


def events(cli: CLI, run: str = "last") -> list[tuple[str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir)
    record = store.get_run(run)
    return [(etype, data) for _, _, etype, data in store.events(record.id)]


def on_terminal(
    cli: CLI, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str]:
    """Run the real CLI with stdout and stderr on a pseudo-terminal; return (exit, output)."""
    full_env = cli.env(env)
    if env is None or "NO_COLOR" not in env:
        full_env.pop("NO_COLOR", None)
    full_env["COLUMNS"] = "120"
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "phasegate", *args],
        cwd=cli.cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    os.close(main)
    return code, b"".join(chunks).decode("utf-8", "replace")


def write(path: Path, text: str) -> Path:
    import textwrap

    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path
