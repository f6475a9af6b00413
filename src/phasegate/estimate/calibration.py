"""Which past runs may teach the estimates: the plan's calibration rule over a run's facts.

The rule is CEL (``estimate: {calibration: ...}``, default ``status == 'succeeded'``). A run's
facts are its variables as ``run.started`` journalled them, each by its own name and all of
them as ``vars``, plus ``status`` (the run's final status), ``plan`` and ``run_id`` (these
three win over variables of the same name). Variables given with ``--var`` arrive as text, so
the text ``true``/``false`` is read as a boolean: ``validation_pass`` works whether the plan or
the command line set it. A rule that cannot be evaluated for a run (a variable the run did not
have, a non-boolean result) does not admit it, and says why: a run outside the rule never
changes an estimate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from phasegate.estimate.history import RunDurations
from phasegate.expr import ExprError, truthy
from phasegate.run.record import JsonDict

_BOOLEAN_TEXT = {"true": True, "false": False}
# Identifiers of a rule (string literals skipped): the facts its verdict can depend on.
_LITERAL_OR_NAME = re.compile(r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*""")
_ABSENT = object()


def facts(run: RunDurations) -> JsonDict:
    """What the calibration rule sees of ``run``."""
    values = {
        name: _BOOLEAN_TEXT.get(value, value) if isinstance(value, str) else value
        for name, value in run.vars.items()
    }
    return {**values, "vars": values, "status": run.status, "plan": run.plan, "run_id": run.run_id}


def admits(rule: str, run: RunDurations) -> tuple[bool, str | None]:
    """Whether ``rule`` admits ``run``; when not, why (``None``: the rule said false)."""
    try:
        return truthy(rule, facts(run)), None
    except ExprError as exc:
        return False, exc.message


class AdmissionDict(TypedDict):
    rule: str
    admitted: int
    refused: int
    errors: dict[str, int]  # the five most common reasons a run was refused, with counts


@dataclass(frozen=True)
class Admission:
    """The runs a rule admits, oldest first, and a count of the others by reason."""

    rule: str
    admitted: list[RunDurations]
    refused: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> AdmissionDict:
        return {
            "rule": self.rule,
            "admitted": len(self.admitted),
            "refused": self.refused,
            "errors": dict(self.reasons.most_common(5)),
        }


def _names(rule: str) -> list[str]:
    found = {m for m in _LITERAL_OR_NAME.findall(rule) if m[0] not in "'\""}
    return sorted(found)


class Judged(list[RunDurations]):
    """A history that carries its admission under one rule, judged once: ``admit`` with that
    rule answers it without judging the runs again (a view that fits the same history for
    its durations and each resource budget, estimate/fitcache.py). Not to be changed."""

    def __init__(self, runs: Iterable[RunDurations], admission: Admission) -> None:
        super().__init__(runs)
        self.admission = admission


def admit(rule: str, runs: Iterable[RunDurations]) -> Admission:
    """Each run's verdict under ``rule``. A verdict depends only on the facts the rule names,
    so runs with the same values of those share one evaluation (CEL costs ~40 µs a call;
    10,000 runs of a plan have few distinct combinations). A ``Judged`` history judged under
    ``rule`` answers its admission."""
    if isinstance(runs, Judged) and runs.admission.rule == rule:
        return runs.admission
    admitted: list[RunDurations] = []
    refused = 0
    reasons: Counter[str] = Counter()
    names = _names(rule)
    verdicts: dict[tuple[Any, ...], tuple[bool, str | None]] = {}
    for run in runs:
        seen = facts(run)
        key = tuple(repr(seen.get(name, _ABSENT)) for name in names)
        found = verdicts.get(key)
        if found is None:
            found = verdicts[key] = admits(rule, run)
        ok, why = found
        if ok:
            admitted.append(run)
        else:
            refused += 1
            if why is not None:
                reasons[why] += 1
    return Admission(rule, admitted, refused, reasons)
