"""Whether phasegate writes colour: the https://no-color.org convention plus ``--no-color``.

Colour is on only when the stream is a terminal, ``$NO_COLOR`` is unset or empty, and the
command line did not say ``--no-color`` (which sets it off for the whole process: the CLI's
own output and the run console alike).
"""

from __future__ import annotations

import os
from typing import TextIO

_SETTINGS = {"disabled": False}


def disable() -> None:
    """``--no-color``: no colour anywhere in this process."""
    _SETTINGS["disabled"] = True


def wanted() -> bool:
    """False when ``--no-color`` was given or ``$NO_COLOR`` is set to anything non-empty."""
    return not (_SETTINGS["disabled"] or os.environ.get("NO_COLOR"))


def enabled(stream: TextIO) -> bool:
    if not wanted():
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
