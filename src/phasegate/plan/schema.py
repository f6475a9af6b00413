"""The JSON Schema of plan files, with every registered check kind."""

from __future__ import annotations

import copy
from typing import Any

from phasegate.plan.model import Plan
from phasegate.registry import check_kinds


def plan_json_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema()
    defs = schema.setdefault("$defs", {})
    variants = []
    for name, model in sorted(check_kinds().items()):
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        for key, value in sub.pop("$defs", {}).items():
            defs.setdefault(key, value)
        title = f"{model.__name__}"
        sub["required"] = sorted({*sub.get("required", []), name})
        defs[title] = sub
        variants.append({"$ref": f"#/$defs/{title}"})
    defs["CheckSpec"] = {"anyOf": variants, "description": "one key names the check kind"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "phasegate plan (version 1)"
    return copy.deepcopy(schema)
