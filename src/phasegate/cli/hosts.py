"""``phasegate hosts PLAN``: the plan's inventory as phasegate reads it, and the hosts and
batches each fleet phase would walk (after ``--limit``). Reads only; connects to nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import click

from phasegate.cli.common import emit_json, json_option, parse_vars, var_option

if TYPE_CHECKING:
    from phasegate.run.events import FleetSample
    from phasegate.run.record import JsonDict, JsonObject


class HostsPhase(TypedDict):
    """A fleet phase in ``hosts --json``: the hosts it picks and the batches they run in."""

    sample: JsonObject | None  # the FleetSample a run would journal (sampled phases)
    id: str
    selector: str
    hosts: list[str]
    batch_sizes: list[int]
    batches: list[list[str]]
    mode: str
    max_fail_percentage: float
    unreachable: str


class InventoryHost(TypedDict):
    name: str
    groups: list[str]
    labels: JsonDict


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@var_option
@json_option
@click.option(
    "--limit",
    metavar="HOSTS",
    default=None,
    help="Only these hosts: names or patterns (web0*,db-a), or a CEL selector.",
)
def hosts(plan_file: str, variables: tuple[str, ...], as_json: bool, limit: str | None) -> None:
    """Show PLAN_FILE's resolved inventory (hosts, groups, labels) and, for each fleet phase,
    the hosts its `hosts:` selector picks and the batches they run in.

    --json prints {"inventory": <ansible-inventory --list shape>, "hosts": [...],
    "phases": [{"id", "hosts", "batches", ...}]}."""
    from phasegate.engine.fleet import sampled
    from phasegate.engine.fleet_batches import batches_of, in_order
    from phasegate.errors import UsageError
    from phasegate.fleet.inventory import PRIVATE_LABELS
    from phasegate.fleet.select import limit as narrow
    from phasegate.fleet.select import load_inventory, select
    from phasegate.plan.loader import load_plan
    from phasegate.plan.variables import resolve
    from phasegate.run.records import HostRecord

    loaded = load_plan(plan_file)
    plan = loaded.plan
    if plan.targets is None:
        raise UsageError(
            f"{plan_file} has no `targets:`", hint="docs/fleet.md: targets name an inventory"
        )
    values = resolve(plan, parse_vars(variables), _builtins(), allow_unset_env=True).values
    inventory = load_inventory(plan.targets, loaded.plan_dir)
    every = inventory.hosts()
    phases: list[HostsPhase] = []
    drawn_of: dict[str, FleetSample] = {}  # each sampled phase's draw, for the text
    for phase in plan.phases:
        if phase.hosts is None:
            continue
        picked = narrow(select(every, phase.hosts, values), limit, values)
        entries: list[HostRecord] = [
            {
                "name": h.name,
                "labels": {k: v for k, v in h.labels.items() if k not in PRIVATE_LABELS},
            }
            for h in picked
        ]
        sample: JsonObject | None = None
        if phase.sample is not None:
            entries, facts = sampled(phase, entries, plan.name, values)
            sample = facts.to_json()
            drawn_of[phase.id] = facts
        entries = in_order(phase, entries, plan.name)
        chosen = [h["name"] for h in entries]
        cut = batches_of(phase, chosen, {h["name"]: h["labels"] for h in entries})
        phases.append(
            {
                "sample": sample,
                "id": phase.id,
                "selector": phase.hosts,
                "hosts": chosen,
                "batch_sizes": [len(b) for b in cut],
                "batches": cut,
                "mode": phase.batch.mode if phase.batch is not None else "lockstep",
                "max_fail_percentage": phase.max_fail_percentage or 0,
                "unreachable": phase.unreachable or "fail",
            }
        )
    listed: list[InventoryHost] = [
        {"name": h.name, "groups": list(h.groups), "labels": dict(h.labels)} for h in every
    ]
    if as_json:
        emit_json({"inventory": inventory.to_json(), "hosts": listed, "phases": phases})
        return
    click.echo(f"{len(every)} hosts, {len(inventory.groups)} groups")
    for name, group in inventory.groups.items():
        members = sorted(h.name for h in every if name in h.groups)
        if name == "all":
            continue
        children = f" (children: {', '.join(group.children)})" if group.children else ""
        click.echo(f"  {name}: {', '.join(members) or '-'}{children}")
    for host in listed:
        labels = " ".join(f"{k}={v}" for k, v in host["labels"].items())
        click.echo(f"  {host['name']}  {labels}")
    for entry in phases:
        click.echo(
            f"phase {entry['id']}: {len(entry['hosts'])} hosts ({entry['selector']}), "
            f"{entry['mode']} batches of {entry['batch_sizes']}"
        )
        drawn = drawn_of.get(entry["id"])
        if drawn is not None:
            missing = f", missing {', '.join(drawn.missing)}" if drawn.missing else ""
            click.echo(
                f"  sample {drawn.pct:g}%: strata_coverage {drawn.coverage:.3g} "
                f"(required {drawn.required:g}){missing}"
            )
            for row in drawn.strata:
                click.echo(f"    {row.stratum}: {row.picked} of {row.size}")
        for index, batch in enumerate(entry["batches"], start=1):
            click.echo(f"  batch {index}: {', '.join(batch)}")


def _builtins() -> dict[str, str]:
    return {
        name: f"<{name}>" for name in ("RUN_ID", "RUN_DIR", "PLAN_DIR", "PLAN_NAME", "STATE_DIR")
    }
