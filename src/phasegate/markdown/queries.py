"""``sql`` and ``promql`` fences that verify something -> ``sql`` / ``metric`` checks.

A query under a verify/check heading (or introduced by such a sentence) is a check: SQL passes
when it returns rows, or none where the text says so ("should return 0 rows"); PromQL needs a
threshold stated beside it ("should stay below 1%"). The database or Prometheus is read from a
variable the plan marks ``needs_binding`` until the environment provides it.
"""

from __future__ import annotations

import re

from phasegate.markdown import thresholds
from phasegate.markdown.draft import Draft
from phasegate.markdown.nodes import CheckNode, Provider

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


def sql_check(draft: Draft, query: str, context: str, line: int = 0) -> CheckNode:
    if DATABASE_VAR not in draft.vars:  # the plan says what it cannot know: which database
        draft.note("needs_binding", line=line, what=f"${DATABASE_VAR}: the database to query")
    draft.vars.setdefault(
        DATABASE_VAR,
        {
            "env": DATABASE_VAR,
            "needs_binding": "the database the document's SQL checks query (a SQLAlchemy URL "
            "or a SQLite file)",
            "description": "the database imported SQL checks query",
        },
    )
    check: CheckNode = {"sql": query.strip(), "database": "${" + DATABASE_VAR + "}"}
    if _NONE.search(context) or _NONE.search(_comments(query)):
        check["expect"] = {"empty": True}
    elif _SOME.search(context):
        check["expect"] = {"empty": False}
    return check


def promql_check(draft: Draft, query: str, context: str) -> CheckNode | None:
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


def prometheus_provider(draft: Draft) -> Provider:
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


_EXPECTATION = re.compile(r"^\s*(?:--|#|//)\s*(?:should|expected?|returns?|result)\b", re.I)


def statements(text: str) -> list[tuple[str, int]]:
    """A SQL fence cut into statements (sqlparse), each with its line offset in the fence.

    Database drivers run one statement at a time, so a fence of two queries is two checks.
    A comment that states an expectation ("-- Should return 0 rows") belongs to the statement
    before it; other comments name the statement after them.
    """
    import sqlparse  # lazy: only documents with SQL fences pay for it

    pieces: list[tuple[list[str], int]] = []  # (lines, offset)
    cursor = 0
    for piece in sqlparse.split(text):
        start = text.find(piece, cursor)
        start = cursor if start < 0 else start
        cursor = start + len(piece)
        offset = text.count("\n", 0, start)
        lines = piece.splitlines()
        moved: list[str] = []
        while lines and (not lines[0].strip() or _EXPECTATION.match(lines[0])):
            moved.append(lines.pop(0))
            offset += 1
        if pieces and moved:
            pieces[-1][0].extend(m for m in moved if m.strip())
        if any(ln.strip() and not ln.strip().startswith(("--", "#", "//")) for ln in lines):
            pieces.append((lines, offset))
        elif pieces:
            pieces[-1][0].extend(ln for ln in lines if ln.strip())
    return [("\n".join(lines).strip(), offset) for lines, offset in pieces]
