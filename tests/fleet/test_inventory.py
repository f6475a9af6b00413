"""Inventory parsers: Ansible YAML, INI and `ansible-inventory --list` JSON read into one model.

The property test builds a random inventory (a tree of groups, hosts in several groups, host
and group variables), writes it in all three formats and checks each parser gives the groups
and labels a direct computation of Ansible's rules gives.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.fleet.inventory import (
    InventoryError,
    detect_and_parse,
    expand_pattern,
    inline,
    parse_ini,
    parse_json,
    parse_yaml,
)

YAML_INV = """
all:
  vars: {env: prod, tier: any}
  hosts:
    bastion: {ansible_port: 2200}
  children:
    web:
      vars: {tier: web, az: a}
      hosts:
        web[01:03]:
        web04: {az: b}
      children:
        canary:
          vars: {tier: canary}
          hosts:
            web01:
    db:
      hosts:
        db-[a:b]: {os: debian}
"""

INI_INV = """
bastion ansible_port=2200

[web]
web[01:03]
web04 az=b

[web:vars]
tier=web
az=a

[canary]
web01

[web:children]
canary

[canary:vars]
tier=canary

[db]
db-[a:b] os=debian

[all:vars]
env=prod
tier=any
"""


def by_name(hosts: list[Any]) -> dict[str, Any]:
    return {h.name: h for h in hosts}


@pytest.mark.parametrize("parse,text", [(parse_yaml, YAML_INV), (parse_ini, INI_INV)])
def test_groups_children_and_precedence(parse: Any, text: str) -> None:
    hosts = by_name(parse(text).hosts())
    assert list(hosts) == ["bastion", "web01", "web02", "web03", "web04", "db-a", "db-b"]
    # children: web01 is in canary, hence in web too; a host in no group is ungrouped.
    assert hosts["web01"].groups == ("all", "canary", "web")
    assert hosts["bastion"].groups == ("all", "ungrouped")
    # deeper group wins over its parent, host vars over every group.
    assert hosts["web01"].labels["tier"] == "canary"
    assert hosts["web02"].labels["tier"] == "web"
    assert hosts["web04"].labels["az"] == "b"
    assert hosts["web02"].labels["az"] == "a"
    assert hosts["db-a"].labels == {"env": "prod", "tier": "any", "os": "debian"}
    # INI host-line values are literals (an int), YAML gives ints natively.
    assert hosts["bastion"].labels["ansible_port"] == 2200


def test_ini_group_vars_stay_strings_host_vars_are_literals() -> None:
    inv = parse_ini("[g]\nh1 n=5 flag=True name=x\n[g:vars]\nn=7\n")
    h1 = inv.hosts()[0]
    assert h1.labels == {"n": 5, "flag": True, "name": "x"}
    assert inv.groups["g"].vars == {"n": "7"}


def test_to_json_roundtrips_through_the_json_parser() -> None:
    inv = parse_yaml(YAML_INV)
    listed = inv.to_json()
    assert listed["web"]["children"] == ["canary"]
    assert listed["_meta"]["hostvars"]["web04"] == {"az": "b"}
    assert listed["ungrouped"]["hosts"] == ["bastion"]
    again = parse_json(json.dumps(listed))
    assert [(h.name, h.groups, dict(h.labels)) for h in again.hosts()] == [
        (h.name, h.groups, dict(h.labels)) for h in inv.hosts()
    ] or {h.name: (h.groups, dict(h.labels)) for h in again.hosts()} == {
        h.name: (h.groups, dict(h.labels)) for h in inv.hosts()
    }


def test_ranges() -> None:
    assert expand_pattern("web[08:11].x") == ["web08.x", "web09.x", "web10.x", "web11.x"]
    assert expand_pattern("h[1:10:4]") == ["h1", "h5", "h9"]
    assert expand_pattern("r[a:b]-[1:2]") == ["ra-1", "ra-2", "rb-1", "rb-2"]
    with pytest.raises(InventoryError, match="empty"):
        expand_pattern("h[5:1]")


def test_errors_name_the_place() -> None:
    with pytest.raises(InventoryError, match=r"inv.ini:2: expected key=value"):
        parse_ini("[g]\nh1 novalue\n", "inv.ini")
    with pytest.raises(InventoryError, match=r"inv.yml:.*unknown key 'host'"):
        parse_yaml("all:\n  host: {a: 1}\n", "inv.yml")
    with pytest.raises(InventoryError, match=r"inv.yml:3:1: not valid YAML"):
        parse_yaml("all:\n  hosts: [\n", "inv.yml")
    with pytest.raises(InventoryError, match="cycle"):
        parse_ini("[a:children]\nb\n[b:children]\na\n").hosts()


def test_inline_and_detection() -> None:
    inv = inline(["h[1:2]", {"name": "h3", "labels": {"az": "c"}, "groups": ["web"]}])
    hosts = by_name(inv.hosts())
    assert hosts["h3"].groups == ("all", "web")
    assert hosts["h3"].labels == {"az": "c"}
    assert hosts["h1"].groups == ("all", "ungrouped")
    assert detect_and_parse(INI_INV, "hosts").hosts()[1].name == "web01"
    assert detect_and_parse(YAML_INV, "inventory").hosts()[1].name == "web01"


# -- property: three formats, one model ------------------------------------------------------
NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f"])
VALUES = st.sampled_from(["x", "y", "z1"])


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, Any]:
    groups = draw(st.lists(NAMES, unique=True, max_size=5))
    # children only point to groups later in the list: no cycles.
    children = {
        g: draw(st.lists(st.sampled_from(groups[i + 1 :]), unique=True))
        if i + 1 < len(groups)
        else []
        for i, g in enumerate(groups)
    }
    group_vars = {
        g: draw(st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), VALUES, max_size=2))
        for g in groups
    }
    hosts = draw(st.lists(st.sampled_from([f"h{i}" for i in range(8)]), unique=True, max_size=6))
    member = {
        h: draw(st.lists(st.sampled_from(groups), unique=True)) if groups else [] for h in hosts
    }
    host_vars = {
        h: draw(
            st.dictionaries(st.sampled_from(["k1", "k3", "port"]), st.integers(0, 99), max_size=2)
        )
        for h in hosts
    }
    return {
        "groups": groups,
        "children": children,
        "group_vars": group_vars,
        "hosts": hosts,
        "member": member,
        "host_vars": host_vars,
    }


def oracle(spec: dict[str, Any]) -> dict[str, tuple[tuple[str, ...], dict[str, Any]]]:
    parents: dict[str, set[str]] = {}
    for g, kids in spec["children"].items():
        for k in kids:
            parents.setdefault(k, set()).add(g)

    def ancestors(g: str) -> set[str]:
        out = {g}
        for p in parents.get(g, ()):
            out |= ancestors(p)
        return out

    def depth(g: str) -> int:
        return 1 + max((depth(p) for p in parents.get(g, ())), default=0)

    result = {}
    for h in spec["hosts"]:
        groups: set[str] = set()
        for g in spec["member"][h]:
            groups |= ancestors(g)
        labels: dict[str, Any] = {}
        for g in sorted(groups, key=lambda g: (depth(g), g)):
            labels.update(spec["group_vars"][g])
        labels.update(spec["host_vars"][h])
        groups.add("all")
        if groups == {"all"}:
            groups.add("ungrouped")
        result[h] = (tuple(sorted(groups)), labels)
    return result


def to_yaml(spec: dict[str, Any]) -> str:
    children: dict[str, Any] = {}
    top: dict[str, Any] = {"all": {"hosts": {}, "children": children}}
    for g in spec["groups"]:
        children[g] = {
            "hosts": {
                h: spec["host_vars"][h] or None for h in spec["hosts"] if g in spec["member"][h]
            },
            "vars": spec["group_vars"][g],
            "children": dict.fromkeys(spec["children"][g]),
        }
    for h in spec["hosts"]:
        if not spec["member"][h]:
            top["all"]["hosts"][h] = spec["host_vars"][h] or None
        elif spec["host_vars"][h]:  # host vars written once, under its first group
            pass
    return yaml.safe_dump(top, sort_keys=False)


def to_ini(spec: dict[str, Any]) -> str:
    lines = []
    for h in spec["hosts"]:
        if not spec["member"][h]:
            lines.append(f"{h} " + " ".join(f"{k}={v}" for k, v in spec["host_vars"][h].items()))
    for g in spec["groups"]:
        lines.append(f"[{g}]")
        for h in spec["hosts"]:
            if g in spec["member"][h]:
                lines.append(
                    f"{h} " + " ".join(f"{k}={v}" for k, v in spec["host_vars"][h].items())
                )
        lines.append(f"[{g}:vars]")
        lines += [f"{k}={v}" for k, v in spec["group_vars"][g].items()]
        lines.append(f"[{g}:children]")
        lines += spec["children"][g]
    return "\n".join(lines) + "\n"


def to_json(spec: dict[str, Any]) -> str:
    out: dict[str, Any] = {
        "_meta": {"hostvars": {h: v for h, v in spec["host_vars"].items() if v}},
        "all": {"children": ["ungrouped", *spec["groups"]]},
        "ungrouped": {"hosts": [h for h in spec["hosts"] if not spec["member"][h]]},
    }
    for g in spec["groups"]:
        out[g] = {
            "hosts": [h for h in spec["hosts"] if g in spec["member"][h]],
            "vars": spec["group_vars"][g],
            "children": spec["children"][g],
        }
    return json.dumps(out)


def model(inv: Any) -> dict[str, tuple[tuple[str, ...], dict[str, Any]]]:
    return {h.name: (h.groups, dict(h.labels)) for h in inv.hosts()}


@settings(max_examples=150, deadline=None)
@given(inventories())
def test_three_formats_agree_with_the_rules(spec: dict[str, Any]) -> None:
    expected = oracle(spec)
    assert model(parse_yaml(to_yaml(spec))) == expected
    assert model(parse_ini(to_ini(spec))) == expected
    assert model(parse_json(to_json(spec))) == expected
    # ansible-inventory --list output of our own model reads back the same.
    assert model(parse_json(json.dumps(parse_ini(to_ini(spec)).to_json()))) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_parsers_never_crash_on_garbage(text: str) -> None:
    for parse in (parse_yaml, parse_ini, parse_json):
        with contextlib.suppress(InventoryError):
            parse(text).hosts()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["a", "hosts", "web[1:2]"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["all", "hosts", "vars", "children", "_meta", "hostvars", "g"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSONISH)
def test_wrong_shapes_are_errors_not_crashes(value: Any) -> None:
    for parse, text in ((parse_yaml, yaml.safe_dump(value)), (parse_json, json.dumps(value))):
        with contextlib.suppress(InventoryError):
            parse(text).hosts()
