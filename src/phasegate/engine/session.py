"""Operations on runs, as the CLI (and later the server) performs them.

Each function owns the run it touches for its duration (``claim``), and leaves the journal in a
state another process can pick up.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from phasegate import identity
from phasegate.engine.console import Console
from phasegate.engine.context import RunContext
from phasegate.engine.orphans import settle_crashed
from phasegate.engine.outline import outline
from phasegate.engine.runner import Runner
from phasegate.engine.steplog import LogSink
from phasegate.engine.traffic import BASELINE_KEY, PROMOTE_KEY
from phasegate.errors import PhasegateError, RunStateError, StoreError, UsageError
from phasegate.estimate import digest
from phasegate.executors.base import Executor
from phasegate.executors.local import LocalExecutor
from phasegate.masking import MIN_MASKED, PLAN_MASK, Masker
from phasegate.plan.blockers import refuse_unbound
from phasegate.plan.loader import LoadedPlan, load_plan, load_plan_text
from phasegate.plan.model import VarSpec
from phasegate.plan.postmonitor import expand_schedule
from phasegate.plan.variables import VariableError, Variables, resolve
from phasegate.run.events import ItemUnknown, ParentLinked, RunStarted, Warning
from phasegate.run.state import NEEDS_ANY, TERMINAL
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from phasegate.store.records import RunRecord, StoredOptions
from phasegate.words import plural


@dataclass
class RunOptions:
    overrides: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    max_parallel: int | None = None
    # An unchecked manual check fails its gate instead of pausing for approval.
    require_checked: bool = False
    quiet: bool = False
    show_output: bool = True
    executor: Executor | None = None
    console_stream: TextIO | None = None
    # Who asks for the run (a server's token); the CLI leaves it to ``run.started``'s user.
    started_by: str | None = None
    # A SIGTERM/SIGINT lets running commands finish for this long (run --grace).
    shutdown_grace: float = 30.0
    # A step's process group left running by a crashed engine: end it, or wait this long.
    kill_orphans: bool = False
    orphan_wait: float = 60.0
    # A Markdown document's review before this run (cli/review.py): who vouched for exactly
    # these bytes, or ``{"how": "unreviewed", …}`` for ``run --yes``. Journalled in
    # ``run.started`` so the audit trail says whether anybody looked at the import.
    review: dict[str, str] | None = None
    # The engine's wall clock (RunContext.clock); None: the real one.
    clock: Callable[[], float] | None = None
    # The schedule this run is a fire of, and its slot (epoch seconds): the server's scheduler
    # and `run --schedule` record them; a schedule's streak counts the runs naming it.
    schedule: str | None = None
    slot: int | None = None
    # The policy pack (a directory) admission used: recorded with the run, asked again before
    # each phase starts (engine/policing.py), by whichever process drives the run.
    policies: str | None = None
    # `run --limit`: fleet phases resolve only these hosts (recorded with each fleet item's
    # hosts, so resume needs it no more).
    limit: str | None = None
    # `run --priority`: the run's place in its lanes' queues (None: the plan's `priority:`);
    # recorded with the run, so resume keeps it (engine/laning.py).
    priority: int | None = None
    # A program's child run (engine/program.py): the id its parent journalled before starting
    # it, and the parent (run, phase, plan), recorded with the run and as ``parent.linked``.
    run_id: str | None = None
    parent: dict[str, str] | None = None
    # A server's worker (server/job.py): a monitoring run whose next check is further away
    # than this many seconds stops executing until then, unowned, and the server resumes it
    # when the check is due (docs/monitoring.md); None (the CLI): the process waits.
    park_monitoring: float | None = None
    # A server's worker: a run queued this many seconds for a lane slot stops executing,
    # keeping its place in the queue, and the server resumes it when the slot is granted
    # (docs/lanes.md); None (the CLI): the process waits.
    park_queued: float | None = None


class ShiftedClock:
    """``run --at``: a clock that reads ``at`` when made and runs at real speed from there."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.offset = at - time.time()

    def __call__(self) -> float:
        return time.time() + self.offset


