"""The ``phasegate`` command. Verbs load lazily so that ``--version`` and ``--help`` stay fast."""

from __future__ import annotations

import importlib
import os
import re
import sys

import click

from phasegate import __version__
from phasegate.cli.common import Location, root_options

VERBS: dict[str, tuple[str, str]] = {
    "validate": ("phasegate.cli.plans", "validate"),
    "plan": ("phasegate.cli.plans", "plan_cmd"),
    "schema": ("phasegate.cli.plans", "schema"),
    "run": ("phasegate.cli.runs", "run"),
    "resume": ("phasegate.cli.runs", "resume"),
    "abort": ("phasegate.cli.runs", "abort"),
    "rollback": ("phasegate.cli.runs", "rollback"),
    "approve": ("phasegate.cli.runs", "approve"),
    "reject": ("phasegate.cli.runs", "reject"),
    "promote": ("phasegate.cli.runs", "promote"),
    "status": ("phasegate.cli.read", "status"),
    "history": ("phasegate.cli.read", "history"),
    "logs": ("phasegate.cli.read", "logs"),
    "report": ("phasegate.cli.read", "report"),
    "check": ("phasegate.cli.read", "check"),
    "import": ("phasegate.cli.importer", "import_cmd"),
    "review": ("phasegate.cli.review", "review"),
    "serve": ("phasegate.cli.serve", "serve"),
    "token": ("phasegate.cli.serve", "token"),
    "notify": ("phasegate.cli.notify", "notify"),
    "store": ("phasegate.cli.store", "store"),
    "windows": ("phasegate.cli.windows", "windows"),
    "estimate": ("phasegate.cli.estimate", "estimate"),
    "monitor": ("phasegate.cli.monitor", "monitor"),
    "worker": ("phasegate.cli.worker", "worker"),
    "submit": ("phasegate.cli.worker", "submit"),
    "schedule": ("phasegate.cli.schedule", "schedule"),
    "policy": ("phasegate.cli.policy", "policy"),
    "lane": ("phasegate.cli.lanes", "lane"),
    "hosts": ("phasegate.cli.hosts", "hosts"),
    "next": ("phasegate.cli.program", "next_cmd"),
}

SHORT_HELP = {
    "validate": "Check a plan without running anything.",
    "plan": "Preview what a run would do (dry run).",
    "schema": "Print the plan JSON Schema.",
    "run": "Execute a plan.",
    "resume": "Continue a paused, interrupted or crashed run.",
    "abort": "Stop a run and roll it back.",
    "rollback": "Roll back a run (also a finished, successful one).",
    "approve": "Approve a manual gate, a pause or an inconclusive analysis.",
    "reject": "Reject (no-go) what a run waits for: the gate fails, the run rolls back.",
    "promote": "End a canary pause, or (--full) promote the canary now.",
    "status": "Show a run's state.",
    "history": "List runs.",
    "logs": "Show the output logs of a run's steps.",
    "report": "Write a run report (md, html, json).",
    "check": "Verify the journal's own invariants.",
    "import": "Turn a Markdown rollout document into a plan.",
    "review": "Show what running a Markdown document does, and record your review.",
    "serve": "Serve the REST API and run plans in a worker pool.",
    "token": "Create, list and revoke the server's API tokens.",
    "notify": "Try a plan's notification channels (`notify test`).",
    "store": "Migrate a store's schema; copy a journal between stores (`store copy`).",
    "windows": "Show whether the plan's change windows are open, why, and next open/close.",
    "estimate": "Estimate how long a plan takes (p50 and 90% interval) from its history.",
    "monitor": "Post-rollout monitoring: end it early as succeeded (`monitor finish RUN`).",
    "worker": "Execute queued runs on this host; take over runs whose owner died.",
    "submit": "Queue a run for `phasegate worker`s (PostgreSQL store).",
    "schedule": "Run a plan on a schedule (cron, interval, calendar); list, history, export.",
    "policy": "Test a policy pack against its own cases (`policy test DIR`).",
    "lane": "Set lanes' caps and weights at runtime; list what runs and waits in each.",
    "hosts": "Show a plan's inventory and the hosts and batches of its fleet phases.",
    "next": "A program's next actionable child (--blocked: what blocks the others).",
}


GLOBAL_FLAGS = ("--no-color",)


# A URL scheme (RFC 3986): `postgresql://…` given where a directory is expected.
# "one verb": set in the `phasegate` command (``main``), which runs one verb and exits. Never
# under click's CliRunner (the tests) or a program that calls the group itself.
PROCESS: set[str] = set()

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_POSTGRES = ("postgres://", "postgresql://", "postgresql+psycopg://")


def check_store_url(value: str, where: str) -> str | None:
    """The PostgreSQL URL ``value`` is (checked, so a bad one fails before anything runs), or
    None when it is no URL (a directory). Any other scheme is a usage error: taken for a path
    it would silently create a local folder named ``sqlite:`` and journal there. Messages
    quote the URL with its password masked."""
    if not _URL.match(value.strip()):
        return None
    scheme = value.strip().split("://", 1)[0].lower() + "://"
    if scheme in _POSTGRES:
        from phasegate.errors import UsageError
        from phasegate.store.postgres.connection import normalize

        try:
            normalize(value, field=where)
        except UsageError as exc:
            raise click.UsageError(exc.render()) from exc
        return value.strip()
    raise click.UsageError(
        f"{where} is a {scheme} URL; it takes a directory (the SQLite journal's, default "
        "./.phasegate) or a postgresql:// URL; nothing was created or run"
    )


