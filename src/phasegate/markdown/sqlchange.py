"""A SQL fence the run cannot send to a client (blind round 10, issue 11 §12).

``ALTER TABLE … ADD CONSTRAINT``, ``UPDATE …``, ``DROP …`` in a ``sql`` fence with no client
session the plan runs: dropped as "documentation", the plan would skip the change and still
claim "executable as written". A change written in SQL is a step a person does in their
client (a manual step in its place, listed under ``by_hand``, so the plan is not executable as
written); a read-only query (``SELECT``, ``EXPLAIN``, ``SHOW``) stays documentation.
"""

from __future__ import annotations

import re

from phasegate.markdown import sqlsession

_CHANGE = re.compile(
    r"^\s*(?:ALTER|UPDATE|INSERT|DELETE|DROP|CREATE|TRUNCATE|GRANT|REVOKE|MERGE|REINDEX|"
    r"VACUUM|CLUSTER|RENAME|COPY|REFRESH|COMMENT\s+ON|SET\s+ROLE|CALL|DO)\b",
    re.I | re.M,
)


def changes(lang: str, text: str) -> bool:
    """Whether a SQL fence holds a statement that changes the database."""
    return lang.lower() in sqlsession.SQL_LANGS and bool(_CHANGE.search(text))
