"""``<!-- phasegate: … -->`` directives and fence attributes: one meaning for each key."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import MarkdownImportError, import_markdown
from phasegate.markdown.directives import Annotation, from_fence_attrs, read_comment


def _import(text: str) -> Any:
    return import_markdown(textwrap.dedent(text), "ROLLOUT.md")


def _phase(result: Any, index: int = 0) -> dict[str, Any]:
    phase: dict[str, Any] = result.data["phases"][index]
    return phase


def test_skip_leaves_the_next_block_out() -> None:
    result = _import(
        """\
        ## Deploy
        <!-- phasegate: skip -->
        ```bash
        ./dangerous.sh
        ```
        ```bash
        ./deploy.sh
        ```
        """
    )
    assert [s["run"] for s in _phase(result)["steps"]] == ["./deploy.sh"]
    assert any(d["why"] == "skipped by directive" for d in result.report["data"])


def test_ignore_is_skip_and_applies_to_tables_too() -> None:
    result = _import(
        """\
        ## Verify
        <!-- phasegate: {ignore: true} -->
        | Check | Command | Expected |
        |---|---|---|
        | up | `curl -fsS http://x` | 200 OK |
        ```bash
        ./deploy.sh
        ```
        """
    )
    # the table is skipped; `./deploy.sh` under "Verify" changes things: a step, never a
    # check (mutation.py)
    assert "gates" not in _phase(result)
    assert _phase(result)["steps"] == [{"run": "./deploy.sh"}]
    assert any(d["why"] == "skipped by directive" for d in result.report["data"])


def test_check_name_and_expect_apply_to_the_next_fence() -> None:
    result = _import(
        """\
        ## Deploy
        <!-- phasegate: {check: true, name: health, expect: {exit: 3}} -->
        ```bash
        ./probe.sh
        ```
        """
    )
    assert _phase(result)["gates"] == [
        {"name": "health", "command": "./probe.sh", "expect": {"exit": 3}}
    ]


def test_step_undo_and_name_under_a_verify_heading() -> None:
    result = _import(
        """\
        ## Verify
        <!-- phasegate: {step: true, name: backup, undo: "./undeploy.sh"} -->
        ```bash
        # Check things
        cp -a a b
        ```
        """
    )
    assert _phase(result)["steps"] == [
        {"name": "backup", "run": "# Check things\ncp -a a b", "undo": "./undeploy.sh"}
    ]


def test_rollback_makes_the_next_block_rollback() -> None:
    result = _import(
        """\
        ## Deploy
        ```bash
        ./deploy.sh
        ```
        <!-- phasegate: {rollback: true} -->
        ```bash
        ./undeploy.sh
        ```
        <!-- phasegate: rollback -->
        - Run `./restore.sh now`
        """
    )
    phase = _phase(result)
    assert [s["run"] for s in phase["steps"]] == ["./deploy.sh"]
    assert [r["run"] for r in phase["rollback"]] == ["./undeploy.sh", "./restore.sh now"]


def test_check_turns_a_list_item_into_a_gate() -> None:
    result = _import(
        """\
        ## Deploy
        <!-- phasegate: check -->
        - Dashboards are green
        """
    )
    assert _phase(result)["gates"] == [{"manual": "Dashboards are green"}]


def test_phase_and_needs_before_or_under_a_heading() -> None:
    result = _import(
        """\
        ## Backup
        ```bash
        ./backup.sh
        ```
        <!-- phasegate: {phase: deploy-api, needs: [backup]} -->
        ## Deploy
        ```bash
        ./deploy.sh
        ```
        ## Smoke
        <!-- phasegate: {needs: deploy-api} -->
        ```bash
        ./smoke.sh
        ```
        """
    )
    ids = [p["id"] for p in result.data["phases"]]
    assert ids == ["backup", "deploy-api", "smoke"]
    assert _phase(result, 1)["needs"] == ["backup"]
    assert _phase(result, 2)["needs"] == ["deploy-api"]
    via = [d for d in result.report["dependencies"] if d["via"] == "directive"]
    assert [d["applied"] for d in via] == [True, True]


@pytest.mark.parametrize(
    ("comment", "says"),
    [
        ("<!-- phasegate: {chekc: true} -->", "unknown key 'chekc'"),
        ("<!-- phasegate: {check: [} -->", "not valid YAML"),
        ("<!-- phasegate: {check: maybe} -->", "takes true or false"),
        ("<!-- phasegate: {expect: {exit: zero}} -->", "expect"),
        ("<!-- phasegate: {expect: {stdout: x}} -->", "expect"),
        ("<!-- phasegate: {phase: 'no spaces'} -->", "not a phase id"),
        ("<!-- phasegate: -->", "expected a key"),
        ("<!-- phasegate: frobnicate -->", "unknown key 'frobnicate'"),
    ],
)
def test_bad_directives_name_file_line_and_the_valid_keys(comment: str, says: str) -> None:
    with pytest.raises(MarkdownImportError) as caught:
        _import(f"## Deploy\n\n{comment}\n```bash\n./deploy.sh\n```\n")
    assert caught.value.message.startswith("ROLLOUT.md:3: phasegate directive:")
    assert says in caught.value.message
    assert "valid keys: name" in str(caught.value.hint)


def test_a_did_you_mean_hint() -> None:
    with pytest.raises(MarkdownImportError) as caught:
        _import("## A\n<!-- phasegate: {chekc: true} -->\n")
    assert "did you mean 'check'?" in str(caught.value.hint)


def test_other_comments_are_only_annotations() -> None:
    result = _import("## A\n<!-- TODO: phasegate later -->\n```bash\n./a.sh\n```\n")
    assert len(result.report["annotations"]) == 1
    assert _phase(result)["steps"] == [{"run": "./a.sh"}]


def test_fence_attributes_and_directives_mean_the_same() -> None:
    from_attrs = from_fence_attrs(
        {"name": "backup", "undo": "./u.sh", "check": "true", "expect.exit": "0", "skip": "false"}
    )
    from_comment = read_comment(
        '<!-- phasegate: {name: backup, undo: "./u.sh", check: true, expect: {exit: 0}} -->',
        "R.md",
        1,
    )
    assert from_attrs == from_comment
    assert from_fence_attrs({"ignore": ""}) == Annotation(skip=True)
    assert from_fence_attrs({"expect.exit": "zero", "interactive": "false"}) == Annotation()


def test_fence_attribute_expect_still_works() -> None:
    result = _import("## A\n```bash { check expect.exit=2 }\n./probe.sh\n```\n")
    assert _phase(result)["gates"] == [{"command": "./probe.sh", "expect": {"exit": 2}}]
