"""A runbook that orders other runbooks gets a proposed program in the import report
(markdown/programs.py): children in the document's order chained by `needs`, `run_plan` the
child runbook's imported plan, a `ready:` gate from a "score >= N" sentence; conservative (no
proposal for reference links, code-holding sections, an install order); never applied to the
imported plan; and the proposal validates once the children are imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.markdown import import_markdown, import_markdown_file
from phasegate.markdown.draft import Draft
from phasegate.markdown.errors import MarkdownImportError
from phasegate.markdown.programs import propose
from phasegate.plan.loader import load_plan
from tests import shared

STACK = textwrap.dedent(
    """
    # Release of the integration stack

    1. Roll out the events model (see [events-model.md](runbooks/events-model.md)).
    2. Then deploy the shadow mode: [shadow](runbooks/shadow-mode.md)
    3. Cut over: follow runbooks/cutover.md
    4. Check the dashboard.

    Each child starts only with `state.yaml.dor.score >= 8` and `dor.status: pass`.

    ## Verify

    ```bash
    curl -fsS http://localhost:8080/healthz
    ```
    """
).lstrip()

CHILD = "# {name}\n\n## Deploy\n\n```bash\necho {name}\n```\n"


def _proposals(text: str) -> list[dict[str, Any]]:
    return list(import_markdown(text, "stack.md").report.get("programs") or [])


def test_a_numbered_list_of_runbooks_is_proposed_as_a_chained_program() -> None:
    [proposal] = _proposals(STACK)
    assert proposal["line"] == 3 and proposal["how"] == "numbered list of runbooks"
    assert [(c["line"], c["phase"], c["runbook"]) for c in proposal["children"]] == [
        (3, "events-model", "runbooks/events-model.md"),
        (4, "shadow-mode", "runbooks/shadow-mode.md"),
        (5, "cutover", "runbooks/cutover.md"),
    ]
    program = yaml.safe_load(proposal["yaml"])
    assert program["name"] == "release-of-the-integration-stack-program"
    assert [(p["id"], p.get("needs"), p["run_plan"]) for p in program["phases"]] == [
        ("events-model", None, "runbooks/events-model.plan.yaml"),
        ("shadow-mode", ["events-model"], "runbooks/shadow-mode.plan.yaml"),
        ("cutover", ["shadow-mode"], "runbooks/cutover.plan.yaml"),
    ]
    # "dor.score >= 8" and "dor.status: pass": a readiness gate per child, to review
    assert proposal["ready_from_line"] == 8
    assert program["phases"][1]["ready"] == {
        "evidence": {"file": "shadow-mode/state.yaml"},
        "verdict": "doc.dor.status",
        "score": "doc.dor.score",
        "min_score": 8,
    }
    assert proposal["import_children"][0] == (
        "phasegate import runbooks/events-model.md -o runbooks/events-model.plan.yaml"
    )


def test_the_imported_plan_is_unchanged_by_the_proposal() -> None:
    result = import_markdown(STACK, "stack.md")
    without = import_markdown(STACK.replace(".md", ".txt"), "stack.md")  # no runbook links
    assert "programs" not in without.report
    assert result.data["phases"] == without.data["phases"]
    assert not any("run_plan" in p for p in result.data["phases"])


def test_the_proposal_validates_once_the_children_are_imported(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    [proposal] = _proposals(STACK)
    for child in proposal["children"]:
        (tmp_path / child["runbook"]).write_text(CHILD.format(name=child["phase"]))
    # The commands the report gives, done through the importer's own API.
    for command in proposal["import_children"]:
        _, _, source, _, target = command.split()
        result = import_markdown_file(tmp_path / source)
        (tmp_path / target).write_text(result.yaml_text)
    (tmp_path / "program.yaml").write_text(proposal["yaml"])
    plan = load_plan(tmp_path / "program.yaml").plan
    assert [p.id for p in plan.phases] == ["events-model", "shadow-mode", "cutover"]
    assert plan.phase("cutover").needs == ["shadow-mode"]
    assert plan.phase("events-model").ready is not None
    assert plan.phase("events-model").ready.min_score == 8


def test_sections_that_each_link_a_runbook() -> None:
    doc = textwrap.dedent(
        """
        # Payments migration

        ## Stage 1: the ledger

        Roll out the ledger first with [the ledger runbook](ledger.md).

        ## Stage 2: the API

        Deploy the API with [api.md](svc/api.md) once the ledger is healthy.

        ## Stage 3: verify

        ```bash
        ./smoke.sh
        ```
        """
    ).lstrip()
    [proposal] = _proposals(doc)
    assert proposal["how"] == "sections each linking a runbook"
    assert [(c["line"], c["phase"]) for c in proposal["children"]] == [(3, "ledger"), (7, "api")]
    assert yaml.safe_load(proposal["yaml"])["phases"][1]["needs"] == ["ledger"]
    assert "ready" not in proposal["yaml"]  # no score sentence: no readiness gate proposed


@pytest.mark.parametrize(
    "doc",
    [
        # steps with their own commands, one reference link: a runbook, not a program
        "# Deploy\n\n1. Deploy the app (see [troubleshooting.md](troubleshooting.md))\n"
        "2. Roll out the config (see [FAQ.md](FAQ.md))\n\n```bash\n./deploy.sh\n```\n",
        # one runbook linked twice is not two children
        "# Deploy\n\n1. Deploy A with [a.md](a.md)\n2. Roll out A again ([a](docs/a.md))\n"
        "\n```bash\ntrue\n```\n",
        # links without a rollout verb (a reading list)
        "# Notes\n\n1. [a.md](a.md) the design\n2. [b.md](b.md) the review\n\n```bash\ntrue\n```\n",
        # an install order inside one script (corpus doc 34), not child rollouts
        "# Install\n\n1. Run `bash install.sh` (install in dependency order: namespaces → MinIO "
        "→ Loki → Prometheus)\n\n```bash\nbash install.sh\n```\n",
        # sections that hold code of their own run it: they are phases, not children
        "# Two\n\n## Roll out A\n\nSee [a.md](a.md).\n\n```bash\n./a.sh\n```\n\n"
        "## Roll out B\n\nSee [b.md](b.md).\n\n```bash\n./b.sh\n```\n",
        # links in a code fence are not read
        "# F\n\n```text\n1. Roll out [a.md](a.md)\n2. Roll out [b.md](b.md)\n```\n\n"
        "```bash\ntrue\n```\n",
    ],
)
def test_no_proposal_where_the_document_is_not_a_program(doc: str) -> None:
    draft = Draft(source="x.md", title="t")
    propose(draft, doc)
    assert "programs" not in draft.report


def test_a_document_that_only_orders_runbooks_says_what_to_do() -> None:
    # (A numbered list of them is a procedure a person follows: imported as a pause, with the
    # program proposed beside it. Sections of prose only are nothing to run.)
    doc = "# Train\n\n## Roll out A\n\nDeploy [a.md](a.md).\n\n## Roll out B\n\nThen [b](b.md).\n"
    with pytest.raises(MarkdownImportError) as caught:
        import_markdown(doc, "train.md")
    message = caught.value.message
    assert "nothing to run of its own" in message and "line 3: a -> b" in message
    assert "phasegate import a.md -o a.plan.yaml; phasegate import b.md -o b.plan.yaml" in message
    program = yaml.safe_load(message.split("(review it first):\n", 1)[1])
    assert [(p["id"], p.get("needs")) for p in program["phases"]] == [("a", None), ("b", ["a"])]


SEED = shared.SHARED / "seeds" / "004_6c781fd5fe637f60.txt"


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed 004 not found at {SEED}")
def test_seed_004_child_order_and_dor_score() -> None:
    [proposal] = import_markdown_file(SEED).report["programs"]
    assert proposal["how"] == "stated order of child rollouts"
    phases = yaml.safe_load(proposal["yaml"])["phases"]
    assert [p["id"] for p in phases] == [
        "integration-events-model",
        "integrator-shadow-mode",
        "integrator-cutover",
        "integration-blocked-flow",
    ]
    assert [p.get("needs") for p in phases[1:]] == [[p["id"]] for p in phases[:-1]]
    assert phases[2]["ready"]["score"] == "doc.dor.score"
    assert phases[2]["ready"]["verdict"] == "doc.dor.status"
    assert phases[2]["ready"]["min_score"] == 8


_lines = st.sampled_from(
    ["# T", "## Roll out A", "## Deploy B", "1. Roll out [a](a.md)", "2. Deploy b.md",
     "3. Run [c.md](x/c.md)", "   1. nested [d.md](d.md)", "```bash", "```", "echo hi",
     "children: a -> b -> c", "score >= 7", "see [readme.md](README.md)", "text", ""]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_lines, min_size=1, max_size=25))
def test_every_proposal_is_a_chain_of_distinct_children(lines: list[str]) -> None:
    draft = Draft(source="x.md", title="t")
    propose(draft, "\n".join(lines) + "\n")
    for proposal in draft.report.get("programs") or []:
        phases = yaml.safe_load(proposal["yaml"])["phases"]
        ids = [p["id"] for p in phases]
        assert len(ids) >= 2 and len(set(ids)) == len(ids)
        assert [p.get("needs") for p in phases] == [None, *([i] for i in ids[:-1])]
        assert all(c["line"] >= 1 for c in proposal["children"])


def test_the_cli_says_so(tmp_path: Path) -> None:
    doc = tmp_path / "stack.md"
    doc.write_text(STACK)
    done = subprocess.run(
        [sys.executable, "-m", "phasegate", "import", str(doc), "-o", str(tmp_path / "p.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "line 3: a program of other runbooks (numbered list of runbooks): "
        "events-model -> shadow-mode -> cutover; not applied" in done.stderr
    )
