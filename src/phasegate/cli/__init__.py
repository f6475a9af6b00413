"""The ``phasegate`` command. Verbs load lazily so that ``--version`` and ``--help`` stay fast."""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any

import click

from phasegate import __version__

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
}


GLOBAL_FLAGS = ("--no-color",)


# A URL scheme (RFC 3986): `postgresql://…` given where a directory is expected.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_POSTGRES = ("postgres://", "postgresql://", "postgresql+psycopg://")


def refuse_store_url(value: str, where: str) -> None:
    """Until PostgreSQL lands (issue 12 §3), a store URL is a usage error: taken for a path it
    silently created a local folder named ``postgresql:`` and journaled there. Only the
    scheme is quoted back: the rest of a URL may hold a password."""
    if not _URL.match(value.strip()):
        return
    scheme = value.strip().split("://", 1)[0].lower() + "://"
    if scheme in _POSTGRES:
        raise click.UsageError(
            f"{where} is a {scheme} URL: PostgreSQL support is not there yet in phasegate; "
            "nothing was created or run. Give a directory for the SQLite journal (default "
            "./.phasegate)"
        )
    raise click.UsageError(
        f"{where} is a {scheme} URL; it takes a directory (the SQLite journal's, default "
        "./.phasegate); nothing was created or run"
    )


def _where(ctx: click.Context, param: click.Parameter) -> str:
    if ctx.get_parameter_source(str(param.name)) == click.core.ParameterSource.ENVIRONMENT:
        return "$PHASEGATE_HOME (--state-dir)"
    return "--state-dir"


def _check_state_dir(ctx: click.Context, param: click.Parameter, value: str) -> str:
    refuse_store_url(value, _where(ctx, param))
    return value


def _set_state_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        refuse_store_url(value, "--state-dir")
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "state_dir": value}


def _verb_state_dir() -> click.Option:
    """``--state-dir`` after the verb (`phasegate serve --state-dir D`, as the systemd unit
    writes it): the same setting as before the verb, which it overrides. Attached to every
    verb and sub-verb by the group, so no verb can forget it."""
    return click.Option(
        ["--state-dir"],
        type=click.Path(file_okay=False),
        default=None,
        expose_value=False,
        callback=_set_state_dir,
        help="Where runs are journaled; the same as `phasegate --state-dir` before the verb.",
    )


def _accept_global_options(command: click.Command) -> None:
    if not any(p.name == "state_dir" for p in command.params):
        command.params.append(_verb_state_dir())
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
    callback=_check_state_dir,
    help="Where runs are journaled ($PHASEGATE_HOME, else ./.phasegate).",
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour in any output (also when $NO_COLOR is set; colour is only ever written "
    "to a terminal).",
)
@click.pass_context
def cli(ctx: click.Context, state_dir: str, no_color: bool) -> None:
    """phasegate: executable rollout plans with gates, automatic rollback and crash-safe resume.

    \b
    Exit codes of run/resume/rollback/abort:
      0 succeeded (rollback/abort: rolled back as asked)
      1 failed and rolled back cleanly   2 usage or plan error (nothing ran)
      3 rollback failed or incomplete   4 paused, waiting for a human   130 interrupted
    Any verb: 65 the journal is damaged or lost (nothing was run against it);
      70 an internal error (a bug in phasegate).
    """
    store = os.environ.get("PHASEGATE_STORE", "")
    if store.strip():
        # Named by the design (`--store URL`, $PHASEGATE_STORE) but not implemented yet:
        # ignoring it would journal locally while its user believes otherwise.
        refuse_store_url(store, "$PHASEGATE_STORE")
        raise click.UsageError(
            "$PHASEGATE_STORE is not supported yet; nothing was created or run. Unset it and "
            "give the journal's directory with --state-dir or $PHASEGATE_HOME"
        )
    ctx.obj = {"state_dir": state_dir}
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
    obj: dict[str, Any] = ctx.find_root().obj or {}
    return str(obj.get("state_dir", ".phasegate"))
