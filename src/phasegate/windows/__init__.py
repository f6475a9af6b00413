"""Change windows (issue 13 §1): when changes may happen, as pure functions of the plan's
``windows:`` rules and a given instant.

- ``compiled``: the rules parsed once (hours as minutes, date ranges, holiday calendars).
- ``evaluate``: ``is_open`` (a ``Verdict``: open, the deciding rule and why), ``next_open``,
  ``next_close`` (from the boundaries, never by scanning minutes).
- ``fit``: whether a phase of a given length (its estimated p90) finishes before the window
  open now closes, and ``next_fit``, the first opening long enough.

The rules' model and its validation live in ``phasegate.plan.windows``; docs/windows.md has
the semantics.
"""

from phasegate.windows.evaluate import (
    HORIZON,
    UNDECLARED_RISK,
    Verdict,
    is_open,
    next_close,
    next_open,
)
from phasegate.windows.fit import Fit, fit, next_fit

__all__ = [
    "HORIZON",
    "UNDECLARED_RISK",
    "Fit",
    "Verdict",
    "fit",
    "is_open",
    "next_close",
    "next_fit",
    "next_open",
]
