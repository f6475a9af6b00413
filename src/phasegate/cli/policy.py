"""Policies on the command line: ``--policies DIR`` for validate, run and serve, the
override options of ``run``, and ``phasegate policy test DIR``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from phasegate.cli.common import emit_json, root_options

# policy/pack.py's ENV, not imported from there: that loads the policy engines
# (tests/cli/test_startup_imports.py keeps the two equal).
POLICIES_ENV = "PHASEGATE_POLICIES"

if TYPE_CHECKING:  # annotations only: the policy engines load when a verb uses them
    from phasegate.plan.loader import LoadedPlan
    from phasegate.policy import Pack, Verdict
    from phasegate.store.contract import JournalStore

F = TypeVar("F", bound=Callable[..., Any])

policies_option = click.option(
    "--policies",
    "policies",
    metavar="DIR",
    default=None,
    help="A policy pack (*.rego and *.cel.yaml files) every plan must satisfy "
    "($PHASEGATE_POLICIES; also before the verb). See docs/policies.md.",
)


def override_options(func: F) -> F:
    func = click.option(
        "--reason",
        default="",
        metavar="TEXT",
        help="Why the overridden policies do not apply (required with --override-policy; "
        "journalled with your name).",
    )(func)
    return click.option(
        "--override-policy",
        "override_policies",
        multiple=True,
        metavar="NAME",
        help="Run despite this soft policy's violations (repeatable); hard policies cannot "
        "be overridden.",
    )(func)


def chosen_pack(ctx: click.Context, policies: str | None) -> Pack | None:
    """The pack given to the verb, else before it, else $PHASEGATE_POLICIES."""
    import os

    chosen = policies or root_options(ctx).get("policies") or os.environ.get(POLICIES_ENV)
    if not chosen:
        return None  # the policy engines (CEL, Rego) are not even imported: a run starts sooner
    from phasegate.policy import load_pack

    return load_pack(chosen)


def policy_dir(ctx: click.Context, policies: str | None) -> str | None:
    """The pack's directory `chosen_pack` loads (recorded with the run, asked per phase)."""
    import os

    from phasegate.policy.pack import ENV

    return policies or root_options(ctx).get("policies") or os.environ.get(ENV) or None


def print_violations(verdict: Verdict, *, err: bool = True) -> None:
    colours = {"hard": "red", "soft": "yellow", "advisory": "cyan"}
    for violation in verdict.violations:
        head = click.style(f"policy {violation.level}: ", fg=colours[violation.level])
        click.echo(head + violation.render(), err=err)


def journal_policy(
    store: JournalStore, run_id: str, verdict: Verdict, overrides: tuple[str, ...], reason: str
) -> None:
    """What admission let through, in the run's journal before it starts, with the CLI's
    identity (``login@host``) as the one who let it."""
    from phasegate.cli.common import actor
    from phasegate.policy import journal_admission

    journal_admission(store, run_id, verdict, overrides, reason, actor())


def check_for_run(
    ctx: click.Context,
    loaded: LoadedPlan,
    policies: str | None,
    overrides: tuple[str, ...],
    reason: str,
) -> Verdict | None:
    """Admission for `run`: PolicyRefused (exit 2) or the verdict to journal."""
    from phasegate.errors import UsageError

    pack = chosen_pack(ctx, policies)
    if pack is None:
        if overrides:
            raise UsageError(
                "--override-policy without a policy pack",
                hint="give --policies DIR (or $PHASEGATE_POLICIES)",
            )
        return None
    from phasegate.policy import admit

    verdict = admit(pack, loaded, overrides, reason)
    print_violations(verdict)
    return verdict


@click.group()
def policy() -> None:
    """Policy packs: test a pack against its own cases (`policy test DIR`)."""


@policy.command("test")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def test_cmd(directory: str, as_json: bool) -> None:
    """Run the pack's own test cases (DIR/tests/*.yaml) in each language its policies are
    written in. Exit 0 when every case passes, 1 when one fails, 2 for a broken pack."""
    from phasegate.policy import load_pack
    from phasegate.policy.testing import run_tests

    pack = load_pack(directory)
    results = run_tests(pack)
    failed = [r for r in results if not r.passed]
    if as_json:
        emit_json(
            {
                "pack": str(pack.directory),
                "policies": pack.names,
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "cases": [
                    {
                        "file": r.file,
                        "name": r.name,
                        "language": r.language,
                        "passed": r.passed,
                        "missing": [list(k) for k in r.missing],
                        "unexpected": [list(k) for k in r.unexpected],
                    }
                    for r in results
                ],
            }
        )
    else:
        for r in results:
            mark = click.style("ok  ", fg="green") if r.passed else click.style("FAIL", fg="red")
            click.echo(f"{mark} [{r.language}] {r.name}  ({r.file})")
            for policy_name, field in r.missing:
                click.echo(f"       missing: {policy_name} at {field or 'the plan'}")
            for policy_name, field in r.unexpected:
                click.echo(f"       unexpected: {policy_name} at {field or 'the plan'}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise click.exceptions.Exit(1)
