"""``phasegate notify``: try a plan's notification channels before a rollout needs them."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING

import click

from phasegate.cli.common import emit_json, json_option, parse_vars, var_option

if TYPE_CHECKING:
    from phasegate.notify.dispatch import Outcome
    from phasegate.run.record import JsonDict


@click.group()
def notify() -> None:
    """Notification channels of a plan (`notify:` block)."""


@notify.command("test")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@var_option
@json_option
def test_cmd(plan_file: str, variables: tuple[str, ...], as_json: bool) -> None:
    """Send a test message to every channel PLAN_FILE's `notify:` block configures.

    Each channel gets one message, with the plan's retries and timeout, and its result is
    printed. PagerDuty channels receive a trigger followed at once by its resolve.
    Exit 0 when every channel succeeded, 1 otherwise, 2 for a plan without channels.
    """
    from phasegate.errors import UsageError
    from phasegate.notify.dispatch import Notifications, probe_notice
    from phasegate.plan.loader import load_plan
    from phasegate.plan.variables import VariableError, resolve
    from phasegate.substitution import BUILTINS

    loaded = load_plan(plan_file)
    config = loaded.plan.notify
    if config is None or not config.channels:
        raise UsageError(
            f"{plan_file} configures no notification channels",
            hint="add `notify: {channels: {NAME: {KIND: {...}}}, routes: [...]}`",
        )
    run_id = "test-" + secrets.token_hex(3)
    builtins = {name: f"<{name}>" for name in BUILTINS}
    builtins.update({"RUN_ID": run_id, "PLAN_NAME": loaded.plan.name})
    try:
        values = resolve(loaded.plan, parse_vars(variables), builtins)
    except VariableError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    notifications = Notifications(
        config,
        run_id=run_id,
        plan=loaded.plan.name,
        secrets=values.secret_values(),
        report=lambda outcome: None,
        expand=values.expand,
    )
    message = notifications.message(probe_notice(), time.time(), test=True)

    async def send_all() -> list[Outcome]:
        names = list(config.channels)
        return list(await asyncio.gather(*(notifications.deliver(n, message) for n in names)))

    outcomes = asyncio.run(send_all())
    if as_json:
        emit_json({"ok": all(o.ok for o in outcomes), "channels": [_row(o) for o in outcomes]})
    else:
        for outcome in outcomes:
            where = notifications.channels.get(outcome.channel)
            described = where.describe() if where is not None else outcome.kind
            mark = click.style("✓", fg="green") if outcome.ok else click.style("✗", fg="red")
            tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
            code = f" HTTP {outcome.status_code}" if outcome.status_code else ""
            result = ("sent" if outcome.ok else "FAILED") + f" ({tries}{code})"
            text = f"{mark} {outcome.channel} ({described}): {result}"
            if outcome.error:
                text += f": {outcome.error}"
            elif outcome.detail and outcome.detail.startswith("skipped"):
                text += f": {outcome.detail}"
            click.echo(text)
    raise click.exceptions.Exit(0 if all(o.ok for o in outcomes) else 1)


def _row(outcome: Outcome) -> JsonDict:
    return {"ok": outcome.ok, **outcome.as_event().to_json()}
