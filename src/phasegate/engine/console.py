"""Live progress on the terminal. Everything printed has passed through the run's Masker."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from phasegate import colors
from phasegate.durations import format_duration
from phasegate.masking import Masker

TICK = 0.25  # seconds between redraws of the progress line


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


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
        self._live: Any = None  # rich.live.Live while a run shows its progress line
        self._line: Callable[[], str] | None = None
        self._drawn = 0.0

    def _style(self, text: str, color: str | None) -> str:
        if not self.color or color is None:
            return text
        import click

        if color == "dim":  # an attribute, not a colour: click.style(fg="dim") raises
            return click.style(text, dim=True)
        return click.style(text, fg=color)

    def _write(self, text: str) -> None:
        if self.quiet:
            return
        if self._live is not None:
            # Printed above the progress line, which rich redraws under it.
            from rich.text import Text

            self._live.console.print(Text.from_ansi(self.masker.text(text)))
            return
        self.stream.write(self.masker.text(text) + "\n")
        self.stream.flush()

    # -- the live progress line (a terminal only) -------------------------------------------
    def interactive(self) -> bool:
        """A person is watching: the console and stdout are terminals (never in pipes, CI
        logs or tests, whose output stays line by line)."""
        if self.quiet or os.environ.get("TERM") == "dumb":
            return False
        return _isatty(self.stream) and _isatty(sys.stdout)

    def live(self, line: Callable[[], str]) -> None:
        """Show ``line()`` as a status line under the output, redrawn by ``tick``."""
        if self._live is not None or not self.interactive():
            return
        from rich.console import Console as RichConsole
        from rich.live import Live
        from rich.text import Text

        rich_console = RichConsole(
            file=self.stream,
            force_terminal=True,
            no_color=not self.color,
            highlight=False,
            soft_wrap=True,
        )
        self._line = line
        self._live = Live(
            Text(""),
            console=rich_console,
            auto_refresh=False,  # redrawn from the engine's loop: no thread reads the state
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        self.tick(force=True)

    def tick(self, *, force: bool = False) -> None:
        if self._live is None or self._line is None:
            return
        now = time.monotonic()
        if not force and now - self._drawn < TICK:
            return
        self._drawn = now
        from rich.text import Text

        style = "dim" if self.color else ""  # NO_COLOR: plain text, as every other line
        self._live.update(Text(self.masker.text(self._line()), style=style), refresh=True)

    def close(self) -> None:
        """Remove the progress line (the run's last lines stay as printed)."""
        live, self._live, self._line = self._live, None, None
        if live is not None:
            live.stop()

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
