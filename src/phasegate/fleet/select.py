"""A plan's ``targets:`` read into an inventory, and the hosts a phase's ``hosts:`` selects.

A selector is CEL over one host: ``name`` (string), ``groups`` (list of strings) and
``labels`` (its merged inventory variables), plus the plan's ``vars``:

    hosts: "'web' in groups && labels.az != 'c'"

``--limit`` narrows every phase further: comma-separated host names or shell-style patterns
(``web0*,db-a``), or a CEL selector when it does not look like names.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from phasegate.expr import ExprError, truthy
from phasegate.fleet.inventory import (
    Host,
    Inventory,
    InventoryError,
    detect_and_parse,
    inline,
    parse_json,
)
from phasegate.fleet.spec import Targets

INVENTORY_COMMAND_TIMEOUT = 60.0


def load_inventory(targets: Targets, base_dir: Path) -> Inventory:
    """The inventory ``targets:`` names: a file (relative to the plan), a command's JSON
    output, or the inline list."""
    if targets.hosts is not None:
        return inline(targets.hosts)
    if targets.inventory is not None:
        path = Path(targets.inventory)
        if not path.is_absolute():
            path = base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InventoryError(
                f"cannot read inventory {path}: {exc.strerror or exc}",
                hint="targets.inventory is relative to the plan file",
            ) from None
        return detect_and_parse(text, str(path))
    assert targets.command is not None
    try:
        done = subprocess.run(
            targets.command,
            shell=True,
            cwd=base_dir,
            capture_output=True,
            text=True,
            timeout=INVENTORY_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InventoryError(
            f"inventory command did not finish in {INVENTORY_COMMAND_TIMEOUT:g}s: {targets.command}"
        ) from None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        raise InventoryError(
            f"inventory command exited {done.returncode}: {targets.command}: {tail[0]}"
        )
    return parse_json(done.stdout, f"output of `{targets.command}`")


def select(hosts: Sequence[Host], selector: str, variables: Mapping[str, Any]) -> list[Host]:
    """The hosts a CEL selector is true for, in inventory order."""
    chosen = []
    for host in hosts:
        activation = {**host.activation(), "vars": dict(variables)}
        try:
            if truthy(selector, activation):
                chosen.append(host)
        except ExprError as exc:
            raise ExprError(
                f"hosts selector {selector!r} on host {host.name}: {exc.message}",
                hint="a selector sees name, groups, labels and vars, e.g. "
                "\"'web' in groups && labels.az == 'a'\"",
            ) from None
    return chosen


_NAMES = re.compile(r"^[A-Za-z0-9_.*?\[\]-]+(\s*,\s*[A-Za-z0-9_.*?\[\]-]+)*$")


def limit(hosts: Sequence[Host], text: str | None, variables: Mapping[str, Any]) -> list[Host]:
    """``--limit``: names/patterns, or a CEL selector."""
    if not text:
        return list(hosts)
    if _NAMES.match(text.strip()):
        patterns = [p.strip() for p in text.split(",")]
        return [h for h in hosts if any(fnmatch.fnmatchcase(h.name, p) for p in patterns)]
    return select(hosts, text, variables)
