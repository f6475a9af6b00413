"""Durations as plans write them: ``500ms``, ``5s``, ``1m30s``, ``2h``, or a number of seconds."""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
# Units as people write them in prose ("5 minutes", "2 hrs"), mapped to the plan's unit.
_WORD_UNITS = {
    "ms": "ms", "msec": "ms", "msecs": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
}  # fmt: skip
_WORDS = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)\s*,?\s*(?:and\s+)?")
FORMS = "a number of seconds, or e.g. 500ms, 30s, 5m, 1h30m"


class DurationError(ValueError):
    """An unreadable duration; ``hint`` suggests what to write instead."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def parse_duration(value: object) -> float:
    """Return seconds; raise DurationError with the accepted forms on anything else."""
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {str(value).lower()}", hint=f"write {FORMS}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise DurationError(f"invalid duration {value}", hint=f"write {FORMS}")
        if value < 0:
            raise DurationError(
                f"duration must not be negative, got {value}", hint=f"write {FORMS}"
            )
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        seconds: float | None = None
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif _WHOLE.fullmatch(text):
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
        if seconds is not None:
            if not math.isfinite(seconds):
                raise DurationError(f"duration {value!r} is too long", hint=f"write {FORMS}")
            return seconds
        guess = from_words(value)
        if text.startswith("-"):
            hint = f"durations cannot be negative; write {FORMS}"
        elif guess:
            hint = f"did you mean {guess!r}?"
        else:
            hint = f"write {FORMS}"
        raise DurationError(f"invalid duration {value!r}", hint=hint)
    kind = {dict: "a mapping", list: "a list", type(None): "an empty value"}.get(type(value))
    raise DurationError(
        f"invalid duration: expected a number or a string, got {kind or type(value).__name__}",
        hint=f"write {FORMS}",
    )


def from_words(text: str) -> str | None:
    """``"5 minutes"`` -> ``"5m"``; ``"1 hour, 30 mins"`` -> ``"1h30m"``; else None."""
    lowered = text.strip().lower()
    parts = list(_WORDS.finditer(lowered))
    if not parts or "".join(m.group(0) for m in parts).strip() != lowered:
        return None
    out = ""
    for match in parts:
        unit = _WORD_UNITS.get(match.group(2))
        if unit is None:
            return None
        out += match.group(1) + unit
    return out


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def written(seconds: float | None) -> str:
    """A duration as a plan would write it: ``90`` -> ``1m30s``, ``0.5`` -> ``500ms``,
    ``3600`` -> ``1h``; used where a limit (a budget, a timeout) is shown with its unit."""
    if seconds is None:
        return "none"
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    out = ""
    rest = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            count, rest = divmod(rest, size)
            out += f"{int(count)}{unit}"
    if rest or not out:
        out += f"{round(rest, 3):g}s"
    return out
