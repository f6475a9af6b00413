"""How far a lead-in reaches (issue 11 §1): an optional part ("Optionally:") ends at the next
lead-in, heading or the end of its list; a rollback bullet inside it stays a rollback."""

from __future__ import annotations

import textwrap
from typing import Any

from phasegate.markdown import import_markdown


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _steps(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["run"]: s for p in data["phases"] for s in p.get("steps", []) if "run" in s}


def _rollback(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["run"]: a for p in data["phases"] for a in p.get("rollback", [])}


_SWITCHOVER = """\
    # Cutover

    ## Switch over

    ```bash
    ./switchover.sh
    ```

    Optionally:

    - **Force mode** (allow a small lag):

        ```bash
        ./switchover.sh --force
        ```

    - **Rollback** after switchover (if you need to move traffic back):

        ```bash
        ./switchback.sh
        ```

    AFTER
    """


def test_a_rollback_bullet_after_an_optional_one_stays_a_rollback() -> None:
    data = _plan(_SWITCHOVER.replace("AFTER", ""))
    steps = _steps(data)
    assert "when" not in steps["./switchover.sh"]
    forced = steps["./switchover.sh --force"]
    assert "DECISION_" in forced["when"]  # optional: only when chosen
    assert "undo" not in forced
    rollback = _rollback(data)
    # the way back is a rollback action of the phase, not bound to the optional force mode
    assert list(rollback) == ["./switchback.sh"]
    assert "when" not in rollback["./switchback.sh"]
    assert "./switchback.sh" not in steps


def test_an_optional_part_ends_with_its_list() -> None:
    doc = _SWITCHOVER.replace(
        "AFTER", "The switchover is done.\n\n    ```bash\n    ./announce.sh\n    ```\n"
    )
    steps = _steps(_plan(doc))
    assert "DECISION_" in steps["./switchover.sh --force"]["when"]
    assert "when" not in steps["./announce.sh"]  # after the list: the document's path again


def test_inside_an_option_the_way_back_keeps_the_options_condition() -> None:
    doc = """\
        # Upgrade

        ## Upgrade

        ### In-place upgrade method

        ```bash
        ./in-place.sh
        ```

        ### Blue-green upgrade method

        ```bash
        ./switchover.sh
        ```

        Optionally:

        - **Force mode**:

            ```bash
            ./switchover.sh --force
            ```

        - **Rollback** after switchover:

            ```bash
            ./switchback.sh
            ```
        """
    data = _plan(doc)
    steps = _steps(data)
    blue_green = steps["./switchover.sh"]["when"]
    assert steps["./switchover.sh --force"]["when"].startswith(f"({blue_green})")
    # only the option's condition: it runs on rollback whenever blue-green was chosen
    assert _rollback(data)["./switchback.sh"]["when"] == blue_green
