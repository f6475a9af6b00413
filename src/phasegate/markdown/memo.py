"""Memoization by content for the importer's pure text functions (docs/performance.md).

A runbook asks the same question of the same text many times: each rule module reads a
heading or a lead-in for its own purpose, a fence's chunk is asked whether it changes things
for its role and again by the rules that look at its neighbours, and runbooks repeat commands
(the same health check in every phase). The functions decorated here depend on their
arguments only (module-level patterns and word lists, never the document being read) and
return immutable values, so a cached answer is the answer.

Every cache is registered, so :func:`clear` empties them all: the bench times a cold import
(what a fresh ``phasegate import`` process pays), and tests compare cached with uncached.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class _Clearable(Protocol):
    def cache_clear(self) -> None: ...


_CACHES: list[_Clearable] = []


def memo(maxsize: int = 8192) -> Callable[[_F], _F]:
    """``functools.lru_cache`` of ``maxsize`` entries, registered for :func:`clear`. Bounded:
    a 2 MB document has ~2,000 distinct headings and paragraphs, and an entry holds one text
    (a heading, a paragraph, a fence's chunk), so the caches stay a few MB at most."""

    def decorate(function: _F) -> _F:
        cached = lru_cache(maxsize=maxsize)(function)
        _CACHES.append(cached)
        return cached  # type: ignore[return-value]

    return decorate


def register(cached: _Clearable) -> None:
    """A cache made elsewhere (``shellsyntax.parse``), cleared with the others."""
    _CACHES.append(cached)


def clear() -> None:
    for cached in _CACHES:
        cached.cache_clear()
