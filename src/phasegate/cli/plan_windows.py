"""``phasegate plan PLAN --at TIME``: which phases a run started then would wait for, and
for which window (issue 13 §1). The decisions are the engine's (engine/windowing.py
``preview``); this module shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from phasegate.cli.windows import parse_at
from phasegate.durations import format_duration
from phasegate.plan.model import Plan

if TYPE_CHECKING:
    from phasegate.estimate import RunDurations


def _local(text: str | None, timezone: str) -> str | None:
    if text is None:
        return None
    from phasegate.engine.waiting import opening_text

    return opening_text(datetime.fromisoformat(text).timestamp(), timezone)


def windows_at(
    plan: Plan, at_text: str, history: list[RunDurations] | None = None
) -> dict[str, Any]:
    """The preview as JSON: instants in UTC (ISO 8601) and as the plan's people read them.
    ``history``: the plan's past runs, for each phase's p90 (the window must stay open until
    the phase's p90 finish), as a run would use them (engine/phase_p90.py)."""
    from phasegate.engine.phase_p90 import p90s_of
    from phasegate.engine.windowing import preview

    at = parse_at(at_text).astimezone(UTC)
    if plan.windows is None:
        return {"at": at.isoformat(), "timezone": None, "phases": []}
    tz = plan.windows.timezone
    phases = []
    for found in preview(plan, at, p90s_of(plan, history or [])):
        shown = found.as_dict()
        shown["starts_at_text"] = _local(shown["starts_at"], tz)  # type: ignore[arg-type]
        shown["closes_at_text"] = _local(shown["closes_at"], tz)  # type: ignore[arg-type]
        phases.append(shown)
    return {
        "at": at.isoformat(),
        "at_text": _local(at.isoformat(), tz),
        "timezone": tz,
        "phases": phases,
    }


def print_windows_at(data: dict[str, Any]) -> None:
    if data["timezone"] is None:
        click.echo("\nwindows: none (no phase waits)")
        return
    click.echo(f"\nwindows ({data['timezone']}) for a run started {data['at_text']}:")
    for phase in data["phases"]:
        risk = f"{phase['risk']} risk" + ("" if phase["risk_declared"] else ", undeclared")
        if phase["p90"] is not None:
            risk += f", p90 {format_duration(phase['p90'])}"
        if not phase["waits"]:
            click.echo(f"  {phase['phase']} ({risk}): starts when ready — {phase['why']}")
            continue
        opens = phase["starts_at_text"] or "not within 400 days"
        click.echo(
            f"  {phase['phase']} ({risk}): "
            + click.style("waits", fg="yellow")
            + f" — {phase['why']}; starts {opens}"
        )
    click.echo(
        "  (each phase taken to last its p90, from history or its `estimate:` hints; "
        "a phase with neither, no time)"
    )
