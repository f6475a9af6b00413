"""The hosts a fleet phase runs on: Ansible's inventory model, read by phasegate itself.

Three sources give the same :class:`Inventory`:

- an Ansible YAML inventory (``all: {hosts: ..., children: ..., vars: ...}``), see
  ``parse_yaml``;
- an Ansible INI inventory (``[web]``, ``[web:vars]``, ``[web:children]``), see ``parse_ini``;
- the JSON that ``ansible-inventory --list`` (or any dynamic inventory script) prints, see
  ``parse_json``; and an inline list in the plan (``inline``).

The model follows Ansible's documented semantics, written from its documentation (no Ansible
code is used): every host is in ``all``; a host named before any section of an INI file, or
directly under ``all`` in YAML, is also in ``ungrouped``; a group's ``children`` are groups
whose hosts are members of it too; host ranges ``web[01:20]`` and ``db-[a:c]`` expand; host
variables win over group variables, and a child group's over its parent's (deeper wins; at the
same depth, later in name order wins, as Ansible merges groups sorted by name). Values on an
INI host line are Python literals (``port=22`` is an int); values in a ``[group:vars]``
section stay strings, as in Ansible.

Variables become a host's *labels* (``az``, ``os``, ``region``...) that ``hosts:`` selectors
and ``sample:`` strata read in CEL.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import yaml

from phasegate.errors import PhasegateError
from phasegate.run.record import JsonDict, JsonValue

# Inventory variables that are credentials: never journalled, never exported to commands.
PRIVATE_LABELS = frozenset(
    {"ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass"}
)


class InventoryError(PhasegateError):
    """An inventory that cannot be read: carries where (``file:line``) and what to do."""


@dataclass
class Group:
    name: str
    hosts: list[str] = field(default_factory=list)  # direct members, in order written
    children: list[str] = field(default_factory=list)
    vars: JsonDict = field(default_factory=dict)


class HostActivation(TypedDict):
    """What a CEL selector over one host sees."""

    name: str
    groups: list[str]
    labels: JsonDict


class GroupEntry(TypedDict, total=False):
    """One group as ``ansible-inventory --list`` prints it (only the keys not empty)."""

    hosts: list[str]
    children: list[str]
    vars: JsonDict


class MetaEntry(TypedDict):
    hostvars: dict[str, JsonDict]


@dataclass(frozen=True)
class Host:
    name: str
    groups: tuple[str, ...]  # every group it belongs to (through children too), sorted
    labels: Mapping[str, JsonValue]  # merged variables: group vars (shallow to deep), host vars

    def activation(self) -> HostActivation:
        """What a CEL selector over this host sees."""
        return {"name": self.name, "groups": list(self.groups), "labels": dict(self.labels)}


@dataclass
class Inventory:
    """Groups by name (``all`` and ``ungrouped`` always there) and each host's own vars."""

    groups: dict[str, Group] = field(default_factory=dict)
    host_vars: dict[str, JsonDict] = field(default_factory=dict)  # insertion = order

    def __post_init__(self) -> None:
        self.group("all")
        self.group("ungrouped")

    # -- building ---------------------------------------------------------------------------
    def group(self, name: str) -> Group:
        if name not in self.groups:
            self.groups[name] = Group(name)
            if name != "all":
                self._add_child("all", name)
        return self.groups[name]

    def _add_child(self, parent: str, child: str) -> None:
        kids = self.groups[parent].children
        if child not in kids:
            kids.append(child)

    def add_child(self, parent: str, child: str) -> None:
        self.group(parent)
        self.group(child)
        self._add_child(parent, child)

    def add_host(self, group: str, name: str, variables: JsonDict | None = None) -> None:
        members = self.group(group).hosts
        if name not in members:
            members.append(name)
        self.host_vars.setdefault(name, {}).update(variables or {})

    # -- reading ----------------------------------------------------------------------------
    def _depths(self) -> dict[str, int]:
        """Each group's depth below ``all`` (the longest path: a child is always deeper than
        every parent, so its vars win over all of theirs)."""
        depth: dict[str, int] = {"all": 0}
        changed = True
        rounds = 0
        while changed:
            changed = False
            rounds += 1
            if rounds > len(self.groups) + 1:
                cycle = sorted(self.groups)
                raise InventoryError(
                    f"inventory groups form a cycle of children ({', '.join(cycle[:5])}...)",
                    hint="a group cannot be its own descendant",
                )
            for name, group in self.groups.items():
                if name not in depth:
                    continue
                for child in group.children:
                    if child == "all":
                        continue
                    if depth.get(child, -1) < depth[name] + 1:
                        depth[child] = depth[name] + 1
                        changed = True
        return depth

    def memberships(self) -> dict[str, set[str]]:
        """host -> every group it is in, directly or through children."""
        parents: dict[str, set[str]] = {}
        for name, group in self.groups.items():
            for child in group.children:
                parents.setdefault(child, set()).add(name)
        result: dict[str, set[str]] = {}
        for name, group in self.groups.items():
            for host in group.hosts:
                result.setdefault(host, set()).update(_ancestors(name, parents))
        for host in self.host_vars:
            result.setdefault(host, set()).add("all")
        for groups in result.values():
            if groups <= {"all", "ungrouped"}:
                groups.add("ungrouped")  # Ansible: a host in no other group is ungrouped
            else:
                groups.discard("ungrouped")
        return result

    def hosts(self) -> list[Host]:
        """Every host, in the order first written, with its groups and merged labels."""
        depths = self._depths()
        members = self.memberships()
        result = []
        for name, own in self.host_vars.items():
            groups = members.get(name, {"all", "ungrouped"})
            labels: JsonDict = {}
            for group in sorted(groups, key=lambda g: (depths.get(g, 0), g)):
                labels.update(self.groups[group].vars)
            labels.update(own)
            result.append(Host(name=name, groups=tuple(sorted(groups)), labels=labels))
        return result

    def to_json(self) -> dict[str, MetaEntry | GroupEntry]:
        """The shape ``ansible-inventory --list`` prints (``_meta.hostvars`` and one entry per
        group with ``hosts``/``children``/``vars`` where not empty)."""
        hostvars = {name: dict(own) for name, own in self.host_vars.items() if own}
        out: dict[str, GroupEntry] = {}
        # ungrouped lists the hosts in no other group, as ansible-inventory does.
        members = self.memberships()
        for name, group in self.groups.items():
            entry: GroupEntry = {}
            hosts = group.hosts
            if name == "ungrouped":
                hosts = [h for h in self.host_vars if members.get(h) == {"all", "ungrouped"}]
            elif name == "all":
                hosts = []
            if hosts:
                entry["hosts"] = list(hosts)
            if group.children:
                entry["children"] = list(group.children)
            if group.vars:
                entry["vars"] = dict(group.vars)
            if entry or name in ("all", "ungrouped"):
                out[name] = entry
        all_entry = out.setdefault("all", {})
        if "ungrouped" not in all_entry.get("children", []):
            all_entry.setdefault("children", []).append("ungrouped")
        return {"_meta": {"hostvars": hostvars}, **out}


