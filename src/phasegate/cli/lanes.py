"""``phasegate lane set|list|history``: lanes' caps and weights, kept in the store and changed
at runtime (docs/lanes.md)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypedDict

import click

from phasegate.cli.common import actor, emit_json, json_option, open_store

if TYPE_CHECKING:
    from phasegate.lanes.model import LaneChange


@click.group()
def lane() -> None:
    """Shared capacity: caps and weights of lanes, and what runs and waits in each.

    A plan names its lane (`lane: Code-API`); a run finding the lane at its cap is `queued`
    until a slot frees. `*` is the pool: its cap bounds all lanes together, and the weights
    share it out.
    """


@lane.command("set")
@click.argument("name")
@click.option(
    "--max",
    "cap",
    type=click.IntRange(min=0),
    required=True,
    help="Runs of the lane executing at once (0 closes the lane: nothing new starts).",
)
@click.option(
    "--weight",
    type=click.FloatRange(min=0, min_open=True),
    help="Share of the pool against other lanes (default: keep; 1 for a new lane).",
)
@json_option
@click.pass_context
def set_cmd(ctx: click.Context, name: str, cap: int, weight: float | None, as_json: bool) -> None:
    """Set lane NAME's cap (and weight), now, for every server and worker on the store.

    Runs already holding a slot keep it (never pre-empted); a lowered cap holds for every new
    grant. Recorded with who changed it (`phasegate lane history`).
    """
    from phasegate.errors import UsageError
    from phasegate.lanes import valid_lane_name

    if not valid_lane_name(name, pool=True):
        raise UsageError(
            f"{name!r} is not a lane name",
            hint="letters, digits, '_', '.', '-' (as a plan's `lane:`), or '*' for the pool",
        )
    store = open_store(ctx)
    change = store.set_lane(name, cap=cap, weight=weight, by=actor(), ts=time.time())
    if as_json:
        emit_json(_change(change))
        return
    before = "unset" if change.previous_cap is None else str(change.previous_cap)
    click.echo(
        f"lane {name}: cap {before} -> {change.cap}, weight {change.weight:g} (by {change.by})"
    )


@lane.command("list")
@json_option
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Each lane: cap, weight, running, queued, utilization, oldest wait, starving."""
    from phasegate.lanes import portfolio

    store = open_store(ctx, readonly=True)
    figures = portfolio(store.lanes(), store.lane_tickets(), time.time())
    if as_json:
        emit_json([f.as_json() for f in figures])
        return
    if not figures:
        click.echo("no lanes (set one with `phasegate lane set NAME --max N`)")
        return
    click.echo(
        f"{'LANE':<20} {'CAP':>5} {'WEIGHT':>6} {'RUN':>4} {'QUEUED':>6} {'UTIL':>6}  OLDEST"
    )
    for f in figures:
        cap = "-" if f.cap is None else str(f.cap)
        util = "-" if f.utilization is None else f"{f.utilization:.0%}"
        oldest = "-" if f.oldest_wait is None else f"{f.oldest_wait:.0f}s"
        flag = "  STARVING" if f.starving else ""
        click.echo(
            f"{f.lane:<20} {cap:>5} {f.weight:>6g} {f.running:>4} {f.queued:>6} {util:>6}  "
            f"{oldest}{flag}"
        )


@lane.command("history")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
@click.pass_context
def history_cmd(ctx: click.Context, name: str | None, limit: int, as_json: bool) -> None:
    """Changes of caps and weights (of lane NAME, or all), newest first, with who."""
    store = open_store(ctx, readonly=True)
    changes = store.lane_changes(lane=name, limit=limit)
    if as_json:
        emit_json([_change(c) for c in changes])
        return
    if not changes:
        click.echo("no changes")
        return
    for c in changes:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.at))
        before = "unset" if c.previous_cap is None else str(c.previous_cap)
        click.echo(f"{when}  {c.lane}: cap {before} -> {c.cap}, weight {c.weight:g}  by {c.by}")


class LaneChangeJson(TypedDict):
    lane: str
    cap: int | None
    weight: float
    previous_cap: int | None
    previous_weight: float | None
    by: str
    at: float


def _change(change: LaneChange) -> LaneChangeJson:
    return {
        "lane": change.lane,
        "cap": change.cap,
        "weight": change.weight,
        "previous_cap": change.previous_cap,
        "previous_weight": change.previous_weight,
        "by": change.by,
        "at": change.at,
    }
