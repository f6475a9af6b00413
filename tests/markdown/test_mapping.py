"""Mapping rules, one document each (the examples in docs/markdown-import.md)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown
from phasegate.markdown.errors import MarkdownImportError


def plan(text: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(text).lstrip("\n"), "doc.md").data


def test_phase_headings_become_phases_in_order_with_metadata_and_owner() -> None:
    data = plan("""
        # Release
        ## Stage 1: Backup
        **Owner:** team-db
        **Window:** Sat 20:00–22:00
        ```bash
        pg_dump app > backup.sql
        ```
        ## Stage 2: Migrate
        ```sh
        ./migrate.sh
        ```
    """)
    first, second = data["phases"]
    assert (first["id"], first["owner"]) == ("stage-1-backup", "team-db")
    assert first["metadata"] == {"window": "Sat 20:00–22:00"}
    assert first["steps"] == [{"run": "pg_dump app > backup.sql"}]
    assert second["needs"] == ["stage-1-backup"]


def test_without_phase_headings_each_top_level_section_is_a_phase() -> None:
    text = """
        # Runbook
        Intro.
        ## Prepare
        ```
        $ git pull
        $ make build
        ```
        ## Notes
        Only prose here.
    """
    data = plan(text)
    assert [p["id"] for p in data["phases"]] == ["prepare"]
    report = import_markdown(textwrap.dedent(text).lstrip("\n"), "doc.md").report
    assert [(s["title"], s["line"]) for s in report["unmapped_sections"]] == [
        ("Runbook", 1),
        ("Notes", 8),
    ]
    assert data["phases"][0]["steps"] == [{"run": "git pull\nmake build"}]


def test_console_transcripts_lose_prompts_and_output() -> None:
    data = plan("""
        ## Step 1
        ```console
        $ kubectl get pods
        NAME    READY
        web-1   1/1
        $ echo done
        done
        ```
    """)
    assert data["phases"][0]["steps"][0]["run"] == "kubectl get pods\necho done"


def test_non_shell_fences_are_left_as_documentation() -> None:
    result = import_markdown(
        "## Phase 1\n```yaml\nkey: value\n```\n```python\nprint(1)\n```\n- [ ] ready\n"
    )
    assert "steps" not in result.data["phases"][0]
    assert [d["lang"] for d in result.report["data"]] == ["yaml", "python"]


def test_fences_under_verify_headings_or_lead_ins_become_checks() -> None:
    data = plan("""
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        ### Verify
        ```bash
        curl -fsS http://127.0.0.1/healthz
        ```
        Then check the version:
        ```bash
        ./version.sh
        ```
    """)
    phase = data["phases"][0]
    assert phase["steps"] == [{"run": "./deploy.sh"}]
    assert [g["command"] for g in phase["gates"]] == [
        "curl -fsS http://127.0.0.1/healthz",
        "./version.sh",
    ]


def test_rollback_sections_feed_the_enclosing_phase_or_the_plan() -> None:
    data = plan("""
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        ### Rollback
        ```bash
        ./undeploy.sh
        ```
        ## Phase 2: Switch
        ```bash
        ./switch.sh
        ```
        ## Emergency revert
        - `git revert HEAD --no-edit`
        - call the on-call lead
    """)
    first, second = data["phases"]
    assert first["rollback"] == [
        {"run": "./undeploy.sh"},
        {"name": "`git revert HEAD --no-edit`", "run": "git revert HEAD --no-edit"},
    ]
    assert "rollback" not in second


def test_task_lists_and_success_criteria_become_gates() -> None:
    data = plan("""
        ## Phase 1
        - [x] Backups verified
        - [ ] Run `make smoke-test` and confirm

        **Success Criteria:**
        - Error rate below 1%
    """)
    gates = data["phases"][0]["gates"]
    assert gates == [
        {"manual": "Backups verified", "checked": True},
        {"name": "Run `make smoke-test` and confirm", "command": "make smoke-test"},
        {"manual": "Error rate below 1%"},
    ]


def test_command_tables_become_checks_and_plain_command_tables_steps() -> None:
    data = plan("""
        ## Phase 1
        | Step | Command |
        |---|---|
        | build | `make build` |
        | prose row | talk to the team |
        ### Smoke tests
        | Check | Command | Expected |
        |---|---|---|
        | up | `curl -s http://127.0.0.1:8080/` | 200 OK |
    """)
    phase = data["phases"][0]
    assert phase["steps"] == [{"name": "build", "run": "make build"}]
    assert phase["gates"] == [
        {"name": "up", "http": "http://127.0.0.1:8080/", "expect": {"status": 200}}
    ]


def test_dependency_chains_between_phases_become_needs() -> None:
    result = import_markdown(
        textwrap.dedent("""
            Order: `db -> api -> web`.
            ## Task 1: web
            ```bash
            ./web.sh
            ```
            ## Task 2: db
            ```bash
            ./db.sh
            ```
            ## Task 3: api
            ```bash
            ./api.sh
            ```
        """)
    )
    needs = {p["id"]: p.get("needs", []) for p in result.data["phases"]}
    assert needs["task-3-api"] == ["task-2-db"]  # document order, and the chain agrees
    applied = [(d["from"], d["to"], d["applied"]) for d in result.report["dependencies"]]
    assert ("db", "api", True) in applied
    assert ("api", "web", False) in applied  # would contradict the document order


def test_comment_named_paragraphs_split_a_fence_into_steps() -> None:
    data = plan("""
        ## Phase 1
        ```bash
        # Back up
        cp -a site backup

        # Deploy
        rsync -a build/ site/
        ```
        ```bash
        # one step: the loop spans paragraphs
        for f in a b; do

          echo "$f"
        done
        ```
    """)
    steps = data["phases"][0]["steps"]
    assert [s.get("name") for s in steps] == [
        "Back up",
        "Deploy",
        "one step: the loop spans paragraphs",
    ]


def test_unknown_variables_are_declared_from_the_environment_and_prose_is_escaped() -> None:
    # a variable the document never sets is the reader's value: read from the environment,
    # and the plan does not run until it is given (markdown/unset.py)
    result = import_markdown("## Phase 1: ship ${VERSION}\n```bash\n./ship.sh ${VERSION}\n```\n")
    spec = result.data["vars"]["VERSION"]
    assert spec["env"] == "VERSION" and "ROLLOUT.md:3" in spec["needs_binding"]
    assert result.data["phases"][0]["name"] == "Phase 1: ship $${VERSION}"
    # one the document sets keeps the shell's behaviour: an empty default, no binding
    result = import_markdown(
        "## Phase 1\n```bash\nVERSION=1.2\n```\n```bash\n./ship.sh ${VERSION}\n```\n"
    )
    assert "needs_binding" not in result.data["vars"].get("VERSION", {})


def test_runme_attributes_name_steps_and_mark_checks() -> None:
    data = plan("""
        ## Phase 1
        ```sh {"name": "backup", "undo": "rm -rf backup"}
        cp -a site backup
        ```
        ```sh { name=probe check expect.exit=3 }
        ./probe
        ```
        ```bash { skip }
        ./only-an-illustration.sh
        ```
    """)
    phase = data["phases"][0]
    assert phase["steps"] == [
        {"name": "backup", "run": "cp -a site backup", "undo": "rm -rf backup"}
    ]
    assert phase["gates"] == [{"name": "probe", "command": "./probe", "expect": {"exit": 3}}]


def test_an_empty_document_is_refused_with_a_reason() -> None:
    # issue 11 §12: a plan that does nothing would "succeed"; the import says so instead
    for text in ("", "# Title\n\nJust prose.\n", "## Phase 1\n```yaml\na: 1\n```\n"):
        with pytest.raises(MarkdownImportError, match="nothing to run"):
            import_markdown(text, "empty.md")


def test_rollback_prose_is_kept_and_rollback_verification_becomes_verify_rollback() -> None:
    result = import_markdown(
        textwrap.dedent("""
            ## Phase 1: Deploy
            ```bash
            ./deploy.sh
            ```
            ## Rollback plan
            ### Trigger conditions
            - Error rate above 1%
            ### Steps
            1. Tell the on-call lead
            - [ ] Restore the snapshot
            ### Verify rollback
            ```bash
            ./health.sh
            ```
        """)
    )
    data = result.data
    assert data["metadata"]["rollback_checklist"] == [
        "Tell the on-call lead",
        "Restore the snapshot",
    ]
    assert data["verify_rollback"] == [{"command": "./health.sh"}]
    assert result.report["unmapped"] == []
    (trigger,) = data["triggers"]
    assert trigger["description"] == "Error rate above 1%"
    assert trigger["check"]["failure"] == "value > 0.01"
    assert trigger["action"] == "rollback" and "needs_binding" in trigger
    assert [s["title"] for s in result.report["rollback_sections"]] == ["Rollback plan"]


def test_a_heading_window_and_duration_become_metadata_and_the_id_stays_short() -> None:
    data = plan("""
        ## Day 0 — Prep & Freeze (Fri Nov 7, 20:00–22:00 ET) (2 hours)
        **Change risk:** None (prep only)
        ```bash
        ./freeze.sh
        ```
        ## Stage 3: Function Validation & Performance Verification of Everything Else
        ```bash
        ./x.sh
        ```
    """)
    first, second = data["phases"]
    assert first["id"] == "day-0-prep-freeze"
    assert first["metadata"] == {
        "window": "Fri Nov 7, 20:00–22:00 ET",
        "duration": "2 hours",
        "change_risk": "None (prep only)",
    }
    assert second["id"] == "stage-3-function-validation-performance"


def test_expected_comments_become_expectations_of_checks() -> None:
    result = import_markdown(
        textwrap.dedent("""
            ## Phase 1
            ```bash
            # Start
            ./start.sh
            # Expected: started

            # Health check
            curl -s http://127.0.0.1:6100/healthz | jq
            # Expected: {"status": "ok"}

            # Verify the timer
            systemctl list-timers | grep app
            # Expected: "Next: Tomorrow"

            # Verify the demo
            ./demo.sh
            # Expected output:
            # ✓ first call
            ```

            **Success Criteria:**
            - ✅ Timer shows the next run
        """)
    )
    phase = result.data["phases"][0]
    assert [s["name"] for s in phase["steps"]] == ["Start"]
    gates = phase["gates"]
    assert gates[0]["expect"] == {"exit": 0, "json": {"$.status": "ok"}}
    assert gates[1]["expect"] == {"exit": 0, "stdout_contains": "Next: Tomorrow"}
    assert gates[2]["expect"] == {"exit": 0}
    assert gates[3] == {"manual": "Timer shows the next run", "checked": True}
    ambiguous = [a["what"] for a in result.report["ambiguous"]]
    assert ambiguous == [
        "`# Expected: started` on a step is not checked",
        "expectation read as described output",
    ]


def test_a_fence_whose_paragraphs_share_shell_state_stays_one_step() -> None:
    data = plan("""
        ## Phase 1
        ```bash
        # Enter the app
        cd app
        VERSION=2

        # Build
        make build VERSION=$VERSION
        ```
    """)
    steps = data["phases"][0]["steps"]
    assert len(steps) == 1
    assert steps[0]["name"] == "Enter the app"
    assert "vars" not in data  # $VERSION is the script's own


def test_a_command_reference_table_is_not_a_procedure() -> None:
    result = import_markdown(
        textwrap.dedent("""
            ## Phase 1
            | Command | Purpose |
            |---|---|
            | `kubectl delete pod web-1` | restart a stuck pod |
            | Release Commander | on call |

            - [ ] ready
        """)
    )
    assert "steps" not in result.data["phases"][0]
    assert [u["what"] for u in result.report["unmapped"]] == ["command reference table"]


def test_emitted_yaml_keeps_emoji_readable_and_matches_the_pure_python_dumper() -> None:
    """libyaml writes entries without astral characters (faster); entries with emoji go
    through the pure-Python dumper, which does not escape them: same text either way."""
    import yaml

    from phasegate.markdown import emit

    plain = {"name": "Deploy — naïve ü", "run": "echo 'a'\nls -la"}
    emoji = {"name": "🚀 Deploy", "run": "echo ✅"}
    pure = lambda v: yaml.dump(  # noqa: E731
        v, Dumper=emit._Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    assert emit._dump(plain) == pure(plain)
    assert emit._dump(emoji) == pure(emoji)
    assert "🚀" in emit._dump(emoji)
