"""How a dry-run preview shows a plan to a reviewer: variables expanded (secrets masked,
a value nobody supplied left as written), every limit with its unit, every option that changes
what a run does (retry, severity, hold, timeout) spelled out.

``plan.preview`` builds the data with these; ``phasegate plan`` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypedDict

from phasegate.checks.base import CheckSpec
from phasegate.durations import written
from phasegate.masking import MASK, Masker
from phasegate.plan.model import Plan, VarSpec
from phasegate.plan.variables import Variables
from phasegate.substitution import BUILTINS, substitute


class RetryView(TypedDict):
    attempts: int
    every: float


class CheckDetails(TypedDict):
    """The options of a check that change when and how it passes (``check_details``)."""

    severity: Literal["fail", "warn"]
    retry: RetryView | None
    hold_for: float | None
    hold_every: float | None
    timeout: float | None


class Shown:
    """Expands ``${NAME}`` for display: secrets as ``***``, built-ins as ``<NAME>``, and an
    environment variable that is not set (and has no default) left as ``${NAME}``, so the
    reader sees where a value will come from rather than an empty string."""

    def __init__(self, plan: Plan, variables: Variables, overrides: Mapping[str, str]) -> None:
        values = dict(variables.masked())
        for name, spec in plan.vars.items():
            unset = (
                isinstance(spec, VarSpec)
                and spec.env is not None
                and spec.default is None
                and name not in overrides
                and values.get(name) == ""
            )
            if unset:
                values.pop(name, None)
        for name in BUILTINS:
            values[name] = f"<{name}>"
        self._values = values
        self._masker = Masker(variables.secret_values())

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        return self._masker.text(substitute(text, self._values), MASK)


def check_details(check: CheckSpec, default_timeout: float | None) -> CheckDetails:
    """The options of a gate (or rollback verification) that change when and how it passes."""
    retry = check.retry
    return {
        "severity": check.severity,
        "retry": (
            {"attempts": retry.attempts, "every": retry.every} if retry is not None else None
        ),
        "hold_for": check.hold_for,
        "hold_every": check.every if check.hold_for is not None else None,
        "timeout": check.timeout if check.timeout is not None else default_timeout,
    }


def check_words(details: CheckDetails) -> list[str]:
    """``check_details`` as short phrases: ``retry 10× every 1s``, ``warn only``, …"""
    out: list[str] = []
    if details.get("severity") == "warn":
        out.append("warn only (a failure is a warning, not a failed gate)")
    retry = details.get("retry")
    if retry:
        out.append(f"retry {retry['attempts']}× every {written(retry['every'])}")
    if details.get("hold_for") is not None:
        out.append(
            f"hold for {written(details['hold_for'])} (every {written(details.get('hold_every'))})"
        )
    if details.get("timeout") is not None:
        out.append(f"timeout {written(details['timeout'])}")
    return out
