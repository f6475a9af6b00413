"""``phasegate serve`` and ``phasegate token``: the REST API and its bearer tokens."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from phasegate.cli.common import (
    emit_json,
    json_option,
    log_level_option,
    park_after_option,
    park_lead_option,
    shared_store_url,
)
from phasegate.cli.policy import policies_option


def _state_dir(ctx: click.Context) -> Path:
    from phasegate.cli import state_dir

    return Path(state_dir(ctx)).expanduser().resolve()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Runs executing at once; more wait in a queue.",
)
@click.option(
    "--dispatch",
    type=click.Choice(["local", "queue"]),
    default="local",
    show_default=True,
    help="Where runs execute: local, in this server's worker processes; queue, in "
    "`phasegate worker`s on any host, through the PostgreSQL store's job queue (needs "
    "--store postgresql://…). An action given a secret variable's value always runs locally.",
)
@click.option(
    "--plan-root",
    type=click.Path(file_okay=False, exists=True),
    default=".",
    show_default=True,
    help="Requests may name plan files (plan_path) only under this directory.",
)
@click.option(
    "--pass-env",
    "pass_env",
    metavar="NAME",
    multiple=True,
    help="Let runs the server starts see this variable of the server's environment "
    "(repeatable). Nothing else beyond PATH, HOME, the locale and the like is passed: "
    "see docs/server.md.",
)
@click.option(
    "--metrics-token-required",
    is_flag=True,
    help="/metrics answers only requests with a valid API token (any role); by default "
    "it is open, like Prometheus exporters usually are.",
)
@click.option(
    "--schedules/--no-schedules",
    "run_schedules",
    default=True,
    show_default=True,
    help="Fire the store's schedules (`phasegate schedule`); any number of servers on one "
    "store may: each slot is fired once.",
)
@park_after_option(
    "A worker gives back a run that only waits: one queued this long for a lane slot "
    "(it keeps its place and is resumed when its slot is granted), one monitoring whose next "
    "check is further off than this (resumed --park-lead before it). never: waiting runs "
    "keep their worker."
)
@park_lead_option
@log_level_option
@policies_option
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    dispatch: str,
    plan_root: str,
    pass_env: tuple[str, ...],
    metrics_token_required: bool,
    run_schedules: bool,
    park_after: float | None,
    park_lead: float | None,
    log_level: str,
    policies: str | None,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json), the live
    dashboard (/ui/), /metrics and /healthz.

    Runs execute in worker processes that outlive the server; on start, the server resumes
    the runs it started whose worker died. Callers authenticate with a bearer token from
    `phasegate token create`. It fires the store's schedules (`phasegate schedule add`).

    With --policies DIR (or $PHASEGATE_POLICIES), a start request whose plan violates a hard
    policy, or a soft one it does not override, is refused: 422 `policy_violation`.
    """
    import uvicorn

    from phasegate.cli import store_url
    from phasegate.server.app import create_app
    from phasegate.server.config import ServerConfig

    # Everything the server itself creates (journal, server.db, inline plan copies, run
    # directories, worker logs) is private to its user: 0600 files in 0700 directories.
    # Runs get the umask the server was started with back (``run_umask``): files a deploy
    # step creates must stay as readable as the operator intended.
    if dispatch == "queue":
        shared_store_url(ctx, "--dispatch queue")
    if park_lead is None:
        raise click.BadParameter("a lead is a duration, not never", param_hint="'--park-lead'")
    from phasegate.cli.policy import chosen_pack

    pack = chosen_pack(ctx, policies)  # a broken pack fails here, not on the first request
    run_umask = os.umask(0o077)
    config = ServerConfig(
        state_dir=_state_dir(ctx),
        store_url=store_url(ctx),
        host=host,
        port=port,
        workers=workers,
        dispatch=dispatch,
        plan_root=Path(plan_root).resolve(),
        pass_env=tuple(pass_env),
        run_umask=run_umask,
        metrics_token_required=metrics_token_required,
        run_schedules=run_schedules,
        policies=None if pack is None else pack.directory.resolve(),
        park_after=park_after,
        park_lead=park_lead,
    )
    app = create_app(config)
    where = f"state {config.state_dir}"
    if config.store_url:
        from phasegate.store.postgres.connection import mask

        where = f"store {mask(config.store_url)}, run directories in {config.state_dir}"
    click.echo(f"phasegate serving on http://{host}:{port} ({where})", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)


@click.group()
def token() -> None:
    """Manage the server's API tokens (stored hashed: in the state directory, or in the
    PostgreSQL store's database with --store / $PHASEGATE_STORE)."""


def _tokens(ctx: click.Context) -> object:
    from phasegate.cli import store_url
    from phasegate.server.tokens import TokenStore
    from phasegate.store.backends import open_ledger

    # On a PostgreSQL store (--store / $PHASEGATE_STORE) the tokens live in its database,
    # where every `phasegate serve` on it reads them; else in server.db of the state dir.
    return TokenStore(open_ledger(_state_dir(ctx), url=store_url(ctx)))


@token.command("create")
@click.option("--name", required=True, help="Who uses it; the journal records token:NAME.")
@click.option(
    "--role",
    type=click.Choice(["viewer", "operator", "admin"]),
    required=True,
    help="viewer reads; operator also starts, approves, aborts, rolls back; admin: all.",
)
@click.pass_context
def token_create(ctx: click.Context, name: str, role: str) -> None:
    """Create a token and print it, once: it is stored only as a hash."""
    from phasegate.server.tokens import TokenStore

    tokens = _tokens(ctx)
    assert isinstance(tokens, TokenStore)
    secret = tokens.create(name, role)
    click.echo(secret)
    click.echo(f"token {name} ({role}) created; it is shown only now", err=True)


@token.command("list")
@json_option
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """List tokens (names and roles; the secrets are not kept)."""
    from phasegate.server.tokens import TokenStore

    tokens = _tokens(ctx)
    assert isinstance(tokens, TokenStore)
    found = tokens.list()
    if as_json:
        emit_json([{"name": t.name, "role": t.role, "created_at": t.created_at} for t in found])
        return
    if not found:
        click.echo("no tokens")
    for t in found:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t.created_at))
        click.echo(f"{t.name:<24} {t.role:<9} created {when}")


@token.command("revoke")
@click.argument("name")
@click.pass_context
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke the token NAME: it stops working at once."""
    from phasegate.server.tokens import TokenStore

    tokens = _tokens(ctx)
    assert isinstance(tokens, TokenStore)
    tokens.revoke(name)
    click.echo(f"token {name} revoked")
