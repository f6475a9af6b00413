"""Did-you-mean hints for names a plan author mistyped (keys, phase ids, variables, kinds)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def _norm(word: str) -> str:
    # `fail-after`, `Fail_After` and `fail_after` are the same slip of the keyboard.
    return word.lower().replace("-", "_")


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely meant, or None when nothing is close."""
    options = sorted(set(choices))
    if not options:
        return None
    normalised = {_norm(option): option for option in options}
    if _norm(word) in normalised:
        return normalised[_norm(word)]
    close = difflib.get_close_matches(_norm(word), list(normalised), n=1, cutoff=0.6)
    return normalised[close[0]] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """``did you mean 'x'?``; else the allowed names, so the author sees what fits here."""
    options = sorted(set(choices))
    guess = close_match(word, options)
    if guess is not None:
        return f"did you mean {guess!r}?"
    if options:
        shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
        return f"allowed here: {shown}"
    return None