def _ancestors(group: str, parents: Mapping[str, set[str]]) -> set[str]:
    seen = {group}
    todo = [group]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


# -- host patterns --------------------------------------------------------------------------
_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")
MAX_RANGE = 100_000


def expand_pattern(pattern: str) -> list[str]:
    """``web[01:03].x`` -> web01.x, web02.x, web03.x; ranges are inclusive; leading zeros
    keep their width; ``[a:c]`` is alphabetic; several ranges multiply."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step_text = match.groups()
    step = int(step_text) if step_text else 1
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if start.isdigit() != end.isdigit():
        raise InventoryError(f"host range {match.group()} mixes letters and numbers")
    if start.isdigit():
        width = len(start) if start.startswith("0") else 0
        lo, hi = int(start), int(end)
        items = [str(i).zfill(width) for i in range(lo, hi + 1, max(step, 1))]
    else:
        items = [chr(c) for c in range(ord(start), ord(end) + 1, max(step, 1))]
    if not items:
        raise InventoryError(f"host range {match.group()} is empty (start after end)")
    if len(items) > MAX_RANGE:
        raise InventoryError(f"host range {match.group()} has over {MAX_RANGE} hosts")
    return [name for item in items for name in expand_pattern(head + item + tail)]


# -- YAML -----------------------------------------------------------------------------------
def parse_yaml(text: str, source: str = "<inventory>") -> Inventory:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        raise InventoryError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    inventory = Inventory()
    if data is None:
        return inventory
    if not isinstance(data, dict):
        raise InventoryError(
            f"{source}: an inventory is a mapping of group names (usually `all:`)",
            hint="all: {hosts: {web-01: {az: a}}, children: {db: {hosts: {db-01: {}}}}}",
        )
    for name, body in data.items():
        _yaml_group(inventory, str(name), body, source, parent=None)
    return inventory


_GROUP_KEYS = ("hosts", "children", "vars")


def _yaml_group(
    inventory: Inventory, name: str, body: Any, source: str, parent: str | None
) -> None:
    _check_group_name(name, source)
    inventory.group(name)
    if parent is not None:
        inventory.add_child(parent, name)
    if body is None:
        return
    if not isinstance(body, dict):
        raise InventoryError(
            f"{source}: group {name!r} must be a mapping with hosts/children/vars, "
            f"not {type(body).__name__}"
        )
    unknown = sorted(set(body) - set(_GROUP_KEYS))
    if unknown:
        raise InventoryError(
            f"{source}: group {name!r} has unknown key {unknown[0]!r}",
            hint="a group has `hosts`, `children` and `vars`; a host's variables go under "
            "its name inside `hosts`",
        )
    for key, value in _mapping(body.get("vars"), f"{source}: {name}.vars").items():
        inventory.groups[name].vars[str(key)] = value
    hosts = _mapping(body.get("hosts"), f"{source}: {name}.hosts")
    for pattern, variables in hosts.items():
        if variables is not None and not isinstance(variables, dict):
            raise InventoryError(f"{source}: host {pattern!r}: its variables must be a mapping")
        for host in expand_pattern(str(pattern)):
            target = name if name != "all" else "ungrouped"
            inventory.add_host(target, host, variables)
            if target != name:
                inventory.add_host(name, host)
    children = _mapping(body.get("children"), f"{source}: {name}.children")
    for child, child_body in children.items():
        _yaml_group(inventory, str(child), child_body, source, parent=name)


_GROUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _check_group_name(name: str, source: str) -> None:
    if not _GROUP_NAME.match(name):
        raise InventoryError(
            f"{source}: invalid group name {name!r}",
            hint="group names are letters, digits, '_', '-' and '.', starting with a letter",
        )


# -- INI ------------------------------------------------------------------------------------
_SECTION = re.compile(r"^\[([^\]:]+)(?::(\w+))?\]\s*$")


def parse_ini(text: str, source: str = "<inventory>") -> Inventory:
    inventory = Inventory()
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        where = f"{source}:{number}"
        section = _SECTION.match(line)
        if section is not None:
            group, kind = section.group(1).strip(), section.group(2) or "hosts"
            _check_group_name(group, where)
            if kind not in ("hosts", "vars", "children"):
                raise InventoryError(
                    f"{where}: unknown section kind :{kind}",
                    hint="sections are [group], [group:vars] and [group:children]",
                )
            inventory.group(group)
            continue
        if line.startswith("["):
            raise InventoryError(f"{where}: malformed section header {line!r}")
        if kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise InventoryError(f"{where}: expected key=value in [{group}:vars]")
            inventory.groups[group].vars[key.strip()] = value.strip()  # strings, as Ansible
        elif kind == "children":
            _check_group_name(line, where)
            inventory.add_child(group, line)
        else:
            _ini_host(inventory, group, line, where)
    return inventory


def _ini_host(inventory: Inventory, group: str, line: str, where: str) -> None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InventoryError(f"{where}: cannot split host line: {exc}") from None
    if not words:
        return
    name, rest = words[0], words[1:]
    variables: JsonDict = {}
    for word in rest:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InventoryError(
                f"{where}: expected key=value after the host name, got {word!r}",
                hint="host variables are written web-01 az=a port=2222",
            )
        variables[key] = _literal(value)
    for host in expand_pattern(name):
        inventory.add_host(group, host, variables)


def _literal(value: str) -> Any:
    """A value on an INI host line: a Python literal when it is one, else the string."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value
    if isinstance(parsed, str | int | float | bool | list | dict | tuple) or parsed is None:
        return list(parsed) if isinstance(parsed, tuple) else parsed
    return value  # pragma: no cover - complex numbers, bytes, sets


