"""Durations as plans write them: ``500ms``, ``5s``, ``1m30s``, ``2h``, or a number of seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")


class DurationError(ValueError):
    pass


def parse_duration(value: object) -> float:
    """Return seconds; raise DurationError with the accepted forms on anything else."""
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError(f"duration must not be negative, got {value}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return float(text)
        if _WHOLE.fullmatch(text):
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    raise DurationError(
        f"invalid duration {value!r}: write a number of seconds or e.g. 500ms, 30s, 5m, 1h30m"
    )


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
