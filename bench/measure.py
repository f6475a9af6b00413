"""The harness: how a command is timed, how its peak memory is read, how results print."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A measured command failed or overran its cap: it measured nothing."""


@dataclass
class Tools:
    python: str
    phasegate: str
    bash: str
    ansible_playbook: str | None

    @classmethod
    def find(cls) -> Tools:
        # The venv's console scripts, not `uv run phasegate`: uv's own start-up (tens of ms)
        # is not phasegate's.
        bindir = Path(sys.executable).parent
        phasegate = bindir / "phasegate"
        if not phasegate.exists():
            raise SystemExit("phasegate is not installed in this environment; run `uv sync`")
        ansible = bindir / "ansible-playbook"
        bash = shutil.which("bash") or "/bin/bash"
        return cls(sys.executable, str(phasegate), bash, str(ansible) if ansible.exists() else None)


@dataclass
class Samples:
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def spread(self, unit: str = "s", scale: float = 1.0) -> str:
        vals = sorted(v * scale for v in self.values)
        fmt = "{:.0f}" if unit == "ms" else "{:.2f}"
        return f"n={len(vals)} min {fmt.format(vals[0])} max {fmt.format(vals[-1])} {unit}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every measured command.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: an environment that sets it (this sandbox does)
    together with a venv installed without compiled bytecode (uv's default) makes every
    Python start compile each imported module from source, which is not how an installed
    tool runs (pip compiles on install, and ``uv sync --compile-bytecode`` does). The
    warm-up runs write the caches; the "no bytecode cache" row shows the other case.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def timed(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 1800.0,
    output: Path | None = None,
) -> float:
    """Wall time of one command, its output sent to ``output`` (or discarded)."""
    sink = open(output, "wb") if output else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env or child_env(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        elapsed = time.perf_counter() - started
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(argv[:3])}… did not finish in {timeout:.0f}s") from exc
    finally:
        if output:
            sink.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        tail = output.read_text(errors="replace")[-2000:] if output else ""
        raise BenchError(f"{' '.join(argv[:4])}… exited {proc.returncode}\n{tail}")
    return elapsed


def journal_floor(directory: Path, commits: int) -> float:
    """Time ``commits`` durable SQLite commits made as the journal makes them (WAL,
    ``synchronous=FULL``, ``BEGIN IMMEDIATE``): the fsyncs that phasegate owes its
    crash-safety contract (a step's start is durable before the step spawns) and that a bash
    loop never pays."""
    directory.mkdir(parents=True)
    db = sqlite3.connect(directory / "floor.db", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, data TEXT)")
        payload = "x" * 300
        started = time.perf_counter()
        for seq in range(commits):
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO events VALUES (?, ?)", (seq, payload))
            db.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        db.close()


# A fresh interpreter that runs one command and reports its children's peak RSS. It has to be
# fresh: RUSAGE_CHILDREN is the peak over every child ever waited for, and the bench process
# has had bigger children (ansible-playbook) whose peak would mask phasegate's.
_RSS_WRAPPER = r"""
import json, resource, signal, subprocess, sys, time
cap, log_path, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
started = time.perf_counter()
timed_out = False
with open(log_path, "wb") as log:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        proc.wait(cap)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.send_signal(signal.SIGINT)   # phasegate journals the interruption, exits 130
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
print(json.dumps({"wall": time.perf_counter() - started, "rc": proc.returncode,
                  "timed_out": timed_out,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def peak_rss(argv: list[str], *, cwd: Path, cap: float, output: Path) -> dict[str, Any]:
    """Run ``argv`` for at most ``cap`` seconds (then SIGINT); return its wall time, exit
    code, whether it was stopped, and its peak RSS in KiB (the peak so far if stopped)."""
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, str(cap), str(output), *argv],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"the RSS wrapper failed: {proc.stderr[-500:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def finished_items(state_dir: Path) -> int | None:
    """How far a run got: its finished steps and passed gates, read from its journal."""
    try:
        uri = f"file:{state_dir / 'phasegate.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            row = db.execute(
                "SELECT count(*) FROM items WHERE status IN ('succeeded', 'passed')"
            ).fetchone()
        return int(row[0])
    except sqlite3.Error:
        return None


def machine() -> dict[str, Any]:
    """What was measured where: the numbers mean little without it."""
    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }
    try:
        import phasegate

        info["phasegate"] = phasegate.__version__
        source = Path(phasegate.__file__).resolve().parent
        info["phasegate_from"] = str(source)
    except ImportError:
        return info
    if not source.is_relative_to(ROOT):
        return info  # e.g. PYTHONPATH pointing at an exported commit: its id is not known here
    git = ["git", "-C", str(ROOT)]
    try:
        info["commit"] = _output([*git, "rev-parse", "--short", "HEAD"])
        info["src_modified"] = bool(_output([*git, "status", "--porcelain", "--", "src"]))
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def _output(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def table(rows: list[list[str]]) -> str:
    head = ["measurement", "value", "baseline", "ratio", "goal", "met?"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(head), "-+-".join("-" * w for w in widths), *map(line, rows)])


def interleaved(
    cases: dict[str, Callable[[], tuple[float, float]]], reps: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each case once per round, in an order rotated from round to round (so that the load of
    the moment falls on every case alike): ``(wall, cpu)`` seconds per case, one per round,
    each round's line on stderr."""
    names = list(cases)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            w, c = cases[name]()
            wall[name].append(w)
            cpu[name].append(c)
        print(
            f"round {rep + 1}/{reps} load {os.getloadavg()[0]:.1f}: "
            + ", ".join(f"{n} {wall[n][-1]:.2f}s/{cpu[n][-1]:.2f}s" for n in names),
            file=sys.stderr,
            flush=True,
        )
    return wall, cpu
