"""Verbs that execute: run, resume, abort, rollback, approve."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from phasegate.cli.common import actor, exit_for, open_store, parse_vars, var_option
from phasegate.cli.policy import override_options, policies_option

if TYPE_CHECKING:  # annotations only: verbs import the store when they run (start-up time)
    from phasegate.store.contract import JournalStore


def _options(
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
    idempotency_key: str | None = None,
    require_checked: bool = False,
    grace: float | None = None,
) -> object:
    from phasegate.engine.session import RunOptions

    return RunOptions(
        overrides=parse_vars(variables),
        max_parallel=max_parallel,
        quiet=quiet,
        show_output=not no_output,
        idempotency_key=idempotency_key,
        require_checked=require_checked,
        shutdown_grace=grace if grace is not None else RunOptions.shutdown_grace,
    )


F = TypeVar("F", bound=Callable[..., Any])


def _common(func: F) -> F:
    for decorator in reversed(
        [
            var_option,
            click.option(
                "--max-parallel",
                type=click.IntRange(1, 256),
                default=None,
                help="Phases run concurrently at most (default: plan's max_parallel).",
            ),
            click.option("-q", "--quiet", is_flag=True, help="Print only the final status."),
            click.option("--no-output", is_flag=True, help="Do not stream command output."),
        ]
    ):
        func = decorator(func)
    return func


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    from phasegate.durations import DurationError, parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(f"{exc}; {exc.hint}" if exc.hint else str(exc)) from None


# run and resume stop the same way on a signal (docs/stopping.md): one option for both.
_signal_grace = click.option(
    "--grace",
    default="30s",
    show_default=True,
    metavar="DURATION",
    callback=_duration,
    help="On SIGTERM/SIGINT: start nothing new, let running steps finish for this long, then "
    "end them (SIGTERM, SIGKILL 2s later) and exit 130. A second signal ends them at once.",
)


def _hold_collections() -> None:
    """In the `phasegate` command, before a verb that drives a run imports the engine: no
    cyclic collection until ``_freeze_imports``. Those imports (~450 modules, ~230 classes)
    allocate without making garbage worth collecting, and the collector ran ~110 times over
    them (~20 ms of a run's start-up, measured with ``gc.callbacks``; docs/performance.md,
    sixth pass). Not under CliRunner, as ``_freeze_imports``."""
    from phasegate import cli

    if "one verb" in cli.PROCESS:
        gc.disable()


def _freeze_imports() -> None:
    """In the `phasegate` command, after a verb that drives a run has imported the engine:
    everything alive now (modules, classes, pydantic's schemas: most of the heap, and all of it
    lives until exit) leaves the collector's generations. Full collections during the run
    stop re-scanning it, and the interpreter's exit no longer walks it: at a load of 10 that
    walk took 0.45-0.8 s after the run had ended (bench/run.py, fixed cost; docs/performance.md).
    Reference counting still frees these objects. Not under CliRunner: the tests' heap is not
    one verb's.

    The youngest generation is then collected every 10,000 net allocations instead of 700:
    a run's objects are freed by reference counting, and a 500-step run spent ~100 ms of CPU
    in ~270 young and ~24 middle collections, ~35 ms after (cyclic garbage waits a little
    longer: at most ~10,000 container objects, about a megabyte; docs/performance.md)."""
    from phasegate import cli

    if "one verb" in cli.PROCESS:
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        gc.enable()  # held since _hold_collections


def _finish(run_id: str, status: str, *, requested_rollback: bool = False) -> None:
    click.echo(f"run {run_id}: {status}", err=False)
    hints = {
        "paused": f"see `phasegate status {run_id}`; then "
        f"`phasegate approve|reject|resume|rollback {run_id}`",
        "interrupted": f"`phasegate resume {run_id}` continues",
        "rollback_failed": f"see `phasegate report {run_id}` for the failed rollback actions",
    }
    if status in hints:
        click.echo(f"  {hints[status]}", err=True)
    if requested_rollback and status == "rolled_back":
        raise click.exceptions.Exit(0)  # the operator asked for exactly this
    raise click.exceptions.Exit(exit_for(status))


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@_common
@click.option(
    "--idempotency-key",
    default=None,
    help="The same key returns the existing run instead of starting another.",
)
@click.option(
    "--require-checked",
    is_flag=True,
    help="An unchecked manual check ([ ] in Markdown) fails its gate instead of pausing for "
    "approval; recorded with the run, so resume keeps it.",
)
@_signal_grace
@click.option(
    "--schedule",
    "schedule_name",
    metavar="NAME",
    default=None,
    help="Record the run as a fire of schedule NAME (what `schedule export --systemd` units "
    "pass), so it counts in the schedule's streak; the schedule must exist in the store.",
)
@click.option(
    "-y",
    "--yes",
    is_flag=True,
    help="For a Markdown document: run it without showing what the import does and asking "
    "first. Without a terminal a document runs only with --yes or after `phasegate review`.",
)
@click.option(
    "--limit",
    "limit",
    metavar="HOSTS",
    default=None,
    help="Fleet phases run only on these hosts: names or patterns (web0*,db-a), or a CEL "
    "selector over name, groups and labels.",
)
@click.option(
    "--priority",
    type=click.IntRange(-100, 100),
    default=None,
    help="The run's place in its lanes' queues: each unit is a minute of head start over "
    "runs queued at the same time (default: the plan's `priority:`, else 0; docs/lanes.md). "
    "Recorded with the run, so resume keeps it.",
)
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    default=None,
    help="Sandboxes and demos: the clock change windows and policies read starts at this ISO "
    "8601 time with an offset (e.g. 2025-11-10T09:44:55-05:00) and runs at real speed; "
    "journalled as a warning. Commands, estimates and budgets keep the real time.",
)
@policies_option
@override_options
@click.pass_context
def run(
    ctx: click.Context,
    plan_file: str,
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
    idempotency_key: str | None,
    require_checked: bool,
    grace: float,
    schedule_name: str | None,
    yes: bool,
    limit: str | None,
    priority: int | None,
    at_text: str | None,
    policies: str | None,
    override_policies: tuple[str, ...],
    reason: str,
) -> None:
    """Execute PLAN_FILE: phases in dependency order, gates verified, automatic rollback.

    A Markdown document (.md) is imported first; its first run shows what the import will do
    and asks on a terminal, and without one needs --yes or a recorded `phasegate review` of
    that exact document (docs/markdown-import.md).

    With --policies DIR (or $PHASEGATE_POLICIES) the plan is admitted first: a hard
    violation refuses it, a soft one too unless --override-policy NAME --reason TEXT
    overrides it (journalled with who and why); advisory ones are journalled as warnings.

    Exit codes: 0 succeeded, 1 failed (and rolled back cleanly), 2 plan error, refused by
    policy or not confirmed (nothing ran), 3 rollback failed, 4 paused for a human, 130
    interrupted.
    """
    from pathlib import Path

    _hold_collections()
    from phasegate.cli import review
    from phasegate.engine.session import RunOptions, start
    from phasegate.plan.loader import MARKDOWN_SUFFIXES, load_plan

    _freeze_imports()
    reviewed: dict[str, str] | None = None
    if Path(plan_file).suffix.lower() in MARKDOWN_SUFFIXES:
        # an import is a guess: a person looks first
        loaded, reviewed = review.gate(ctx, plan_file, yes)
    else:
        loaded = load_plan(plan_file)
    from phasegate.cli.policy import check_for_run, policy_dir

    verdict = check_for_run(ctx, loaded, policies, override_policies, reason)
    options = _options(
        variables, max_parallel, quiet, no_output, idempotency_key, require_checked, grace
    )
    assert isinstance(options, RunOptions)
    options = dataclasses.replace(options, review=reviewed, limit=limit, priority=priority)
    if at_text is not None:
        from phasegate.cli.windows import parse_at
        from phasegate.engine.session import shifted_clock

        options = dataclasses.replace(options, clock=shifted_clock(parse_at(at_text).timestamp()))
    if verdict is not None:  # the pack is asked again before each phase (engine/policing.py)
        options = dataclasses.replace(options, policies=policy_dir(ctx, policies))
    store = open_store(ctx)
    if schedule_name is not None:
        from phasegate.errors import UsageError

        if store.schedule_named(schedule_name) is None:
            raise UsageError(
                f"--schedule {schedule_name!r}: no such schedule in the store",
                hint="`phasegate schedule list` shows them",
            )
        options = dataclasses.replace(options, schedule=schedule_name)
    if verdict is not None and verdict.violations:
        run_id, status, created = _start_admitted(
            store, loaded, options, verdict, override_policies, reason
        )
    else:
        run_id, status, created = start(store, loaded, options)
    if not created:
        click.echo(f"idempotency key matches existing run {run_id} ({status})", err=True)
        status = _wait_while_live(store, run_id)
    _finish(run_id, status)


def _start_admitted(
    store: JournalStore,
    loaded: Any,
    options: Any,
    verdict: Any,
    overrides: tuple[str, ...],
    reason: str,
) -> tuple[str, str, bool]:
    """A run admitted with violations (overridden soft ones, advisory ones): created, its
    journal told what admission let through and who let it, then started. The engine's
    `start` creates and drives in one go, so this takes the server's path instead: create
    (pending), journal, then drive it as `resume` drives a pending run."""
    from phasegate.cli.policy import journal_policy
    from phasegate.engine import operator, session

    run_id, created = session.create(store, loaded, options)
    if not created:
        return run_id, store.get_run(run_id).status, False
    journal_policy(store, run_id, verdict, overrides, reason)
    run_id, status = operator.resume(store, run_id, options, retry=[], skip=[], mark_done=[])
    return run_id, status, True


def _wait_while_live(store: JournalStore, run_id: str) -> str:
    """An idempotent replay answers with the outcome of the run it names, once it is known."""
    import time

    from phasegate.store.records import IN_FLIGHT

    while True:
        record = store.get_run(run_id)
        live = record.owner is not None and record.owner.alive() is not False
        if record.status not in IN_FLIGHT or not live:
            return record.status
        time.sleep(0.2)


@click.command()
@click.argument("run_ref", metavar="RUN")
@_common
@click.option(
    "--retry-step",
    "retry",
    multiple=True,
    metavar="KEY",
    help="Re-run an item whose outcome is unknown (repeatable).",
)
@click.option(
    "--skip-step",
    "skip",
    multiple=True,
    metavar="KEY",
    help="Skip an unknown or failed item and continue (its undo will not run).",
)
@click.option(
    "--mark-done",
    "mark_done",
    multiple=True,
    metavar="KEY",
    help="Record an unknown item as succeeded without re-running it.",
)
@_signal_grace
@click.option(
    "--kill-orphans",
    is_flag=True,
    help="End the process group of a step that the crashed engine left running (SIGTERM, "
    "then SIGKILL after 5s); its outcome is then unknown. Without it, resume waits for it.",
)
@click.option(
    "--orphan-wait",
    default="60s",
    show_default=True,
    metavar="DURATION",
    callback=_duration,
    help="How long to wait for a step left running by the crashed engine before giving up.",
)
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    default=None,
    help="Sandboxes and demos, as `run --at`: the clock change windows and policies read "
    "starts at this ISO 8601 time with an offset and runs at real speed from the resume on; "
    "journalled as a warning. Without it a resumed run reads the real time again.",
)
@click.pass_context
def resume(
    ctx: click.Context,
    run_ref: str,
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
    retry: tuple[str, ...],
    skip: tuple[str, ...],
    mark_done: tuple[str, ...],
    grace: float,
    kill_orphans: bool,
    orphan_wait: float,
    at_text: str | None,
) -> None:
    """Continue RUN after a crash, an interrupt or a pause, without repeating finished work.

    A step the crashed engine left running is waited for (or ended, --kill-orphans); never
    does a second copy run beside it. A step that finished while phasegate was dead is
    recorded from its supervisor's status file. A step that started but has no recorded end
    is `unknown`: it re-runs only if it is `idempotent: true`; otherwise the run pauses until
    you choose --retry-step, --skip-step, --mark-done, or `phasegate rollback`. A step that
    phasegate itself ended at a SIGTERM/SIGINT (`interrupted`) did not succeed: it re-runs,
    without a question (--skip-step skips it instead).
    """

    _hold_collections()
    from phasegate.engine import operator, session

    _freeze_imports()

    options = _options(variables, max_parallel, quiet, no_output, grace=grace)
    assert isinstance(options, session.RunOptions)
    options = dataclasses.replace(options, kill_orphans=kill_orphans, orphan_wait=orphan_wait)
    if at_text is not None:
        from phasegate.cli.windows import parse_at

        options = dataclasses.replace(
            options, clock=session.shifted_clock(parse_at(at_text).timestamp())
        )
    run_id, status = operator.resume(
        open_store(ctx),
        run_ref,
        options,
        retry=list(retry),
        skip=list(skip),
        mark_done=list(mark_done),
    )
    _finish(run_id, status)


@click.command()
@click.argument("run_ref", metavar="RUN")
@_common
@click.pass_context
def rollback(
    ctx: click.Context,
    run_ref: str,
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
) -> None:
    """Roll RUN back: undo its completed steps and run its phases' rollback blocks, newest
    first. Works on finished successful runs, paused or crashed runs, and retries the failed
    actions of a rollback_failed run."""
    _hold_collections()
    from phasegate.engine import operator, session

    _freeze_imports()

    options = _options(variables, max_parallel, quiet, no_output)
    assert isinstance(options, session.RunOptions)
    run_id, status = operator.rollback(open_store(ctx), run_ref, options, by=actor())
    _finish(run_id, status, requested_rollback=True)


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--reason", default="", help="Recorded in the journal and the report.")
@click.option(
    "--grace",
    default="10s",
    show_default=True,
    metavar="DURATION",
    callback=_duration,
    help="How long the running steps get between SIGTERM and SIGKILL (their process groups).",
)
@click.option("--force", is_flag=True, help="SIGKILL the running steps at once (no grace).")
@_common
@click.pass_context
def abort(
    ctx: click.Context,
    run_ref: str,
    reason: str,
    grace: float,
    force: bool,
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
) -> None:
    """Abort RUN and roll it back. A run executing in another process is asked: it ends its
    running steps (SIGTERM to each step's process group, SIGKILL after --grace) and rolls
    back at once; this waits a few seconds for it to acknowledge. A paused or crashed run is
    rolled back here."""
    _hold_collections()
    from phasegate.engine import operator, session

    _freeze_imports()

    options = _options(variables, max_parallel, quiet, no_output)
    assert isinstance(options, session.RunOptions)
    run_id, status, notice = operator.abort(
        open_store(ctx), run_ref, options, by=actor(), reason=reason, grace=grace, force=force
    )
    if notice is not None:
        click.echo(_abort_notice(run_id, notice))
        return
    assert status is not None
    _finish(run_id, status, requested_rollback=True)


def _abort_notice(run_id: str, notice: object) -> str:
    from phasegate.engine.operator import ACK_WAIT, AbortNotice

    assert isinstance(notice, AbortNotice)
    who = f"its owner (pid {notice.owner_pid})"
    if not notice.acknowledged:
        return (
            f"run {run_id}: abort requested; {who} has not acknowledged it within "
            f"{ACK_WAIT:g}s (it acts on it when it next reads its requests)"
        )
    if notice.already_rolling_back:
        return f"run {run_id}: {who} is already rolling it back"
    if not notice.ending:
        return f"run {run_id}: abort acknowledged; {who} is rolling it back"
    how = "SIGKILL" if notice.force else f"SIGTERM, SIGKILL after {notice.grace or 0:g}s"
    steps = ", ".join(notice.ending)
    return f"run {run_id}: abort acknowledged; {who} is ending {steps} ({how}), then rolls it back"


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--full",
    is_flag=True,
    help="Skip every canary step (set_weight, pause, analysis) and background analysis left, "
    "and promote now: the plan's `promote` step runs, or all traffic goes to the canary.",
)
@_common
@click.pass_context
def promote(
    ctx: click.Context,
    run_ref: str,
    full: bool,
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
) -> None:
    """Promote RUN's canary. Without --full: end the current pause or bake (a pause waiting
    for approval is approved). A run executing in another process is asked; a paused run
    continues here."""
    _hold_collections()
    from phasegate.engine import operator, session

    _freeze_imports()

    options = _options(variables, max_parallel, quiet, no_output)
    assert isinstance(options, session.RunOptions)
    run_id, status = operator.promote(open_store(ctx), run_ref, options, full=full, by=actor())
    if status is None:
        click.echo(f"run {run_id}: promote requested; its process continues")
        return
    _finish(run_id, status)


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.argument("gate", metavar="[GATE]", required=False)
@click.option(
    "--check",
    "check",
    default=None,
    metavar="ID",
    help="The manual check to approve, as GATE (default: every check awaiting approval).",
)
@click.option(
    "--comment",
    default="",
    help="Why you approve; recorded in the journal with your name, shown by status and report.",
)
@click.option(
    "--choose",
    default=None,
    metavar="OPTION",
    help="For a decision (a pause with `choose:`): the option that runs. A decision is never "
    "approved without one.",
)
@click.option(
    "--break-glass",
    is_flag=True,
    help="RUN waits for a change window: let the phase it waits for (or its rollback) start "
    "outside the window now. Needs --reason; journalled with your name.",
)
@click.option(
    "--reason",
    default=None,
    help="Why (required with --break-glass): journalled with your name, shown by status.",
)
@click.pass_context
def approve(
    ctx: click.Context,
    run_ref: str,
    gate: str | None,
    check: str | None,
    comment: str,
    choose: str | None,
    break_glass: bool,
    reason: str | None,
) -> None:
    """Approve what RUN is waiting for: GATE (a manual check's id or key, a waiting item's
    key), else every manual gate, `pause: approve` step and inconclusive analysis awaiting
    approval; then `phasegate resume RUN` continues (a run executing in another process
    continues by itself). `phasegate reject` is the no-go. With --break-glass: the phase a
    run waits for outside its change window starts now (docs/windows.md)."""
    from phasegate.engine import operator
    from phasegate.errors import UsageError

    if gate is not None and check is not None and gate != check:
        raise UsageError(f"GATE {gate!r} and --check {check!r} name different checks")
    if break_glass:
        if gate or check or choose:
            raise UsageError(
                "--break-glass approves the change window a run waits for, not a check",
                hint="leave out GATE, --check and --choose",
            )
        glass = operator.break_glass(
            open_store(ctx), run_ref, by=actor(), reason=reason or comment or ""
        )
        held = f"phase {glass.phase}" if glass.phase is not None else "the rollback"
        click.echo(
            f"break-glass {glass.key} approved as {actor()}: {held} starts outside its window"
        )
        if glass.delivered:
            click.echo("the process executing the run continues")
        else:
            click.echo(f"continue with: phasegate resume {glass.run_id}")
        return
    if reason is not None:
        raise UsageError("--reason goes with --break-glass", hint="say why with --comment")
    from phasegate.cli.read import approval_progress
    from phasegate.store.process import Owner

    store = open_store(ctx)
    run_id, keys = operator.approve(
        store, run_ref, check=gate or check, by=actor(), comment=comment.strip(), choose=choose
    )
    state = store.load_state(run_id)
    owner = store.get_run(run_id).owner
    # Delivered to the live process executing the run (also one queued for a lane slot),
    # which journals it at its next poll: counted then, and nothing to resume.
    live = owner is not None and owner.alive() and owner != Owner.me()
    for key in keys:
        item = state.items.get(key)
        counted = None
        if item is not None and not live:  # waiting for more approvers: how many so far
            shown = {"key": key, "status": item.status, "message": item.data.get("message")}
            counted = approval_progress(shown, state.approvals)
        chose = f" choosing {choose}" if choose else ""
        click.echo(f"approved {key} as {actor()}{chose}" + (f"; {counted}" if counted else ""))
    if live:
        assert owner is not None
        click.echo(f"sent to the process executing the run (pid {owner.pid}), which acts on it")
    else:
        click.echo(f"continue with: phasegate resume {run_id}")


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.argument("gate", metavar="[GATE]", required=False)
@click.option(
    "--comment",
    required=True,
    help="Why not (required): recorded in the journal with your name, shown by status and report.",
)
@_common
@click.pass_context
def reject(
    ctx: click.Context,
    run_ref: str,
    gate: str | None,
    comment: str,
    variables: tuple[str, ...],
    max_parallel: int | None,
    quiet: bool,
    no_output: bool,
) -> None:
    """Reject (no-go) what RUN is waiting for: GATE (a manual check's id or key, a `pause:
    approve` step's key), else every item awaiting approval. The item fails and the run rolls
    back, whatever its on_failure says. A run executing in another process is asked and rolls
    back itself; a paused run is rolled back here. Exit 0 when rolled back as asked."""
    _hold_collections()
    from phasegate.engine import operator, session

    _freeze_imports()
    from phasegate.errors import UsageError

    if not comment.strip():
        raise UsageError("--comment is empty", hint='say why, e.g. --comment "error budget spent"')
    options = _options(variables, max_parallel, quiet, no_output)
    assert isinstance(options, session.RunOptions)
    run_id, keys, status = operator.reject(
        open_store(ctx), run_ref, options, check=gate, by=actor(), comment=comment.strip()
    )
    if status is None:
        click.echo(
            f"run {run_id}: {', '.join(keys)} rejected; the process executing it rolls it back"
        )
        return
    _finish(run_id, status, requested_rollback=True)
