"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import click

from phasegate.errors import UsageError

if TYPE_CHECKING:  # annotations only: the store is imported when a verb opens it (start-up)
    from phasegate.store.contract import JournalStore
    from phasegate.store.sqlite import SqliteStore

json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
# The long-running verbs (serve, worker): how much they log.
log_level_option = click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)


class Location(TypedDict):
    state_dir: str  # run directories (and the SQLite journal when ``store`` is None)
    store: str | None  # the PostgreSQL store's URL


class RootOptions(TypedDict, total=False):
    """``ctx.obj`` of the root command: the options given before (or after) the verb (none
    when a verb is invoked on its own, as tests do)."""

    state_dir: str
    store: str | None
    policies: str | None  # the policy pack's directory (``--policies``)


def root_options(ctx: click.Context) -> RootOptions:
    found: RootOptions | None = ctx.find_root().obj
    return found or {}


F = TypeVar("F", bound=Callable[..., Any])

# The longest a worker may wait before parking a waiting run (``--park-after``).
MAX_PARK_AFTER = 24 * 3600.0


class ParkAfter(click.ParamType):  # type: ignore[type-arg]
    """``--park-after``: a duration (``3s``, ``500ms``, ``1m``; 0 to 24h) or ``never``."""

    name = "DURATION|never"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float | None:
        from phasegate.durations import DurationError, parse_duration

        if value is None or isinstance(value, float):
            return value
        if str(value).strip().lower() == "never":
            return None
        try:
            seconds = parse_duration(str(value))
        except DurationError as exc:
            self.fail(f"{exc}; {exc.hint} (or never)", param, ctx)
        if seconds > MAX_PARK_AFTER:
            self.fail(f"{value!r} is more than 24h (write never to keep waiting runs)", param, ctx)
        return seconds


def park_after_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--park-after",
        type=ParkAfter(),
        default="3s",
        show_default=True,
        help=help_text,
    )


park_lead_option = click.option(
    "--park-lead",
    type=ParkAfter(),
    default="1.5s",
    show_default=True,
    help="A parked monitoring run is resumed this long before its next check is due (at "
    "most half of --park-after).",
)


def shared_store_url(ctx: click.Context, what: str) -> str:
    """The PostgreSQL store's URL, which ``what`` (a verb or an option) needs: a usage error
    (exit 2) without one."""
    from phasegate.cli import store_url

    url = store_url(ctx)
    if url is None:
        raise click.UsageError(
            f"{what} needs the shared PostgreSQL store: "
            "--store postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or PHASEGATE_STORE)"
        )
    return url


var_option = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="K=V",
    help="Override a plan variable (repeatable).",
)


def parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {pair!r} is not K=V", hint="e.g. --var TARGET=./site")
        out[name.strip()] = value
    return out


def open_store(ctx: click.Context, *, readonly: bool = False) -> JournalStore:
    """The journal, seen through the store contract. ``readonly`` for verbs that only read:
    they then work on a full disk and never create, migrate or lock anything."""
    from phasegate.cli import state_dir, store_url
    from phasegate.store.backends import open_journal

    directory = Path(state_dir(ctx)).expanduser().resolve()
    return open_journal(directory, readonly=readonly, url=store_url(ctx))


def open_sqlite(ctx: click.Context, *, readonly: bool = False) -> SqliteStore:
    """The SQLite journal itself: for what only SQLite has (``phasegate check``'s integrity
    check of the file)."""
    from phasegate.cli import state_dir
    from phasegate.store.sqlite import SqliteStore

    return SqliteStore(Path(state_dir(ctx)).expanduser().resolve(), readonly=readonly)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def actor() -> str:
    """Who is acting, for the audit trail: the real uid's login, never ``$USER``
    (phasegate.identity says why)."""
    from phasegate import identity

    return identity.actor()


def exit_for(status: str) -> int:
    from phasegate.run.state import EXIT_CODES

    return EXIT_CODES.get(status, 1)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
