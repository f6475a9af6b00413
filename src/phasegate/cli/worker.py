"""``phasegate worker`` and ``phasegate submit``: runs executed by workers on any host that
share one PostgreSQL store (docs/workers.md)."""

from __future__ import annotations

import click

from phasegate.cli.common import (
    emit_json,
    json_option,
    log_level_option,
    park_after_option,
    park_lead_option,
    shared_store_url,
)


@click.command()
@click.option(
    "--max-runs",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Run actions this worker executes at once; more wait in the queue.",
)
@click.option(
    "--takeover-within",
    type=click.FloatRange(1.0, 3600.0),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="A run whose owner died (on any host) is resumed by a worker within about this "
    "long: the store is scanned every fifth of it.",
)
@click.option(
    "--plan-root",
    type=click.Path(file_okay=False, exists=True),
    default=".",
    show_default=True,
    help="The directory runs execute in (relative plan paths resolve from it).",
)
@click.option(
    "--pass-env",
    "pass_env",
    metavar="NAME",
    multiple=True,
    help="Let runs see this variable of the worker's environment (repeatable). Nothing else "
    "beyond PATH, HOME, the locale and the like is passed (never $PHASEGATE_STORE): see "
    "docs/workers.md.",
)
@park_after_option(
    "A run that only waits gives its worker process back: one queued this long for a lane "
    "slot (it keeps its place; a worker resumes it when its slot is granted), one monitoring "
    "whose next check is further off than this (a worker resumes it --park-lead before it). "
    "never: waiting runs keep their process."
)
@park_lead_option
@log_level_option
@click.pass_context
def worker(
    ctx: click.Context,
    max_runs: int,
    takeover_within: float,
    plan_root: str,
    pass_env: tuple[str, ...],
    park_after: float | None,
    park_lead: float | None,
    log_level: str,
) -> None:
    """Execute queued runs on this host (needs --store postgresql://…).

    Any number of workers on any hosts share the store: each takes run actions from the
    queue (started by `phasegate submit` or `phasegate serve --dispatch queue`), and resumes
    the runs whose owner died, on whatever host, within --takeover-within seconds. A run never
    has two owners: PostgreSQL fences them. SIGINT/SIGTERM: running actions are waited for;
    a second signal stops at once (the runs are then taken over by another worker).
    """
    import asyncio
    import logging
    from pathlib import Path

    from phasegate.cli import state_dir
    from phasegate.server.worker_host import WorkerConfig, serve
    from phasegate.store.postgres.connection import mask, normalize

    if park_lead is None:
        raise click.BadParameter("a lead is a duration, not never", param_hint="'--park-lead'")
    url = normalize(shared_store_url(ctx, "`phasegate worker`"))
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = WorkerConfig(
        store_url=url,
        location=mask(url),
        state_dir=Path(state_dir(ctx)).expanduser().resolve(),
        max_runs=max_runs,
        takeover_within=takeover_within,
        plan_root=Path(plan_root).resolve(),
        pass_env=tuple(pass_env),
        park_after=park_after,
        park_lead=park_lead,
    )
    config.state_dir.mkdir(parents=True, exist_ok=True)
    click.echo(
        f"phasegate worker: store {config.location}, up to {max_runs} runs, "
        f"takeover within {takeover_within:g}s",
        err=True,
    )
    asyncio.run(serve(config))


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a plan variable (repeatable). Secret variables cannot be queued: a "
    "worker reads them from its own environment.",
)
@click.option(
    "--idempotency-key",
    default=None,
    help="The same key returns the existing run instead of queueing another.",
)
@json_option
@click.pass_context
def submit(
    ctx: click.Context,
    plan_file: str,
    variables: tuple[str, ...],
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Queue a run of PLAN_FILE for `phasegate worker`s (needs --store postgresql://…).

    Prints the run id at once; `phasegate status RUN` follows it. The run is created here
    (validated, locked, journalled as pending) and started by the first free worker.
    """
    from pathlib import Path

    from phasegate import identity
    from phasegate.cli.common import open_store, parse_vars
    from phasegate.engine.session import RunOptions, create
    from phasegate.errors import UsageError
    from phasegate.plan.loader import MARKDOWN_SUFFIXES, load_plan
    from phasegate.plan.model import VarSpec
    from phasegate.server.queue import Dispatcher, payload
    from phasegate.store.postgres.connection import mask, normalize

    url = normalize(shared_store_url(ctx, "`phasegate submit`"))
    if Path(plan_file).suffix.lower() in MARKDOWN_SUFFIXES:
        raise UsageError(
            f"{plan_file}: a Markdown document is run only after a person reviewed its import",
            hint=f"`phasegate import {plan_file} -o plan.yaml`, review it, then submit that",
        )
    loaded = load_plan(plan_file)
    overrides = parse_vars(variables)
    secret = sorted(
        name
        for name in overrides
        if isinstance(spec := loaded.plan.vars.get(name), VarSpec) and spec.secret
    )
    if secret:
        raise UsageError(
            f"--var {', '.join(secret)}: a secret value cannot be queued (the queue is a "
            "database table)",
            hint="give the workers the secret in their environment, or run the plan with "
            "`phasegate run`",
        )
    actor = identity.actor()
    options = RunOptions(overrides=overrides, idempotency_key=idempotency_key, started_by=actor)
    store = open_store(ctx)
    try:
        run_id, created = create(store, loaded, options)
    finally:
        store.close()
    job_id = None
    if created:
        dispatcher = Dispatcher(url, mask(url))
        try:
            job_id = dispatcher.defer(payload(run_id, "resume", actor))
        finally:
            dispatcher.close()
    if as_json:
        emit_json({"run": run_id, "created": created, "job": job_id})
    else:
        click.echo(run_id if created else f"{run_id} (idempotency key: an existing run)")
