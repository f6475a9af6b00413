"""Whether a phase of a given length fits in the window open now, and when one it fits opens
(issue 13 §1: "a phase whose estimated p90 finish falls after the window closes waits for the
next window"). Pure, like ``evaluate``: the instant and the length are given.

A phase *fits* at ``at`` when the window is open then and stays open for ``seconds`` (its
estimated p90): ``at + seconds <= next_close(at)``, or the window never closes within the
horizon. ``next_fit`` walks the openings from ``at`` (each window, then the next opening after
its close) until one is long enough; a length no window reaches within ``MAX_WINDOWS``
openings (or the 400-day horizon) has no fit, and only a break-glass approval starts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from phasegate.plan.windows import Risk, Windows
from phasegate.windows.compiled import CompiledWindows, compile_windows
from phasegate.windows.evaluate import HORIZON, is_open, next_close, next_open

MAX_WINDOWS = 1_000  # openings tried by next_fit: ~3 years of one window a day


@dataclass(frozen=True, slots=True)
class Fit:
    """A phase of ``seconds`` started at ``at``: open now, and whether it ends before the close."""

    at: datetime
    seconds: float
    open: bool
    closes: datetime | None  # the open window's close; None: closed now, or not within 400 days

    @property
    def fits(self) -> bool:
        if not self.open:
            return False
        return self.closes is None or self.at + timedelta(seconds=self.seconds) <= self.closes

    @property
    def finish(self) -> datetime:
        return self.at + timedelta(seconds=self.seconds)


def fit(windows: Windows | CompiledWindows, at: datetime, risk: Risk | None, seconds: float) -> Fit:
    """Whether a ``risk`` phase lasting ``seconds`` may start at ``at`` and finish in the window."""
    c = compile_windows(windows)
    if not is_open(c, at, risk).open:
        return Fit(at, seconds, False, None)
    return Fit(at, seconds, True, next_close(c, at, risk))


def next_fit(
    windows: Windows | CompiledWindows, at: datetime, risk: Risk | None, seconds: float
) -> datetime | None:
    """The first instant ≥ ``at`` at which a ``risk`` phase lasting ``seconds`` fits (open, and
    open until it ends), or None within the horizon."""
    c = compile_windows(windows)
    length = timedelta(seconds=max(seconds, 0.0))
    start = next_open(c, at, risk)
    for _ in range(MAX_WINDOWS):
        if start is None or start - at > HORIZON:
            return None
        close = next_close(c, start, risk)
        if close is None or start + length <= close:
            return start
        start = next_open(c, close, risk)
    return None
