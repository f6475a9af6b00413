"""Timed checkpoints (issue 11 §7, §9): "Hour 4: stability" is checked at hour 4, in order,
each after a wait to its offset, not all at once with the phase's gates at its end."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasegate.markdown import checkpoints, import_markdown
from phasegate.markdown.traffic import MAX_SLEEP


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("Hour 1: Intensive, System health", 3600),
        ("hour 24", 86400),
        ("T+30min: error rate", 1800),
        ("at T + 4h: stability", 14400),
        ("After 2 hours: compare dashboards", 7200),
        ("after 1 day – review", 86400),
        # no time offset: an ordinary manual check
        ("Hourly checks are run by the on-call", None),
        ("After the deploy, check the logs", None),
        ("Hours of operation are posted", None),
        ("After 2 hours of work we stop", None),
    ],
)
def test_offset_reads_the_time_a_checkpoint_names(text: str, seconds: float | None) -> None:
    assert checkpoints.offset(text) == seconds


@given(st.integers(min_value=0, max_value=200), st.sampled_from(["h", "min", "hours", "m"]))
def test_offsets_scale_by_their_unit(amount: int, unit: str) -> None:
    scale = 60 if unit.startswith("m") else 3600
    assert checkpoints.offset(f"T+{amount}{unit}: look") == amount * scale


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def test_a_checkpoint_table_waits_to_each_offset_in_order() -> None:
    data = _plan(
        """\
        # Go live

        ## Phase 1: Deploy

        ```bash
        ./deploy.sh
        ```

        ## Phase 2: Watch

        | Hour | Check | Pass/Fail |
        |------|-------|-----------|
        | 0 | Smoke test | ⬜ |
        | 1 | System health | ⬜ |
        | 4 | Error logs | ⬜ |
        | 24 | GO-LIVE APPROVAL | ⬜ |

        - [ ] Zero critical errors
        """
    )
    watch = data["phases"][1]
    steps = watch["steps"]
    # the smoke test at hour 0 first, then a wait the run holds (1 h), then the check
    assert steps[0] == {
        "name": "Check by hand, then approve: Hour 0: Smoke test",
        "pause": "approve",
    }
    assert steps[1]["pause"] == "3600s" and MAX_SLEEP >= 3600
    assert steps[2]["pause"] == "approve" and "Hour 1: System health" in steps[2]["name"]
    # 3 h and 20 h: longer than a run sleeps, the person says when the time has come
    assert [s["pause"] for s in steps[3:]] == ["approve", "approve"]
    assert "At 4 h (3 h after" in steps[3]["name"] and "Hour 4: Error logs" in steps[3]["name"]
    assert "At 24 h (20 h after" in steps[4]["name"] and "GO-LIVE APPROVAL" in steps[4]["name"]
    # no checkpoint is left for the end of the phase; the untimed criterion still is
    assert [g["manual"] for g in watch["gates"]] == ["Zero critical errors"]


def test_checkpoints_in_a_list_after_the_deploy_come_after_it() -> None:
    data = _plan(
        """\
        # Release

        ## Rollout

        ```bash
        ./deploy.sh
        ```

        - [ ] T+15min: error rate below 1%
        - [ ] T+45min: latency normal
        """
    )
    steps = data["phases"][0]["steps"]
    assert [s.get("run") or s["pause"] for s in steps] == [
        "./deploy.sh",
        "900s",
        "approve",
        "1800s",
        "approve",
    ]
