"""Evaluate one check the way a gate needs it: timeout, ``retry`` polling, ``hold_for``.

The outcome is data (passed / failed / error, with what was observed), never an exception:
a check that cannot look is an ``error`` outcome the engine treats as a failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from phasegate.checks.base import CheckSpec, Observation
from phasegate.plugin import PluginContext
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.run.records import Number


@dataclass(frozen=True)
class GateOutcome:
    observation: Observation
    attempts: int
    duration: float


async def observe_once(check: CheckSpec, ctx: PluginContext) -> Observation:
    limit = check.timeout or ctx.timeout
    try:
        return await asyncio.wait_for(check.evaluate(ctx), limit)
    except TimeoutError:
        return Observation("failed", None, f"no answer within {limit:g}s")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a broken plugin must not take the run down with it
        return Observation("error", None, f"{type(exc).__name__}: {ctx.masker.text(str(exc))}")


async def evaluate_gate(check: CheckSpec, ctx: PluginContext) -> GateOutcome:
    started = time.monotonic()
    attempts = check.retry.attempts if check.retry else 1
    every = check.retry.every if check.retry else 0.0
    observation = Observation("failed", None, "not evaluated")
    count = 0
    for attempt in range(1, attempts + 1):
        count = attempt
        observation = await observe_once(check, ctx)
        if observation.passed and check.hold_for:
            observation = await _hold(check, ctx, observation)
        if observation.passed:
            break
        if attempt < attempts:
            await asyncio.sleep(every)
    return GateOutcome(observation, count, time.monotonic() - started)


async def _hold(check: CheckSpec, ctx: PluginContext, first: Observation) -> Observation:
    """Keep observing until hold_for has elapsed; any failure breaks the hold."""
    assert check.hold_for is not None
    deadline = time.monotonic() + check.hold_for
    samples = 1
    last = first
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await asyncio.sleep(min(check.every, remaining))
        last = await observe_once(check, ctx)
        samples += 1
        if not last.passed:
            return Observation(
                last.status,
                last.observed,
                f"held for {check.hold_for - max(remaining, 0):.1f}s of {check.hold_for:g}s, "
                f"then: {last.message}",
            )
    return Observation(
        "passed", last.observed, f"held {check.hold_for:g}s ({plural(samples, 'sample')})"
    )


class GateDetails(TypedDict):
    """What a finished gate check journals besides its item (``run.events.FinishDetails``)."""

    observed: Any  # whatever the check's kind observes
    message: str
    expectation: str
    description: str
    attempts: int
    duration: Number
    severity: str


def gate_record(
    check: CheckSpec, outcome: GateOutcome, expand: Callable[[str], str]
) -> GateDetails:
    """The journal fields of a finished gate check, with the variables it used filled in."""
    obs = outcome.observation
    return {
        "observed": obs.observed,
        "message": obs.message,
        "expectation": expand(check.expectation()),
        "description": expand(check.describe()),
        "attempts": outcome.attempts,
        "duration": round(outcome.duration, 6),
        "severity": check.severity,
    }
