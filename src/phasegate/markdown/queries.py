"""``sql`` and ``promql`` fences that verify something -> ``sql`` / ``metric`` checks.

A query under a verify/check heading (or introduced by such a sentence) is a check: SQL passes
when it returns rows, or none where the text says so ("should return 0 rows"); PromQL needs a
threshold stated beside it ("should stay below 1%"). The database or Prometheus is read from a
variable the plan marks ``needs_binding`` until the environment provides it.
"""

from __future__ import annotations

import re
from typing import Any

from phasegate.markdown import thresholds
from phasegate.markdown.draft import Draft

DATABASE_VAR = "DATABASE_URL"
PROMETHEUS_VAR = "PROMETHEUS_URL"
_NONE = re.compile(
    r"(?:returns?|should (?:return|be)|expect(?:ed)?:?)\s*(?:0|no|zero|nothing|empty)\b"
    r"(?:\s*rows?)?|\bno rows\b|\bempty\b",
    re.I,
)
_SOME = re.compile(
    r"(?:returns?|should return|expect(?:ed)?:?)\s*(?:at least one|some|rows)\b", re.I
)


def sql_check(draft: Draft, query: str, context: str) -> dict[str, Any]:
    draft.vars.setdefault(
        DATABASE_VAR,
        {
            "env": DATABASE_VAR,
            "needs_binding": "the database the document's SQL checks query (a SQLAlchemy URL "
            "or a SQLite file)",
            "description": "the database imported SQL checks query",
        },
    )
    check: dict[str, Any] = {"sql": query.strip(), "database": "${" + DATABASE_VAR + "}"}
    if _NONE.search(context) or _NONE.search(_comments(query)):
        check["expect"] = {"empty": True}
    elif _SOME.search(context):
        check["expect"] = {"empty": False}
    return check


def promql_check(draft: Draft, query: str, context: str) -> dict[str, Any] | None:
    found = thresholds.parse(context) or thresholds.parse(_comments(query))
    if found is None:
        return None
    body = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    # "should stay below 1%": the stated bound is what passing looks like.
    return {
        "metric": body.strip(),
        "provider": prometheus_provider(draft),
        "success": found.condition(),
    }


def prometheus_provider(draft: Draft) -> dict[str, Any]:
    """The provider of every imported metric check and trigger: Prometheus at
    ``${PROMETHEUS_URL}``, a variable declared once in the plan."""
    draft.vars.setdefault(
        PROMETHEUS_VAR,
        {
            "env": PROMETHEUS_VAR,
            "default": "http://127.0.0.1:9090",
            "description": "the Prometheus that imported metric checks and triggers query",
        },
    )
    return {"prometheus": {"url": "${" + PROMETHEUS_VAR + "}"}}


def _comments(query: str) -> str:
    return " ".join(
        line.strip().lstrip("-#/ ").strip()
        for line in query.splitlines()
        if line.strip().startswith(("--", "#", "//"))
    )