def _where(ctx: click.Context, param: click.Parameter) -> str:
    if ctx.get_parameter_source(str(param.name)) == click.core.ParameterSource.ENVIRONMENT:
        return {"store": "$PHASEGATE_STORE", "state_dir": "$PHASEGATE_HOME (--state-dir)"}[
            str(param.name)
        ]
    return f"--{str(param.name).replace('_', '-')}"


def _check_location(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        check_store_url(value, _where(ctx, param))
    return value


def _set_location(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--state-dir``/``--store`` after the verb: override what was given before it."""
    if value is None:
        return
    root = ctx.find_root()
    obj = dict(root.obj or {})
    url = check_store_url(value, f"--{str(param.name).replace('_', '-')}")
    if url is not None:
        obj["store"] = url
    elif param.name == "store":
        obj.update(store=None, state_dir=value)
    else:
        obj["state_dir"] = value
    root.obj = obj


def locate(state_dir: str, store: str | None) -> Location:
    """Where runs are journaled: ``--store`` (a URL, or a directory for SQLite) wins over a
    URL given as ``--state-dir``; with a PostgreSQL store, the run directories (step logs,
    outputs) stay in the state directory (./.phasegate unless given as a directory)."""
    url = None
    if state_dir and _URL.match(state_dir.strip()):
        url, state_dir = state_dir.strip(), ".phasegate"
    if store:
        if _URL.match(store.strip()):
            url = store.strip()
        else:
            url, state_dir = None, store
    return {"state_dir": state_dir, "store": url}


def _verb_options() -> list[click.Option]:
    """``--state-dir`` and ``--store`` after the verb (`phasegate serve --state-dir D`, as the
    systemd unit writes it): the same settings as before the verb, which they override.
    Attached to every verb and sub-verb by the group, so no verb can forget them."""
    return [
        click.Option(
            ["--state-dir"],
            type=click.Path(file_okay=False),
            default=None,
            expose_value=False,
            callback=_set_location,
            help="Where runs are journaled; the same as `phasegate --state-dir` before the verb.",
        ),
        click.Option(
            ["--store"],
            metavar="URL",
            default=None,
            expose_value=False,
            callback=_set_location,
            help="The journal's store; the same as `phasegate --store` before the verb.",
        ),
    ]


def _accept_global_options(command: click.Command) -> None:
    names = {p.name for p in command.params}
    command.params.extend(o for o in _verb_options() if o.name not in names)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_options(sub)


class LazyGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Global flags work after the verb too (`phasegate status --no-color`): move them in
        # front of it. Arguments after `--` are left alone.
        end = args.index("--") if "--" in args else len(args)
        flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
        rest = [a for a in args[:end] if a not in GLOBAL_FLAGS] + args[end:]
        return super().parse_args(ctx, flags + rest)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = VERBS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        command: click.Command = getattr(module, target[1])
        _accept_global_options(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP[name]) for name in VERBS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="phasegate")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    envvar="PHASEGATE_HOME",
    default=".phasegate",
    show_default=True,
    callback=_check_location,
    help="Where runs are journaled ($PHASEGATE_HOME, else ./.phasegate); with a PostgreSQL "
    "--store, where run directories (backups, files steps write) are kept.",
)
@click.option(
    "--store",
    metavar="URL",
    envvar="PHASEGATE_STORE",
    default=None,
    callback=_check_location,
    help="The journal's store ($PHASEGATE_STORE): postgresql://USER:PASSWORD@HOST:PORT/DB for "
    "a PostgreSQL store several machines share, or a directory for the SQLite journal "
    "(default: the state directory's).",
)
@click.option(
    "--policies",
    metavar="DIR",
    default=None,
    help="A policy pack that validate, run and serve hold plans to ($PHASEGATE_POLICIES); "
    "the same as --policies after those verbs.",
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour in any output (also when $NO_COLOR is set; colour is only ever written "
    "to a terminal).",
)
@click.pass_context
def cli(
    ctx: click.Context, state_dir: str, store: str | None, policies: str | None, no_color: bool
) -> None:
    """phasegate: executable rollout plans with gates, automatic rollback and crash-safe resume.

    \b
    Exit codes of run/resume/rollback/abort:
      0 succeeded (rollback/abort: rolled back as asked)
      1 failed and rolled back cleanly   2 usage or plan error (nothing ran)
      3 rollback failed or incomplete   4 paused, waiting for a human   130 interrupted
    Any verb: 65 the journal is damaged or lost (nothing was run against it);
      70 an internal error (a bug in phasegate).
    """
    ctx.obj = {**locate(state_dir, store), "policies": policies}
    from phasegate import colors

    if no_color:
        colors.disable()
    if not colors.wanted():
        ctx.color = False  # click.echo strips styles for this context and every verb's
    if os.environ.get("PHASEGATE_ACTOR"):
        # It used to name the actor; honouring it let one person approve their own run.
        click.echo(
            "warning: $PHASEGATE_ACTOR is ignored: the CLI acts as the login of your uid "
            "(see docs/server.md, 'Who is acting')",
            err=True,
        )


def main(argv: list[str] | None = None) -> None:
    from phasegate.errors import PhasegateError

    PROCESS.add("one verb")

    try:
        code = cli.main(args=argv, prog_name="phasegate", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except PhasegateError as exc:
        click.echo(click.style("error: ", fg="red", bold=True) + exc.render(), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("PHASEGATE_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in phasegate; rerun with PHASEGATE_DEBUG=1 for a traceback",
            err=True,
        )
        sys.exit(70)


def state_dir(ctx: click.Context) -> str:
    return str(root_options(ctx).get("state_dir", ".phasegate"))


def store_url(ctx: click.Context) -> str | None:
    """The PostgreSQL store's URL, or None for the SQLite journal in ``state_dir``."""
    url = root_options(ctx).get("store")
    return str(url) if url else None
