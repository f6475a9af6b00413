"""The process a program phase runs: ``python -m phasegate.cli.child start|rollback …``.

Not a user verb: the parent engine starts it as the phase's step (engine/program.py says
why a process). Both sub-commands are idempotent, so the parent may run them again after a
crash:

- ``start``: the child run with the id the parent journalled. Not there: create it (with an
  idempotency key naming parent and phase) and drive it. There and driven by a live process:
  wait for it (re-attach). There and nobody drives it: resume it. Finished: say how.
- ``rollback``: the child run's own rollback (``phasegate rollback``), once. Already rolled
  back, never created or never started: nothing to do.

Exit codes are ``phasegate run``'s: 0 succeeded (rollback: rolled back), 1 failed and rolled
back, 3 rollback failed, 4 paused, 130 interrupted, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from phasegate.cli.common import exit_for, parse_vars
from phasegate.engine import operator
from phasegate.engine.session import RunOptions, current_user, start
from phasegate.errors import PhasegateError, RunNotFound
from phasegate.plan.loader import load_plan
from phasegate.run.state import TERMINAL
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from phasegate.store.records import CHILD_KEY_PREFIX, RunRecord

POLL = 0.2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m phasegate.cli.child")
    parser.add_argument("--state-dir", required=True)
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb in ("start", "rollback"):
        one = sub.add_parser(verb)
        one.add_argument("--parent", required=True)
        one.add_argument("--phase", required=True)
        one.add_argument("--child", required=True)
        if verb == "start":
            one.add_argument("--plan", required=True)
            one.add_argument("--var", action="append", default=[])
            one.add_argument("--policies", default=None)
    return parser


def _find(store: JournalStore, run_id: str) -> RunRecord | None:
    try:
        record = store.get_run(run_id)
    except RunNotFound:
        return None
    return record if record.id == run_id else None


def _driven_elsewhere(record: RunRecord) -> bool:
    owner = record.owner
    return owner is not None and owner != Owner.me() and bool(owner.alive())


def _wait_for_owner(store: JournalStore, run_id: str) -> RunRecord:
    """Re-attach: while another live process drives the child, wait; return its record once
    nobody does (it ended, paused, or its process died)."""
    announced = False
    while True:
        record = store.get_run(run_id)
        if record.status in TERMINAL or not _driven_elsewhere(record):
            return record
        if not announced:
            assert record.owner is not None
            print(f"child run {run_id} is driven by pid {record.owner.pid}: waiting for it")
            announced = True
        time.sleep(POLL)


def start_child(store: JournalStore, args: argparse.Namespace) -> int:
    parent = {"run": args.parent, "phase": args.phase, "plan": str(args.plan)}
    options = RunOptions(
        overrides=parse_vars(tuple(args.var)),
        idempotency_key=f"{CHILD_KEY_PREFIX}{args.parent}/{args.phase}",
        policies=args.policies,
        started_by=f"program {args.parent}",
        run_id=args.child,
        parent=parent,
    )
    if _find(store, args.child) is None:
        print(f"child run {args.child}: plan {args.plan} (program {args.parent}, {args.phase})")
        _, status, created = start(store, load_plan(Path(args.plan)), options)
        if created:
            return exit_for(status)
    record = _wait_for_owner(store, args.child)
    if record.status in TERMINAL:
        print(f"child run {record.id} has ended: {record.status}")
        return exit_for(record.status)
    print(f"child run {record.id} is {record.status}: resuming it")
    _, status = operator.resume(store, record.id, options, retry=[], skip=[], mark_done=[])
    return exit_for(status)


def rollback_child(store: JournalStore, args: argparse.Namespace) -> int:
    record = _find(store, args.child)
    if record is None:
        print(f"child run {args.child} was never created: nothing to roll back")
        return 0
    record = _wait_for_owner(store, args.child)
    if record.status == "rolled_back":
        print(f"child run {record.id} is rolled back already")
        return 0
    if record.status == "pending":
        print(f"child run {record.id} never started: nothing to roll back")
        return 0
    by = f"program {args.parent} ({current_user()})"
    _, status = operator.rollback(store, record.id, RunOptions(), by=by)
    print(f"child run {record.id}: {status}")
    return 0 if status == "rolled_back" else 3


class _Outliving(io.TextIOBase):
    """stdout/stderr that survive the parent: they are pipes to the parent engine, and when
    a kill -9 ends it, the next write fails (EPIPE). The child run must go on regardless (its
    own journal and step logs keep everything), so from then on both fds go to /dev/null."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            _to_devnull()
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            _to_devnull()


def _to_devnull() -> None:
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)


def main(argv: list[str] | None = None) -> int:
    sys.stdout = _Outliving(sys.__stdout__ or sys.stdout)
    sys.stderr = _Outliving(sys.__stderr__ or sys.stderr)
    args = _parser().parse_args(argv)
    # A PostgreSQL store's URL comes through the environment (engine/program.py).
    env_store = os.environ.get("PHASEGATE_STORE", "")
    url = env_store if "://" in env_store else None
    store = open_journal(Path(args.state_dir), url=url)
    try:
        if args.verb == "start":
            return start_child(store, args)
        return rollback_child(store, args)
    except PhasegateError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
