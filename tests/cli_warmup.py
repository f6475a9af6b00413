"""Imported once by the ``cli`` fixture's fork server (tests/cli_forks.py): every verb's module,
and every pydantic model of phasegate built (they build on first use, ``defer_build``), so a
forked command starts with them ready."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil

import pydantic

import phasegate
from phasegate.cli import VERBS

for module, _ in VERBS.values():
    importlib.import_module(module)
for info in pkgutil.walk_packages(phasegate.__path__, "phasegate."):
    if info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)


def _models(base: type[pydantic.BaseModel]) -> list[type[pydantic.BaseModel]]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_models(sub))
    return found


for model in _models(pydantic.BaseModel):
    if (
        model.__module__.startswith("phasegate.")
        and not model.__pydantic_generic_metadata__["parameters"]
    ):
        # A model that needs a later definition is built on first use, as before.
        with contextlib.suppress(pydantic.PydanticUserError):
            model.model_rebuild(force=True)
