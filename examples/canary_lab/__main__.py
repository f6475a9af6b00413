"""``python -m canary_lab``: run the canary lab in a terminal and watch the traffic move.

    up     start backends, router, Prometheus and load; write DIR/lab.env and DIR/lab.json;
           print one line a second until Ctrl-C (or SIGTERM, or ``down``), then stop it all
    fault  make a backend of a running lab fail or slow down (no options: heal it)
    down   stop the lab running in DIR (whichever terminal started it)
    load   only the load generator, against any URL, with the same live summary

A mistake (no lab in DIR, nginx missing, a port taken) is a one-line message and exit 1;
usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import httpx

from canary_lab.lab import JSON_FILE, ROUTERS, Lab
from canary_lab.load import Counts, LoadGenerator

DEFAULT_DIR = Path(".canary-lab")
# SIGINT too, explicitly: started in the background of a script, the lab inherits SIGINT
# ignored and Python would then never raise KeyboardInterrupt for a Ctrl-C.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class LabError(Exception):
    """A mistake the user can fix; printed as one line."""


class Stopped(Exception):
    """SIGTERM or SIGHUP arrived: stop like Ctrl-C does."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.command(args)
        return result
    except LabError as exc:
        print(f"canary-lab: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="canary-lab", description="Run the canary lab and watch the traffic move."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start the lab and watch it (Ctrl-C stops it)")
    up.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="default: ./.canary-lab")
    up.add_argument("--router", choices=ROUTERS, default="nginx")
    up.add_argument("--rate", type=float, default=50.0, help="requests/s of load (default 50)")
    up.add_argument(
        "--duration", type=float, default=3600.0, help="the load stops after this (s; 3600)"
    )
    up.add_argument("--no-load", action="store_true", help="start no load generator")
    up.set_defaults(command=_up)

    fault = commands.add_parser("fault", help="inject errors/latency into a backend")
    fault.add_argument("backend", choices=("stable", "canary"))
    fault.add_argument("--error-rate", type=float, default=0.0, help="0..1 (default 0)")
    fault.add_argument("--latency", type=float, default=0.0, help="seconds added (default 0)")
    fault.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    fault.set_defaults(command=_fault)

    down = commands.add_parser("down", help="stop the lab running in DIR")
    down.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    down.set_defaults(command=_down)

    load = commands.add_parser("load", help="only send load to URL and watch it")
    load.add_argument("url")
    load.add_argument("--rate", type=float, default=50.0)
    load.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    load.add_argument("--max-requests", type=int, default=None)
    load.add_argument("--concurrency", type=int, default=4)
    load.set_defaults(command=_load)
    return parser


# -- up -----------------------------------------------------------------------------------


def _up(args: argparse.Namespace) -> int:
    running = _find_lab(args.dir)
    if running and _alive(running["pids"]["lab"]):
        raise LabError(
            f"a lab is already running in {args.dir} (pid {running['pids']['lab']}); "
            f"stop it first: python -m canary_lab down --dir {args.dir}"
        )
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stopped)
    lab = Lab(
        args.dir,
        router=args.router,
        load=not args.no_load,
        rate=args.rate,
        load_seconds=args.duration,
    )
    print(f"starting the lab in {lab.workdir} (Prometheus needs ~6 s to scrape)…", flush=True)
    try:
        lab.start()
        env_file, _ = lab.write_files()
        _print_ready(lab, env_file)
        _watch(lab.load, sys.stdout, forever=True)
    except (KeyboardInterrupt, Stopped):
        pass
    except (OSError, RuntimeError, ValueError) as exc:
        raise LabError(f"the lab failed: {exc}") from exc
    finally:
        # A second Ctrl-C must not cut the cleanup short and leave nginx or Prometheus behind.
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        lab.remove_files()
        lab.stop()
    print("lab stopped", flush=True)
    return 0


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


