"""``phasegate store migrate|copy``: prepare a store's schema; move a journal between stores
(SQLite → PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from phasegate.cli.common import emit_json, json_option

if TYPE_CHECKING:  # annotations only: stores load when the verb runs (start-up time)
    from phasegate.store.contract import JournalStore


def _open(ctx: click.Context, where: str, field: str, *, readonly: bool) -> JournalStore:
    from phasegate.cli import check_store_url, state_dir
    from phasegate.store.backends import open_journal

    url = check_store_url(where, field)
    if url is not None:
        # Run directories stay where they are: a PostgreSQL store keeps them in --state-dir.
        local = Path(state_dir(ctx)).expanduser().resolve()
        return open_journal(local, readonly=readonly, url=url)
    directory = Path(where).expanduser().resolve()
    if readonly and not directory.is_dir():
        raise click.UsageError(f"{field}: {where} is not a directory (a SQLite journal's)")
    return open_journal(directory, readonly=readonly)


@click.group()
def store() -> None:
    """Migrate a store's schema, or copy a journal between stores."""


@store.command("migrate")
@json_option
@click.pass_context
def migrate(ctx: click.Context, as_json: bool) -> None:
    """Create or upgrade the schema of the store (--store / $PHASEGATE_STORE, else the state
    directory's SQLite journal) and print its version. Every verb that writes does this on
    open; run it once to prepare a new PostgreSQL database before workers or servers use it.
    A store written by a newer phasegate is refused, never downgraded."""
    from phasegate.cli.common import open_store

    opened = open_store(ctx)
    try:
        version = int(getattr(opened, "schema_version", 0))
        where = str(getattr(opened, "location", "") or getattr(opened, "path", ""))
    finally:
        opened.close()
    if as_json:
        emit_json({"store": where, "schema_version": version})
    else:
        click.echo(f"{where}: schema v{version}")


@store.command("copy")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="STORE",
    help="The store to copy: a state directory (SQLite) or a postgresql:// URL.",
)
@click.option(
    "--to",
    "destination",
    required=True,
    metavar="STORE",
    help="The store to copy into: a postgresql:// URL or a state directory.",
)
@json_option
@click.pass_context
def copy(ctx: click.Context, source: str, destination: str, as_json: bool) -> None:
    """Copy every run, with all its events, from one store into another (oldest first).
    Idempotent: runs already copied are left alone, runs copied in part are completed; a
    destination run with the same id but another plan or other events stops the copy before
    anything is written. Step logs are copied (the part the destination lacks), schedules
    with their slots, lane settings with their history, and durations digests the
    destination lacks (verified by `phasegate check`); other files of run directories
    (backups) are not. Then every run is compared on both sides (record, events, outputs,
    step logs, durations digest): one that differs fails the copy, named, and is marked in
    the destination with a warning (a later copy refuses it)."""
    from phasegate.store.copy import copy_journal

    src = _open(ctx, source, "--from", readonly=True)
    dst = _open(ctx, destination, "--to", readonly=False)
    try:
        result = copy_journal(src, dst)
    finally:
        src.close()
        dst.close()
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(
        f"copied {len(result.copied)} runs, completed {len(result.continued)}, "
        f"{len(result.unchanged)} already there; {result.events} events and "
        f"{result.log_bytes} log bytes written; {len(result.schedules)} schedules and "
        f"{result.slots} slots; lanes {', '.join(result.lanes) or 'none'}; "
        f"{result.digests} durations digests"
    )
