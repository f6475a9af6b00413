"""The one-line live progress a run shows on a terminal: elapsed time, items done of total,
what is running (and for how long), and the countdown of a bake or pause; while monitoring
after the rollout, the checks done and the next one due.

Built from the runner's state on the engine's own loop (never from another thread), so it
reads a consistent state; the console redraws it in place (see ``engine.console``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from phasegate.durations import format_duration
from phasegate.engine.decide import plan_index
from phasegate.run.state import ITEM_DONE

if TYPE_CHECKING:
    from phasegate.engine.port import RunView


def progress_line(runner: RunView, now: float | None = None) -> str:
    state = runner.state
    now = time.time() if now is None else now
    parts: list[str] = []
    if state.started_at is not None:
        parts.append(f"{format_duration(now - state.started_at)} elapsed")
    if state.mode == "rollback" and state.rollback is not None:
        order = [entry["key"] for entry in state.rollback["order"]]
        done = sum(1 for k in order if k in state.items and state.items[k].status in ITEM_DONE)
        parts.append(f"rolling back: {done}/{len(order)} actions done")
    elif state.status == "monitoring" and state.monitoring is not None:
        monitoring = state.monitoring
        parts.append(f"monitoring: {monitoring['evaluations']}/{monitoring['slots']} checks")
        if monitoring["failures"]:
            parts.append(f"{monitoring['failures']} failed")
        due = monitoring.get("next_due")
        if isinstance(due, int | float):
            parts.append(f"next in {format_duration(max(due - now, 0))}")
    else:
        keys = [key for items in plan_index(runner.ctx.plan).items.values() for key, _, _ in items]
        done = sum(1 for k in keys if k in state.items and state.items[k].status in ITEM_DONE)
        parts.append(f"{done}/{len(keys)} items done")
    running = [i for i in state.items.values() if i.status == "running"]
    for item in running[:2]:
        since = f" ({format_duration(now - item.started_at)})" if item.started_at else ""
        until = item.data.get("until")
        if isinstance(until, int | float) and until > now:
            what = item.data.get("waiting", "pause")
            parts.append(f"{item.key}: {what} {format_duration(until - now)} left")
        else:
            parts.append(f"running {item.key}{since}")
    if len(running) > 2:
        parts.append(f"+{len(running) - 2} more running")
    return " · ".join(parts)