def _print_ready(lab: Lab, env_file: Path) -> None:
    env = lab.env()
    print(f"app:        {env['APP_URL']}  ({lab.router}, all traffic on stable)")
    print(f"prometheus: {env['PROMETHEUS_URL']}")
    print(f"backends:   stable {env['STABLE_URL']}  canary {env['CANARY_URL']}")
    print(f"variables:  source {env_file}   (also {lab.workdir / JSON_FILE})")
    print("Ctrl-C stops the lab.", flush=True)


def _watch(load: LoadGenerator | None, out: TextIO, *, forever: bool) -> None:
    """One line a second: requests/s per backend, canary share, 5xx and connection errors.
    ``forever`` keeps the lab up (and quiet) after the load reached its bound."""
    if load is None:
        if forever:
            threading.Event().wait()
        return
    previous = load.snapshot()
    while True:
        time.sleep(1.0)
        now = load.snapshot()
        print(_summary(now - previous), file=out, flush=True)
        previous = now
        if not load.running:
            print(f"load finished: {_totals(now)}", file=out, flush=True)
            if forever:
                threading.Event().wait()
            return


def _summary(window: Counts) -> str:
    counts = {"stable": 0, "canary": 0} | dict(window.by_backend)
    backends = "  ".join(f"{name} {n:4d}/s" for name, n in counts.items())
    fivexx = sum(n for code, n in window.by_status.items() if code >= 500)
    return (
        f"{time.strftime('%H:%M:%S')}  {backends}  "
        f"canary {window.share('canary'):6.1%}  5xx {fivexx}  errors {window.errors}"
    )


def _totals(counts: Counts) -> str:
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(counts.by_status.items()))
    return f"{counts.total} requests ({statuses or 'no answers'}), {counts.errors} errors"


# -- fault, down, load --------------------------------------------------------------------


def _fault(args: argparse.Namespace) -> int:
    lab = _read_lab(args.dir)
    url = lab["env"][f"{args.backend.upper()}_URL"]
    params = {"error_rate": args.error_rate, "latency": args.latency}
    try:
        answer = httpx.get(f"{url}/admin/fault", params=params, timeout=5)
    except httpx.TransportError as exc:
        raise LabError(f"the {args.backend} backend at {url} did not answer: {exc}") from exc
    if answer.status_code != 200:
        raise LabError(f"the {args.backend} backend refused: {answer.text.strip()}")
    print(f"{args.backend}: {answer.text.strip()}")
    return 0


def _down(args: argparse.Namespace) -> int:
    lab = _read_lab(args.dir)
    pid = int(lab["pids"]["lab"])
    if not _alive(pid):
        (args.dir / JSON_FILE).unlink(missing_ok=True)
        print(f"no lab was running in {args.dir} (removed its stale {JSON_FILE})")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _alive(pid):
        if time.monotonic() > deadline:
            raise LabError(f"the lab (pid {pid}) did not stop within 30 s")
        time.sleep(0.1)
    print(f"lab in {args.dir} stopped")
    return 0


def _load(args: argparse.Namespace) -> int:
    try:
        load = LoadGenerator(
            args.url,
            rate=args.rate,
            concurrency=args.concurrency,
            max_seconds=args.duration,
            max_requests=args.max_requests or max(1, int(args.rate * args.duration)),
        )
    except ValueError as exc:
        raise LabError(str(exc)) from exc
    with load:
        try:
            _watch(load, sys.stdout, forever=False)
        except KeyboardInterrupt:
            print(f"interrupted: {_totals(load.snapshot())}")
    return 0


# -- lab.json -----------------------------------------------------------------------------


def _read_lab(directory: Path) -> dict[str, Any]:
    found = _find_lab(directory)
    if found is None:
        raise LabError(
            f"no lab is running in {directory} (no {JSON_FILE}); start one with "
            f"`python -m canary_lab up --dir {directory}`"
        )
    return found


def _find_lab(directory: Path) -> dict[str, Any] | None:
    path = directory / JSON_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data.get("pids"), dict) or not isinstance(data.get("env"), dict):
        raise LabError(f"{path} is not a lab description (no pids/env)")
    return data


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    sys.exit(main())
