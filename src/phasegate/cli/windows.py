"""``phasegate windows PLAN``: are changes allowed now (or at --at), why, and when that changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from phasegate.cli.common import emit_json, json_option

RISK_CHOICES = ("none", "low", "medium", "high")


def parse_at(text: str | None) -> datetime:
    """``--at``: an ISO 8601 instant with its UTC offset (a time without one would be read in
    whose timezone? the plan's, the machine's? so none is guessed); now when not given."""
    from phasegate.errors import UsageError

    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--at {text!r} is not an ISO 8601 time",
            hint="e.g. --at 2026-12-07T09:00:00-05:00 or --at 2026-12-07T14:00Z",
        ) from None
    if at.tzinfo is None:
        raise UsageError(
            f"--at {text!r} has no UTC offset",
            hint="add one, e.g. 2026-12-07T09:00-05:00, or Z for UTC",
        )
    return at


def _local(at: datetime | None, tz: Any) -> str | None:
    return None if at is None else at.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")


@click.command("windows")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    help="Evaluate at this ISO 8601 time with an "
    "offset (e.g. 2026-12-07T09:00-05:00) instead of now.",
)
@click.option(
    "--risk",
    type=click.Choice(RISK_CHOICES),
    default=None,
    help="Show only this change risk (phases of other risks are left out).",
)
@json_option
def windows(plan_file: str, at_text: str | None, risk: str | None, as_json: bool) -> None:
    """Show whether PLAN_FILE's change windows are open now (or at --at), per phase risk.

    For each phase: its risk (undeclared counts as high), open or closed, the rule that
    decided and why, and the next opening and closing (within 400 days). Exit 0 whether
    open or closed; 2 for a bad plan or --at.
    """
    from zoneinfo import ZoneInfo

    from phasegate.plan.loader import load_plan
    from phasegate.windows import UNDECLARED_RISK, is_open, next_close, next_open

    at = parse_at(at_text)
    plan = load_plan(plan_file).plan
    wins = plan.windows
    phases = [(p.id, p.risk or UNDECLARED_RISK, p.risk is not None) for p in plan.phases]
    if risk is not None:
        phases = [p for p in phases if p[1] == risk]
    risks = (
        [risk] if risk is not None else sorted({r for _, r, _ in phases}, key=RISK_CHOICES.index)
    )
    if wins is None:
        if as_json:
            emit_json({"plan": plan.name, "at": at.isoformat(), "windows": None})
        else:
            click.echo(f"plan {plan.name}: no windows: changes may happen at any time")
        return
    tz = ZoneInfo(wins.timezone)
    by_risk: dict[str, dict[str, Any]] = {}
    for r in risks:
        verdict = is_open(wins, at, r)  # type: ignore[arg-type]
        # "next open" and "next close" as a reader means them: when closed, when it opens
        # and when that opening ends; when open, when it closes and when it opens again.
        if verdict.open:
            closes = next_close(wins, at, r)  # type: ignore[arg-type]
            opens = next_open(wins, closes, r) if closes else None  # type: ignore[arg-type]
        else:
            opens = next_open(wins, at, r)  # type: ignore[arg-type]
            closes = next_close(wins, opens, r) if opens else None  # type: ignore[arg-type]
        by_risk[r] = {
            **verdict.as_dict(),
            "next_open": opens.astimezone(UTC).isoformat() if opens else None,
            "next_close": closes.astimezone(UTC).isoformat() if closes else None,
            "next_open_local": _local(opens, tz),
            "next_close_local": _local(closes, tz),
        }
    if as_json:
        emit_json(
            {
                "plan": plan.name,
                "timezone": wins.timezone,
                "at": at.isoformat(),
                "at_local": _local(at, tz),
                "risks": by_risk,
                "phases": [
                    {"id": pid, "risk": r, "risk_declared": declared, **by_risk[r]}
                    for pid, r, declared in phases
                ],
            }
        )
        return
    click.echo(f"plan {plan.name}: windows in {wins.timezone}, at {_local(at, tz)}")
    for r in risks:
        shown = by_risk[r]
        names = [
            pid + ("" if declared else " (undeclared)") for pid, pr, declared in phases if pr == r
        ]
        state = (
            click.style("open", fg="green") if shown["open"] else click.style("closed", fg="red")
        )
        click.echo(f"  {r} risk: {state}: {shown['why']}")
        if names:
            click.echo(f"    phases: {', '.join(names)}")
        never = "not within 400 days"
        lines = [("closes", shown["next_close_local"]), ("opens", shown["next_open_local"])]
        if not shown["open"]:
            lines.reverse()
        for word, when in lines:
            click.echo(f"    {word + ':':7} {when or never}")