# -- JSON (ansible-inventory --list) ----------------------------------------------------------
def parse_json(text: str, source: str = "<inventory>") -> Inventory:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryError(
            f"{source}:{exc.lineno}:{exc.colno}: not valid inventory JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise InventoryError(f"{source}: inventory JSON must be an object of groups")
    inventory = Inventory()
    meta = _mapping(data.get("_meta"), f"{source}: _meta")
    hostvars = _mapping(meta.get("hostvars"), f"{source}: _meta.hostvars")
    for name, raw in data.items():
        if name == "_meta":
            continue
        _check_group_name(name, source)
        inventory.group(name)
        # the short form: a group is a list of its hosts
        short = {"hosts": raw} if isinstance(raw, list) else raw
        body = _mapping(short, f"{source}: group {name!r}")
        for host in _list(body.get("hosts"), f"{source}: {name}.hosts"):
            inventory.add_host(name, str(host))
        for child in _list(body.get("children"), f"{source}: {name}.children"):
            _check_group_name(str(child), source)
            inventory.add_child(name, str(child))
        inventory.groups[name].vars.update(_mapping(body.get("vars"), f"{source}: {name}.vars"))
    for host, variables in hostvars.items():
        own = _mapping(variables, f"{source}: _meta.hostvars.{host}")
        inventory.host_vars.setdefault(str(host), {}).update(own)
    return inventory


def _mapping(value: Any, what: str) -> JsonDict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryError(f"{what} must be a mapping, not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InventoryError(f"{what} must be a list, not {type(value).__name__}")
    return value


# -- inline ----------------------------------------------------------------------------------
def inline(entries: Iterable[str | Mapping[str, Any]]) -> Inventory:
    """``[web-01, {name: web-02, labels: {az: b}, groups: [web]}]``."""
    inventory = Inventory()
    for entry in entries:
        if isinstance(entry, str):
            for host in expand_pattern(entry):
                inventory.add_host("ungrouped", host)
            continue
        labels = dict(entry.get("labels") or entry.get("vars") or {})
        groups = list(entry.get("groups") or ["ungrouped"])
        for host in expand_pattern(str(entry["name"])):
            for group in groups:
                inventory.add_host(str(group), host, labels)
    return inventory


def detect_and_parse(text: str, source: str) -> Inventory:
    """By file name first (.yml/.yaml, .json, .ini/.cfg/none), else by content."""
    lower = source.lower()
    if lower.endswith((".yml", ".yaml")):
        return parse_yaml(text, source)
    if lower.endswith(".json"):
        return parse_json(text, source)
    if lower.endswith((".ini", ".cfg", ".hosts")):
        return parse_ini(text, source)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return parse_json(text, source)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if first.startswith("[") or ("=" in first and ":" not in first):
        return parse_ini(text, source)
    return parse_yaml(text, source)
