"""Errors of policy packs: a pack that cannot be read, and a plan refused by policy."""

from __future__ import annotations

from phasegate.errors import PlanError, Problem, UsageError
from phasegate.policy.model import Violation


class PolicyPackError(UsageError):
    """A policy pack cannot be loaded or evaluated (a syntax error, an unknown key): exit 2,
    naming the file (and line, where the language says it)."""


class PolicyRefused(PlanError):
    """Admission refused the plan: a hard violation, or a soft one without an override."""

    def __init__(self, violations: list[Violation], headline: str) -> None:
        self.violations = violations
        problems = [
            Problem(
                f"[{v.level}] {v.policy}: {v.message}",
                file=v.file,
                line=v.line,
                column=v.column,
                field=v.field or None,
                hint=_hint(v),
            )
            for v in violations
        ]
        super().__init__(problems, headline)


def _hint(violation: Violation) -> str | None:
    if violation.level == "soft":
        return (
            f"an approver may override it: `phasegate run PLAN --override-policy "
            f"{violation.policy} --reason TEXT`"
        )
    return None
