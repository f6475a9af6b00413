"""Admission: what a verb does with a verdict. Hard violations refuse the plan; soft ones
refuse it unless an approver overrides each soft policy by name, with a reason; advisory
ones are reported."""

from __future__ import annotations

from collections.abc import Iterable

from phasegate.errors import UsageError
from phasegate.plan.loader import LoadedPlan
from phasegate.policy.errors import PolicyRefused
from phasegate.policy.model import Verdict
from phasegate.policy.pack import Pack


def admit(
    pack: Pack, loaded: LoadedPlan, overrides: Iterable[str] = (), reason: str = ""
) -> Verdict:
    """The verdict of ``pack`` on ``loaded``, or ``PolicyRefused`` (exit 2, HTTP 422)."""
    overridden = set(overrides)
    unknown = sorted(overridden - set(pack.names))
    if unknown:
        raise UsageError(
            f"--override-policy {', '.join(unknown)}: no such policy in {pack.directory}",
            hint=f"the pack's policies: {', '.join(pack.names)}",
        )
    if overridden and not reason.strip():
        raise UsageError(
            "an override needs a reason (--reason TEXT)",
            hint="it is journalled with your name: say why the policy does not apply",
        )
    verdict = pack.evaluate(loaded)
    if verdict.hard:
        raise PolicyRefused(
            verdict.hard + verdict.soft,
            f"refused by policy ({len(verdict.hard)} hard violation"
            f"{'s' if len(verdict.hard) != 1 else ''}; hard policies cannot be overridden)",
        )
    hard_named = sorted(overridden & {v.policy for v in verdict.hard})
    if hard_named:  # pragma: no cover - refused above
        raise UsageError(f"{', '.join(hard_named)} is hard: it cannot be overridden")
    pending = [v for v in verdict.soft if v.policy not in overridden]
    if pending:
        raise PolicyRefused(
            pending,
            f"refused by policy ({len(pending)} soft violation"
            f"{'s' if len(pending) != 1 else ''} without an override)",
        )
    return verdict


def overridden(verdict: Verdict, overrides: Iterable[str]) -> dict[str, list[str]]:
    """The soft policies an override let through, each with its violations (as text)."""
    names = set(overrides)
    out: dict[str, list[str]] = {}
    for violation in verdict.soft:
        if violation.policy in names:
            out.setdefault(violation.policy, []).append(violation.render())
    return out
