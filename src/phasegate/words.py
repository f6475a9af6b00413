"""Words for people: counts with the right plural, lists as prose.

Console, CLI and notification text go through these so that "1 action" and "2 actions" are
never written by hand at a call site (where "1 actions" crept in).
"""

from __future__ import annotations

from collections.abc import Iterable

# Nouns whose plural is not the noun plus "s".
_IRREGULAR = {"analysis": "analyses", "series": "series", "retry": "retries"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``plural(1, "action")`` -> ``"1 action"``; ``plural(2, "action")`` -> ``"2 actions"``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or _IRREGULAR.get(noun) or noun + 's'}"


def names(items: Iterable[object]) -> str:
    """``["alice", "bob"]`` -> ``"alice, bob"`` (never a Python list repr)."""
    return ", ".join(str(item) for item in items)
