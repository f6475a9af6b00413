"""The runner's side of a change-window wait: journal it and say it on the terminal.

``decide`` (engine/windowing.py) says when to wait and when the wait ends; this module records
it. The wait is durable (a process killed while waiting shows ``waiting``, and ``resume``
asks the window again). The runner keeps polling its requests while waiting, so a
break-glass approval or an abort reaches it, and asks ``decide`` again every poll, so it
continues the moment the window opens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from phasegate.engine.commands import EndWait, Wait
from phasegate.run.events import RunWaitEnded, RunWaiting

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort


def opening_text(next_open: float | None, timezone: str | None) -> str:
    """``Mon 2026-12-07 09:45 EST (2026-12-07T14:45:00Z)``: as the plan's people read it, and
    in UTC; or that no opening is within the 400 days searched."""
    if next_open is None:
        return "not within 400 days"
    at = datetime.fromtimestamp(next_open, UTC)
    utc = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not timezone:
        return utc
    local = at.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")
    return f"{local} ({utc})"


def what_waits(phase: str | None, risk: str | None) -> str:
    held = "the rollback" if phase is None else f"phase {phase}"
    return f"{held} ({risk} risk)" if risk else held


def begin(runner: RunPort, command: Wait) -> None:
    event = RunWaiting(
        phase=command.phase,
        risk=command.risk,
        rule=command.rule,
        reason=command.reason,
        why=command.why,
        next_open=command.next_open,
        timezone=command.timezone,
        admission=command.admission,
    )
    runner.journal(event, durable=True)
    opens = opening_text(command.next_open, command.timezone)
    runner.ctx.console.note(
        f"⏳ waiting: {what_waits(command.phase, command.risk)} is outside its change window: "
        f"{command.why}; opens {opens} (or `phasegate approve {runner.state.run_id} "
        "--break-glass --reason …`)",
        "cyan",
    )


def end(runner: RunPort, command: EndWait) -> None:
    wait = runner.state.wait or {}
    ended = (
        RunWaitEnded(how=command.how)
        if command.by is None
        else RunWaitEnded(how=command.how, by=command.by)
    )
    runner.journal(ended, durable=True)
    held = what_waits(wait.get("phase"), wait.get("risk"))
    words = {
        "opened": f"the window opened: {held} may start",
        "break_glass": f"break-glass by {command.by}: {held} starts outside its window",
        "failure": "the run is failing: the wait ends, the failure is handled",
    }
    runner.ctx.console.note(f"⏳ {words.get(command.how, command.how)}", "cyan")
