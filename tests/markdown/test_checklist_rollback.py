"""A document whose way back is only a person's checklist (device prompts, console clicks,
prose) gives a rollback that asks that person (mapping.py ``_checklist_only_rollback``):
before, the plan had no rollback action, so a failed run "rolled back" doing nothing and
reported it (exit 1, ``rolled_back``) while the document's rollback was never done."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import CLI
from tests.markdown.cases_harness import import_case
from tests.markdown.plan_walk import imported

WAYS_BACK = {
    "console": """\
        1. Navigate to the Feature Flag Manager
        2. Find the feature and click "Rollback"
        3. Confirm the action
        """,
    "device prompt": """\
        If traffic drops at any point:

        ```
        spine-2# configure replace checkpoint:pre-change
        ```
        """,
    "prose list": """\
        - Restore traffic to blue immediately.
        - Re-run the smoke test to confirm recovery.
        """,
}


def _doc(way_back: str) -> str:
    return textwrap.dedent(
        """\
        # Upgrade

        ## 1. Deploy

        ```bash
        echo deployed >> log.txt
        ```

        ## 2. Check

        ```bash
        test -f healthy-marker
        ```

        ## Rollback

        """
    ) + textwrap.dedent(way_back)


@pytest.mark.parametrize("way_back", list(WAYS_BACK.values()), ids=list(WAYS_BACK))
def test_a_checklist_rollback_is_a_decision_a_person_answers(way_back: str) -> None:
    data = imported(_doc(way_back)).data
    decisions = [p["rollback_decision"] for p in data["phases"] if "rollback_decision" in p]
    assert len(decisions) == 1, data["phases"]
    # nothing of the checklist runs as a command on the way back
    actions = [a for p in data["phases"] for a in p.get("rollback", []) if a.get("run")]
    assert all("configure replace" not in str(a["run"]) for a in actions), actions
    assert not any(
        "configure replace" in str(s.get("run", ""))
        for p in data["phases"]
        for s in p.get("steps", [])
    ), "the device's rollback never runs forward"


def test_a_failed_run_pauses_for_the_checklist_instead_of_rolling_back_nothing(cli: CLI) -> None:
    imp = import_case(cli, "doc.md", _doc(WAYS_BACK["prose list"]))
    assert imp.returncode == 0, imp.stderr
    ran = imp.run("--yes")
    assert ran.returncode == 4, ran.stdout + ran.stderr  # paused, not "rolled back"
    assert "paused" in ran.stdout, ran.stdout
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed"]


def test_a_rollback_with_commands_gets_no_extra_question() -> None:
    doc = _doc("```bash\necho undone >> log.txt\n```\n")
    data = imported(doc).data
    assert not any("rollback_decision" in p for p in data["phases"]), data["phases"]