def shifted_clock(at: float) -> ShiftedClock:
    return ShiftedClock(at)


def warn_shifted_clock(runner: Runner, verb: str) -> None:
    """``run --at`` / ``resume --at``: a shifted clock is said where everyone looks (journal,
    so report, status and dashboard; and the terminal)."""
    clock = runner.ctx.clock
    if not isinstance(clock, ShiftedClock):
        return
    at = datetime.fromtimestamp(clock.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = (
        f"the engine's clock is shifted ({verb} --at): change windows and policies read "
        f"{at} when this {verb} started, not the real time"
    )
    runner.journal(Warning(item=None, message=message))
    runner.ctx.console.note(f"warning: {message}", "yellow")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def run_dir(store: JournalStore, run_id: str) -> Path:
    return store.state_dir / "runs" / run_id


def _variables(
    loaded: LoadedPlan, overrides: Mapping[str, str], builtins: dict[str, str]
) -> Variables:
    try:
        return resolve(loaded.plan, overrides, builtins)
    except VariableError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None


def _builtins(loaded: LoadedPlan, store: JournalStore, run_id: str) -> dict[str, str]:
    return {
        "RUN_ID": run_id,
        "RUN_DIR": str(run_dir(store, run_id)),
        "PLAN_DIR": str(loaded.plan_dir),
        "PLAN_NAME": loaded.plan.name,
        "STATE_DIR": str(store.state_dir),
    }


def _context(
    loaded: LoadedPlan, store: JournalStore, run_id: str, variables: Variables, options: RunOptions
) -> RunContext:
    masker = Masker(variables.secret_values())
    console = Console(
        masker, quiet=options.quiet, show_output=options.show_output, stream=options.console_stream
    )
    if options.executor is None:
        executor: Executor = LocalExecutor()
    else:
        executor = options.executor
    ctx = RunContext(
        loaded=loaded,
        run_id=run_id,
        run_dir=run_dir(store, run_id),
        variables=variables,
        masker=masker,
        executor=executor,
        console=console,
        logs=LogSink(store, run_id, console),
        max_parallel=options.max_parallel,
        require_checked=options.require_checked,
        shutdown_grace=options.shutdown_grace,
        kill_orphans=options.kill_orphans,
        orphan_wait=options.orphan_wait,
        park_monitoring=options.park_monitoring,
        park_queued=options.park_queued,
        streak=lambda name: _streak(store, name),
        limit=options.limit,
        priority=options.priority,
    )
    if options.clock is not None:
        ctx.clock = options.clock
    if options.policies is not None:
        ctx.policies = str(Path(options.policies).expanduser().resolve())
    return ctx


def _with_parallel(loaded: LoadedPlan, max_parallel: int | None) -> LoadedPlan:
    if max_parallel is None:
        return loaded
    plan = loaded.plan.model_copy(update={"max_parallel": max_parallel})
    return dataclasses.replace(loaded, plan=plan)


def start(store: JournalStore, loaded: LoadedPlan, options: RunOptions) -> tuple[str, str, bool]:
    """Create and drive a run. Returns (run id, final status, created)."""
    created = _create(store, loaded, options)
    if not created.created or created.variables is None:
        return created.run_id, store.get_run(created.run_id).status, False
    run_id = created.run_id
    ctx = _context(
        _with_parallel(loaded, options.max_parallel), store, run_id, created.variables, options
    )
    state = store.load_state(run_id)
    runner = Runner(ctx, store, state)
    journal_started(runner, created.owner, str(loaded.path), options.review)
    if options.parent is not None:
        runner.journal(ParentLinked.model_validate(options.parent), durable=True)
    ctx.console.headline(
        f"run {run_id}: plan {loaded.plan.name} ({plural(len(loaded.plan.phases), 'phase')})"
    )
    return run_id, drive(runner, store, created.owner), True


def create(store: JournalStore, loaded: LoadedPlan, options: RunOptions) -> tuple[str, bool]:
    """Create a run, ``pending``, without executing it; returns (run id, created).

    The run is left unowned, so another process (a server's worker) starts it with
    ``operator.resume``, which journals ``run.started`` for a pending run. The secret
    ``--var`` values are never stored: whoever starts it must pass them again."""
    created = _create(store, loaded, options)
    if created.created:
        store.release(created.run_id, owner=created.owner)
    return created.run_id, created.created


@dataclass(frozen=True)
class _Created:
    run_id: str
    created: bool
    owner: Owner
    variables: Variables | None


def _create(store: JournalStore, loaded: LoadedPlan, options: RunOptions) -> _Created:
    refuse_unbound(loaded)
    run_id = options.run_id or new_run_id()
    builtins = _builtins(loaded, store, run_id)
    variables = _variables(loaded, options.overrides, builtins)
    _check_monitor_schedule(loaded, variables)
    masker = Masker(variables.secret_values())
    public_overrides = {k: v for k, v in options.overrides.items() if k not in variables.secrets}
    # The identity of a run is the plan *and* what was substituted into it.
    identity = hashlib.sha256(
        (loaded.sha256 + repr(sorted(options.overrides.items()))).encode()
    ).hexdigest()
    owner = Owner.me()
    run_options: StoredOptions = {
        "overrides": public_overrides,
        "secret_overrides": sorted(k for k in options.overrides if k in variables.secrets),
        "source_sha256": loaded.sha256,
        "markdown_sha256": loaded.source_sha256,
        "max_parallel": options.max_parallel,
        "require_checked": options.require_checked,
    }
    if options.started_by is not None:
        run_options["started_by"] = options.started_by
    if options.schedule is not None:
        run_options["schedule"] = options.schedule
    if options.slot is not None:
        run_options["slot"] = options.slot
    if options.policies is not None:
        run_options["policies"] = str(Path(options.policies).expanduser().resolve())
    if options.parent is not None:
        run_options["parent"] = dict(options.parent)
    if options.priority is not None:
        run_options["priority"] = options.priority
    actual_id, created = store.create_run(
        run_id=run_id,
        plan_name=loaded.plan.name,
        plan_path=str(loaded.path),
        plan_sha256=identity,
        plan_text=masker.text(loaded.text, PLAN_MASK),
        lock_name=loaded.plan.lock_name,
        idempotency_key=options.idempotency_key,
        options=run_options,
        phases=[p.id for p in loaded.plan.phases],
        needs={
            p.id: [NEEDS_ANY, *p.needs] if p.needs_mode == "any" else p.needs
            for p in loaded.plan.phases
            if p.needs
        },
        outline=outline(loaded.plan),
        owner=owner,
        ts=time.time(),
    )
    if not created:
        return _Created(actual_id, False, owner, None)
    directory = run_dir(store, run_id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "plan.yaml").write_text(masker.text(loaded.text, PLAN_MASK), encoding="utf-8")
    return _Created(run_id, True, owner, variables)


def _check_monitor_schedule(loaded: LoadedPlan, variables: Variables) -> None:
    """``monitor.schedule`` durations given as ``${VAR}`` are durations once expanded:
    refused before the run is created, not when the rollout has succeeded."""
    monitor = loaded.plan.monitor
    if monitor is None:
        return
    try:
        expand_schedule(monitor.schedule, variables.expand)
    except ValueError as exc:
        raise UsageError(
            f"{loaded.path}: {exc}", hint="give the variable a duration, e.g. --var NAME=5m"
        ) from None


def journal_started(
    runner: Runner, owner: Owner, plan_path: str, review: dict[str, str] | None = None
) -> None:
    """Who runs it, where, with what: the audit trail's first entry of a run."""
    data: dict[str, object] = {
        "pid": owner.pid,
        "host": owner.host,
        "user": current_user(),
        "plan_path": plan_path,
        "vars": runner.ctx.variables.masked(),
        "cwd": os.getcwd(),
    }
    if review is not None:
        data["review"] = dict(review)
    runner.journal(RunStarted.model_validate(data), durable=True)
    warn_shifted_clock(runner, "run")
    if review is not None and review.get("how") == "unreviewed":
        # Said where everyone looks (report, status, dashboard), not only in run.started.
        message = (
            "this run executes a Markdown import nobody reviewed (run --yes): sha256 "
            f"{review.get('sha256', '')[:12]}…"
        )
        runner.journal(Warning(item=None, message=message))
        runner.ctx.console.note(f"warning: {message}", "yellow")
    _warn_unmaskable(runner)


def _warn_unmaskable(runner: Runner) -> None:
    """A secret from the environment or --var too short to mask: validation cannot see it
    (it warns about literals), so the run says so once, in the journal and on the terminal."""
    variables = runner.ctx.variables
    for name in sorted(variables.secrets):
        value = variables.values.get(name, "")
        if 0 < len(value) < MIN_MASKED:
            message = (
                f"secret {name} is {len(value)} character(s) long: values shorter than "
                f"{MIN_MASKED} are never masked in logs, the journal or reports"
            )
            runner.journal(Warning(item=None, message=message))
            runner.ctx.console.note(f"warning: {message}", "yellow")


def current_user() -> str:
    """The run's starter: the one identity function every verb uses (see phasegate.identity)."""
    return identity.user()


def _use_pidfd_child_watcher() -> None:
    """Python 3.11 waits for each child in a new thread; pidfds make that an epoll event.
    (3.12+ does this by itself.)"""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return  # kernel without pidfd: keep the default watcher
    asyncio.set_child_watcher(asyncio.PidfdChildWatcher())


def drive(runner: Runner, store: JournalStore, owner: Owner) -> str:
    _use_pidfd_child_watcher()
    try:
        status = asyncio.run(runner.drive())
        if runner.state.terminal:
            # The run's durations digest, once, for history reads (estimate/digest.py).
            with contextlib.suppress(PhasegateError):
                digest.record(store, runner.state.run_id)
        return status
    finally:
        # Best effort: a dead owner is detected anyway, and the journal may be unwritable.
        with contextlib.suppress(StoreError):
            store.release(runner.state.run_id, owner=owner)


def reload_plan(record: RunRecord) -> LoadedPlan:
    """The plan exactly as the run started it: the original file when unchanged, else the
    text recorded in the journal (where secrets given literally in the plan are masked)."""
    path = Path(record.plan_path)
    source_sha = record.options.get("source_sha256")
    try:
        if path.is_file():
            loaded = load_plan(path)
            if loaded.sha256 == source_sha:
                return loaded
    except PhasegateError:
        pass
    return load_plan_text(record.plan_text, path)


def attach(store: JournalStore, record: RunRecord, options: RunOptions) -> tuple[Runner, Owner]:
    """Re-create the runner of an existing run, owned by this process."""
    loaded = reload_plan(record)
    missing = [k for k in record.options.get("secret_overrides", []) if k not in options.overrides]
    if loaded.sha256 != record.options.get("source_sha256"):
        # The plan file changed or is gone: the journal's copy has its literal secrets masked.
        missing += [
            name
            for name, spec in loaded.plan.vars.items()
            if isinstance(spec, VarSpec)
            and spec.secret
            and spec.value is not None
            and name not in options.overrides
            and name not in missing
        ]
    if missing:
        raise UsageError(
            f"run {record.id} needs the secret {', '.join(missing)}, which the journal never "
            "stores (given with --var, or written in a plan file that has changed since)",
            hint="pass the same --var again",
        )
    overrides = {**record.options.get("overrides", {}), **options.overrides}
    builtins = _builtins(loaded, store, record.id)
    variables = _variables(loaded, overrides, builtins)
    max_parallel = options.max_parallel or record.options.get("max_parallel")
    # A run keeps the strictness it started with: resuming never turns it off.
    if record.options.get("require_checked"):
        options = dataclasses.replace(options, require_checked=True)
    # And the policies it was admitted with: whoever drives it asks the same pack.
    recorded = record.options.get("policies")
    if isinstance(recorded, str):
        options = dataclasses.replace(options, policies=recorded)
    # And its priority in its lanes' queues.
    priority = record.options.get("priority")
    if isinstance(priority, int) and options.priority is None:
        options = dataclasses.replace(options, priority=priority)
    ctx = _context(_with_parallel(loaded, max_parallel), store, record.id, variables, options)
    owner = Owner.me()
    lock = loaded.plan.lock_name
    # Own the run first, then look at it again: the caller read ``record`` before, and its
    # previous owner may have finished it since (a queued resume delivered as the run ended).
    # Driving it on, or taking the plan's lock for a run that is over (the lock then held by
    # a finished run until the plan's next run takes it over), would be wrong; a rollback of
    # a finished run asked for that (its caller saw it finished) and goes on as before.
    store.claim(record.id, owner)
    fresh = store.get_run(record.id)
    if fresh.status in TERMINAL and record.status not in TERMINAL:
        store.release(record.id, owner=owner)
        raise RunStateError(
            f"run {record.id} has finished ({fresh.status}) meanwhile; there is nothing to resume",
            hint="`phasegate rollback RUN` undoes a finished run",
        )
    if record.status in ("monitoring", "paused", "interrupted"):
        # A run monitoring with `lock: release` gave its lock up: resuming it must not take
        # it back from a newer run of the plan (the state says whether it holds it).
        state = store.load_state(record.id)
        try:
            if state.holds_lock:
                store.acquire_lock(record.id, lock)
        except BaseException:
            store.release(record.id, owner=owner)
            raise
        return Runner(ctx, store, state), owner
    try:
        store.claim(record.id, owner, lock_name=lock)  # already ours: takes the lock
    except BaseException:
        store.release(record.id, owner=owner)
        raise
    state = store.load_state(record.id)
    return Runner(ctx, store, state), owner


@contextlib.contextmanager
def attached(
    store: JournalStore, record: RunRecord, options: RunOptions
) -> Iterator[tuple[Runner, Owner]]:
    """``attach``, releasing the run again if preparing it fails before it is driven."""
    runner, owner = attach(store, record, options)
    try:
        yield runner, owner
    except BaseException:
        store.release(record.id, owner=owner)
        raise


def mark_unknown(runner: Runner) -> list[str]:
    """Steps the journal shows started but not finished: first their process group (still
    running: waited for, or killed on the operator's word) and their supervisor's record
    (finished while phasegate was dead: journalled as such) settle what they can; the outcome
    of the rest is unknown."""
    state = runner.state
    targets = runner.targets
    why = settle_crashed(runner)
    found = []
    for key, item in list(state.items.items()):
        if item.status != "running":
            continue
        if item.kind == "step" and "@" in key and key not in targets.steps:
            continue  # a fleet host's step: its phase reads the host's record (engine/fleet.py)
        # Setting weights again, waiting, measuring again: all harmless to repeat; a fleet
        # item re-walks its hosts, each of which is settled on its own.
        idempotent = key in (BASELINE_KEY, PROMOTE_KEY) or item.kind in ("analysis", "fleet")
        if key in targets.steps:
            step = targets.steps[key].step
            idempotent = step.idempotent or step.action in ("set_weight", "pause", "analysis")
            idempotent |= step.action == "promote" and step.run is None
        elif key in targets.undos:
            idempotent = targets.undos[key][0].idempotent
        event = ItemUnknown(key=key, idempotent=idempotent)
        if key in why:
            event = ItemUnknown(key=key, idempotent=idempotent, reason=why[key])
        runner.journal(event, durable=True)
        found.append(key)
    return found


def _streak(store: JournalStore, name: str) -> int | None:
    """The schedule's streak (a plan's ``schedule`` facts). Imported here: the schedules
    package (cron parsing) only for a run that asks, not at every run's start."""
    from phasegate.schedules.streak import streak

    return streak(store, name, TERMINAL)
