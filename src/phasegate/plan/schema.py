"""The JSON Schema of plan files, with every registered check kind."""

from __future__ import annotations

import copy
from typing import Any

from phasegate.notify.base import notifier_kind, notifier_names
from phasegate.plan.model import Plan
from phasegate.registry import ROUTERS_GROUP, check_kinds, names, router_kind

# A URN, not a URL: phasegate has no web site to serve the schema from, and a URL that does not
# resolve would send editors looking for it. Editors are pointed at a file written by
# `phasegate schema` instead (docs/plan-reference.md, "Editor set-up"). The plan format's
# version is part of the id; a plan `version: 2` would get a new one.
SCHEMA_ID = "urn:phasegate:plan:v1"


def plan_json_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema()
    defs = schema.setdefault("$defs", {})
    defs["CheckSpec"] = {
        "anyOf": _variants(defs, check_kinds()),
        "description": "one key names the check kind",
    }
    routers = {name: router_kind(name) for name in names(ROUTERS_GROUP)}
    defs["RouterSpec"] = {
        "anyOf": _variants(defs, routers),
        "description": "one key names the router kind",
    }
    wrapped = []  # a channel is `{slack: {options}}`: the kind's options sit under its name
    for name in notifier_names():
        model = notifier_kind(name)
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        for key, value in sub.pop("$defs", {}).items():
            defs.setdefault(key, value)
        defs[model.__name__] = sub
        wrapped.append(
            {
                "type": "object",
                "properties": {name: {"$ref": f"#/$defs/{model.__name__}"}},
                "required": [name],
                "additionalProperties": False,
            }
        )
    defs["Notifier"] = {"anyOf": wrapped, "description": "one key names the notifier kind"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "phasegate plan (version 1)"
    return copy.deepcopy(schema)


def _variants(defs: dict[str, Any], models: dict[str, Any]) -> list[dict[str, str]]:
    """One schema per registered kind, each requiring the key that names it."""
    variants = []
    for name, model in sorted(models.items()):
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        for key, value in sub.pop("$defs", {}).items():
            defs.setdefault(key, value)
        title = f"{model.__name__}"
        sub["required"] = sorted({*sub.get("required", []), name})
        defs[title] = sub
        variants.append({"$ref": f"#/$defs/{title}"})
    return variants
