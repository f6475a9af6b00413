"""``phasegate monitor finish RUN``: end a run's post-rollout monitoring early as succeeded
(docs/monitoring.md). The decision is the engine's (engine/monitor_finish.py)."""

from __future__ import annotations

import click

from phasegate.cli.common import actor, open_store


@click.group("monitor")
def monitor() -> None:
    """Post-rollout monitoring of a run (plan `monitor:`)."""


@monitor.command("finish")
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--reason",
    required=True,
    help="Why monitoring may end now: journalled with your name, shown by status and report.",
)
@click.pass_context
def finish(ctx: click.Context, run_ref: str, reason: str) -> None:
    """End RUN's post-rollout monitoring now as succeeded: the checks left are not run, the
    run finishes `succeeded`. Journalled as an approval of `monitor:finish` with who and why.
    A run executing in another process finishes by itself; one nobody executes finishes with
    `phasegate resume RUN`. Exit 2 when RUN is not monitoring or no reason is given."""
    from phasegate.engine.monitor_finish import finish_monitoring

    done = finish_monitoring(open_store(ctx), run_ref, by=actor(), reason=reason)
    click.echo(
        f"monitoring of {done.run_id} ended early by {actor()} after {done.evaluations} of "
        f"{done.slots} checks: the run finishes succeeded"
    )
    if done.delivered:
        click.echo("the process executing the run finishes it")
    else:
        click.echo(f"finish it with: phasegate resume {done.run_id}")
