"""What the ``file`` and ``kpi`` checks share when they read a fleet host's files
(``PluginContext.host_files``; executors/ssh_files.py), not this machine's.

Patterns are matched on this machine with the same functions as a local read (``glob.glob``
for a kpi report pattern, ``Path.glob`` for a file check's ``count``): the host lists the
entries under the pattern's fixed leading directory, and they are recreated, empty, in a
temporary directory where the pattern is applied. Same pattern, same semantics, wherever the
files are.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePosixPath

from phasegate.executors.ssh_files import Entry
from phasegate.plugin import PluginContext


def host_path(ctx: PluginContext, text: str) -> str:
    """A user-written path on a host, variables expanded: ``~`` and a relative path are the
    login's home there (where the host's commands start), never the plan's directory."""
    path = ctx.expand(text)
    if path == "~":
        return "."
    if path.startswith("~/"):
        return path[2:] or "."
    return path


def depth_of(pattern: str) -> int | None:
    """How deep under its directory a pattern can reach (None: ``**``, any depth)."""
    parts = PurePosixPath(pattern).parts
    return None if any("**" in part for part in parts) else len(parts)


def split_magic(pattern: str) -> tuple[str, str]:
    """A glob as its leading directory without wildcards and the rest: ``reports/*/j.xml``
    -> (``reports``, ``*/j.xml``); ``/var/log/*.xml`` -> (``/var/log``, ``*.xml``)."""
    parts = PurePosixPath(pattern).parts
    fixed: list[str] = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    base = str(PurePosixPath(*fixed)) if fixed else "."
    return base, str(PurePosixPath(*parts[len(fixed) :]))


@contextmanager
def mirrored(entries: Sequence[Entry]) -> Iterator[str]:
    """A temporary directory holding the listed entries, empty: directories as directories,
    regular files as files, anything else as a dangling link (it exists, it is no file)."""
    with tempfile.TemporaryDirectory(prefix="phasegate-host-") as root:
        for entry in entries:
            here = os.path.join(root, entry.path)
            if not os.path.abspath(here).startswith(root + os.sep):
                continue  # a name that climbs out (cannot come from find; refused anyway)
            os.makedirs(os.path.dirname(here), exist_ok=True)
            if entry.kind == "d":
                os.makedirs(here, exist_ok=True)
            elif entry.kind == "f":
                open(here, "wb").close()
            elif not os.path.lexists(here):
                os.symlink(os.path.join(root, ".phasegate-nothing"), here)
        yield root


def matching(
    entries: Sequence[Entry], pattern: str, match: Callable[[str, str], list[str]]
) -> list[str]:
    """The entries' paths (relative) that ``match(root, pattern)`` finds in their mirror."""
    with mirrored(entries) as root:
        return [os.path.relpath(found, root) for found in match(root, pattern)]


def glob_files(root: str, pattern: str) -> list[str]:
    """What a local kpi pattern reads: ``glob.glob`` (recursive), regular files only."""
    found = glob.glob(os.path.join(root, pattern), recursive=True)
    return [p for p in found if os.path.isfile(p)]
