"""Plugin registry: built-in and third-party kinds load through the same entry points."""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

CHECKS_GROUP = "phasegate.checks"
EXECUTORS_GROUP = "phasegate.executors"
ROUTERS_GROUP = "phasegate.routers"
# Plan sources other than YAML (``markdown``: a function from a path to a LoadedPlan).
IMPORTERS_GROUP = "phasegate.importers"


@cache
def _group(group: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep)
    return found


def names(group: str) -> list[str]:
    return sorted(_group(group))


@cache
def load(group: str, name: str) -> Any:
    return _group(group)[name].load()


def check_kinds() -> dict[str, type[BaseModel]]:
    """Map of check kind name -> CheckSpec subclass (imports every kind: for schema/docs)."""
    return {name: load(CHECKS_GROUP, name) for name in names(CHECKS_GROUP)}


def check_kind(name: str) -> Any:
    """One check kind's CheckSpec subclass; only that kind's module is imported."""
    return load(CHECKS_GROUP, name)


def router_kind(name: str) -> Any:
    """One router kind's RouterSpec subclass."""
    return load(ROUTERS_GROUP, name)
