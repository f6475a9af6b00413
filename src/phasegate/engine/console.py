"""Live progress on the terminal. Everything printed has passed through the run's Masker."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from phasegate import colors
from phasegate.durations import format_duration
from phasegate.masking import Masker

_SYMBOLS = {
    "succeeded": "✓",
    "passed": "✓",
    "warned": "!",
    "failed": "✗",
    "error": "✗",
    "skipped": "-",
    "retrying": "↻",
    "interrupted": "⏹",
    "awaiting_approval": "⏸",
    "unknown": "?",
}
_COLORS = {
    "succeeded": "green",
    "passed": "green",
    "warned": "yellow",
    "failed": "red",
    "error": "red",
    "skipped": "bright_black",
    "retrying": "yellow",
    "interrupted": "yellow",
    "awaiting_approval": "cyan",
    "unknown": "magenta",
}


class Console:
    def __init__(
        self,
        masker: Masker,
        *,
        stream: TextIO | None = None,
        show_output: bool = True,
        quiet: bool = False,
        color: bool | None = None,
    ) -> None:
        self.masker = masker
        self.stream = stream or sys.stderr
        self.show_output = show_output and not quiet
        self.quiet = quiet
        self.color = colors.enabled(self.stream) if color is None else color
        self.started = time.monotonic()

    def _style(self, text: str, color: str | None) -> str:
        if not self.color or color is None:
            return text
        import click

        return click.style(text, fg=color)

    def _write(self, text: str) -> None:
        if self.quiet:
            return
        self.stream.write(self.masker.text(text) + "\n")
        self.stream.flush()

    def headline(self, text: str) -> None:
        self._write(self._style(text, "cyan"))

    def phase(self, phase_id: str, status: str) -> None:
        mark = "▶" if status == "running" else _SYMBOLS.get(status, "•")
        self._write(self._style(f"{mark} phase {phase_id} {status}", _COLORS.get(status, "cyan")))

    def item(
        self, kind: str, label: str, status: str, detail: str = "", duration: float | None = None
    ) -> None:
        symbol = _SYMBOLS.get(status, "•")
        took = f" ({format_duration(duration)})" if duration is not None else ""
        extra = f": {detail}" if detail else ""
        line = f"  {symbol} {kind} {label} {status}{took}{extra}"
        self._write(self._style(line, _COLORS.get(status)))

    def started_item(self, kind: str, label: str) -> None:
        self._write(f"  • {kind} {label} …")

    def output(self, key: str, stream: str, line: str) -> None:
        if self.show_output:
            self._write(
                self._style(f"    │ {line}", "bright_black" if stream == "stdout" else "yellow")
            )

    def note(self, text: str, color: str | None = None) -> None:
        self._write(self._style(text, color))
