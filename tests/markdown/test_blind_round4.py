"""Rules from blind round 4 (issue 11): four corpus documents nobody had labelled, read by
hand after import; each class found became a general rule (tests/markdown/labelled/ holds the
documents' expectations)."""

from __future__ import annotations

import textwrap
from typing import Any

from phasegate.markdown import import_markdown, placeholders


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def test_words_in_angle_brackets_and_generic_names_are_placeholders() -> None:
    found = [f.text for _, _, f in placeholders.find("Set-X -EmailAddress <admin email address>")]
    assert found == ["<admin email address>"]
    assert [f.text for _, _, f in placeholders.find("project-name start")] == ["project-name"]
    # a redirection, an option name, a variable and an assignment are none
    for text in ("sort <in.txt >out.txt", "helm install --service-name x", "app_name=api"):
        assert placeholders.find(text) == [], text


def test_a_team_assignment_column_is_no_sign_off() -> None:
    doc = """\
        # Tracker

        ## Parallel Execution Matrix

        | Phase | Task Group | Dependencies | Est. Duration | Team Assignment |
        |-------|------------|--------------|---------------|-----------------|
        | 1.1 | Codebase Analysis | None | 3 days | Backend Team |
        | 1.2 | Requirements | None | 3 days | Product Team |

        ## Sign-off

        | Role | Name | Signature |
        |------|------|-----------|
        | SRE lead | | |
        | Product owner | | |
        """
    steps = [s for p in _plan(doc)["phases"] for s in p.get("steps", [])]
    approvals = [s for s in steps if "Sign-off by" in s.get("name", "")]
    assert [s["name"] for s in approvals] == ["Sign-off by SRE lead, Product owner"]
    assert approvals[0]["pause"]["approvers"] == 2
