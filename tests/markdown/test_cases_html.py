"""HTML blocks, encodings and checks around steps, checked by running the import for real
(issue 11 §8, §11, §12).

Each test imports a document with the real CLI (a /work/shared/markdown-cases document or an
inline one of its class), runs the plan, and asserts the marker files and the journal's order.
"""

from __future__ import annotations

from tests.conftest import CLI
from tests.markdown.cases_harness import Ran, import_case


def _keys(ran: Ran) -> list[tuple[str, str, str]]:
    return [(i["phase"], i["kind"], i["status"]) for i in ran.items()]


def test_15_html_headings_pre_tables_and_task_items_are_read_like_markdown(cli: CLI) -> None:
    case = import_case(cli, "15")
    assert case.returncode == 0, case.stderr
    # <h2> headings are the phases; <pre><code> their step; the <table> row a check; the
    # task item (Markdown inside a <div>) a manual gate
    assert [p["id"] for p in case.plan["phases"]] == ["phase-1-deploy", "phase-2-verify"]
    ran = case.run()
    assert ran.returncode == 4, ran.stderr  # the unticked task item waits for a human
    assert ran.markers == {"deployed"}
    assert _keys(ran) == [
        ("phase-1-deploy", "step", "succeeded"),
        ("phase-2-verify", "gate", "passed"),  # the <table> check saw the marker
        ("phase-2-verify", "gate", "awaiting_approval"),
    ]
    assert ran.items()[1]["name"].startswith("Deployed")
    assert ran.items()[2]["name"] == "Release notes published"
    done = case.approve(ran)
    assert done.returncode == 0, done.stderr


HTML_DOC = """\
<h1 align="center">Payments <img src="logo.png"></h1>

<h2>Phase 1: Backup</h2>

<ol>
<li>Take the snapshot:
<pre lang="bash">
mkdir -p "$RUN_DIR/snap"
echo 1 > "$RUN_DIR/order.txt"
</pre>
</li>
<li><input type="checkbox" checked> Snapshot listed in the console</li>
</ol>

<details>
<summary>Rollback</summary>
<pre><code class="language-bash">touch "$RUN_DIR/ROLLED-BACK"
</code></pre>
</details>

<h2>Phase 2: Deploy</h2>

<pre><code class="language-bash">echo 2 >> "$RUN_DIR/order.txt"
touch "$RUN_DIR/deployed"
</code></pre>

<h3>Verify</h3>

<table>
<tr><td><b>Check</b></td><td><b>Command</b></td><td><b>Expected</b></td></tr>
<tr><td>marker</td><td><code>test -f "$RUN_DIR/deployed"</code></td><td>Exit 0</td></tr>
</table>

<script>console.log("analytics")</script>

<pre><code class="language-python">print("documentation, not run")
</code></pre>
"""


def test_html_runbook_runs_in_order_and_its_details_rollback_only_on_rollback(cli: CLI) -> None:
    case = import_case(cli, "html.md", text=HTML_DOC)
    assert case.returncode == 0, case.stderr
    assert case.plan["name"] == "payments"
    first, second = case.plan["phases"]
    assert (first["id"], second["id"]) == ("phase-1-backup", "phase-2-deploy")
    assert first["rollback"] == [{"run": 'touch "$RUN_DIR/ROLLED-BACK"'}]
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"snap", "order.txt", "deployed"}
    assert _keys(ran) == [
        ("phase-1-backup", "step", "succeeded"),
        ("phase-1-backup", "gate", "passed"),  # the ticked <input type="checkbox">
        ("phase-2-deploy", "step", "succeeded"),
        ("phase-2-deploy", "gate", "passed"),  # the unmarked table's first row is its header
    ]
    run_dir = ran.status["vars"]["RUN_DIR"]
    from pathlib import Path

    assert Path(run_dir, "order.txt").read_text().split() == ["1", "2"]
    back = case.rollback(ran)
    assert "ROLLED-BACK" in back.markers
    # what was not read is reported with its Markdown line, never dropped silently
    skipped = {(s["line"], s["what"]) for s in case.report["skipped"]}
    assert skipped == {(1, "<img>"), (34, "<script>")}
    [python] = [d for d in case.report["data"] if d["lang"] == "python"]
    assert python["line"] == 35  # the line before the code: a fence's opening line


def test_skipped_html_is_listed_in_the_human_report(cli: CLI) -> None:
    doc = cli.cwd / "skip.md"
    doc.write_text(HTML_DOC, encoding="utf-8")
    result = cli("import", str(doc), "-o", str(cli.cwd / "skip.yaml"))
    assert result.returncode == 0, result.stderr
    assert "2 HTML elements skipped, not read:" in result.stderr
    assert "line 34: <script>" in result.stderr


def test_utf16_and_utf8_bom_documents_import_and_run(cli: CLI) -> None:
    text = '# Déploiement\n\n## Phase 1: Deploy\n\n```bash\ntouch "$RUN_DIR/déployé"\n```\n'
    for name, data in (
        ("utf16.md", text.encode("utf-16")),  # with its byte-order mark
        ("utf16be.md", b"\xfe\xff" + text.encode("utf-16-be")),
        ("bom8.md", b"\xef\xbb\xbf" + text.encode("utf-8")),
    ):
        (cli.cwd / name).write_bytes(data)
        case = import_case(cli, cli.cwd / name)
        assert case.returncode == 0, (name, case.stderr)
        assert case.plan["description"] == "Déploiement"
        ran = case.run()
        assert ran.returncode == 0, ran.stderr
        assert ran.markers == {"déployé"}


def test_undecodable_bytes_are_an_error_naming_file_line_and_encoding(cli: CLI) -> None:
    (cli.cwd / "latin.md").write_bytes(b"# Deploy\n\n## Step 1\n\ncaf\xe9\n")
    result = cli("import", "latin.md")
    assert result.returncode == 2
    assert "latin.md:5: is not UTF-8 text: byte(s) e9 at offset" in result.stderr
    assert "Traceback" not in result.stderr
    (cli.cwd / "broken16.md").write_bytes(b"\xff\xfe#\x00 \x00\x00\xd8x\x00")  # lone surrogate
    result = cli("validate", "broken16.md")
    assert result.returncode == 2
    assert "broken16.md:1: is not UTF-16 (it starts with a UTF-16 byte-order mark) text" in (
        result.stderr
    )


def test_validate_of_a_markdown_document_cites_its_lines_not_the_yaml(cli: CLI) -> None:
    doc = (
        "# Release\n\n"  # 1-2
        "## Phase 1: Deploy\n\n"  # 3-4
        '```bash\ntouch "$RUN_DIR/deployed"\n```\n\n'  # 5-8
        "Some words.\n\n"  # 9-10
        "## Phase 2: Announce\n"  # 11: a phase with nothing in it
    )
    (cli.cwd / "rel.md").write_text(doc, encoding="utf-8")
    result = cli("validate", "rel.md")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: rel.md:11: phases[1]: phase 'phase-2-announce' has no steps and no gates"
    ]


# -- §8: checks stay in order with the steps around them --------------------------------------


def test_16_the_pre_check_guards_the_deploy_and_the_verification_follows_it(cli: CLI) -> None:
    case = import_case(cli, "16")
    assert case.returncode == 0, case.stderr
    [step] = case.plan["phases"][0]["steps"]
    assert step["pre_gates"] == [{"command": 'test -d "$RUN_DIR"'}]
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"api-deployed"}
    assert [(i["key"], i["status"]) for i in ran.items()] == [
        ("deploy-the-api/gate:before-step-1", "passed"),
        ("deploy-the-api/step-1", "succeeded"),
        ("deploy-the-api/gate:gate-1", "passed"),
    ]
    started = [i["started_at"] or i["finished_at"] for i in ran.items()]
    assert started == sorted(started)  # the journal's times agree with its order


INTERLEAVED = """\
# Release

## Deploy

Before you start, confirm the staging marker is absent:

```bash
test ! -f "$RUN_DIR/db"
```

Migrate the database:

```bash
echo db >> "$RUN_DIR/log.txt"; touch "$RUN_DIR/db"
```

Check the migration before touching the app:

```bash
test -f "$RUN_DIR/db" && ! grep -q app "$RUN_DIR/log.txt"
```

Deploy the app:

```bash
echo app >> "$RUN_DIR/log.txt"
```

Afterwards, verify:

```bash
grep -q app "$RUN_DIR/log.txt"
```
"""


def test_checks_between_steps_run_between_them_in_document_order(cli: CLI) -> None:
    case = import_case(cli, "interleaved.md", text=INTERLEAVED)
    assert case.returncode == 0, case.stderr
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert [(i["kind"], i["status"]) for i in ran.items()] == [
        ("gate", "passed"),  # the marker is absent before the migration
        ("step", "succeeded"),
        ("gate", "passed"),  # the migration is checked before the app deploys
        ("step", "succeeded"),
        ("gate", "passed"),
    ]
    from pathlib import Path

    # the middle check passed, so it ran after the migration and before the app (a check
    # only reads: one that wrote its own log line would be a step, mutation.py)
    log = Path(ran.status["vars"]["RUN_DIR"], "log.txt").read_text().split()
    assert log == ["db", "app"]


def test_a_failing_pre_check_stops_the_step_it_guards(cli: CLI) -> None:
    doc = INTERLEAVED.replace('test ! -f "$RUN_DIR/db"', "false")
    case = import_case(cli, "blocked.md", text=doc)
    ran = case.run()
    assert ran.returncode == 1, ran.stderr  # failed before anything ran: nothing to undo
    assert ran.markers == set()
    assert ran.items()[0]["kind"] == "gate" and ran.items()[0]["status"] == "failed"


def test_success_criteria_written_before_the_commands_still_judge_them(cli: CLI) -> None:
    doc = (
        "# Release\n\n## Phase 1: Deploy\n\n**Success criteria:**\n\n"
        '- [x] deployed marker present: `test -f "$RUN_DIR/deployed"`\n\n'
        '```bash\ntouch "$RUN_DIR/deployed"\n```\n'
    )
    case = import_case(cli, "criteria.md", text=doc)
    phase = case.plan["phases"][0]
    assert "pre_gates" not in phase["steps"][0]
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert [(i["kind"], i["status"]) for i in ran.items()] == [
        ("step", "succeeded"),
        ("gate", "passed"),
    ]


def test_a_pre_gate_of_a_step_whose_when_is_false_is_skipped_with_it(cli: CLI) -> None:
    plan = cli.cwd / "when.yaml"
    plan.write_text(
        "version: 1\nname: w\nvars: {GO: 'no'}\nphases:\n"
        "  - id: p\n    steps:\n"
        '      - run: touch "$RUN_DIR/a"\n'
        "        when: vars.GO == 'yes'\n"
        "        pre_gates: [{command: 'false'}]\n"
        '      - run: touch "$RUN_DIR/b"\n'
        '        pre_gates: [{file: "${RUN_DIR}/b", expect: {exists: false}}]\n',
        encoding="utf-8",
    )
    result = cli("run", str(plan), "--no-output", input="")
    assert result.returncode == 0, result.stderr
    import json

    status = json.loads(cli("status", "last", "--json").stdout)
    items = [(i["key"], i["status"]) for i in status["phases"][0]["items"]]
    assert items == [
        ("p/gate:before-step-1", "skipped"),
        ("p/step-1", "skipped"),
        ("p/gate:before-step-2", "passed"),
        ("p/step-2", "succeeded"),
    ]
    shown = cli("plan", str(plan))
    assert shown.returncode == 0, shown.stderr
    lines = [
        ln.strip() for ln in shown.stdout.splitlines() if ln.strip().startswith(("gate", "step"))
    ]
    assert lines[0].startswith("gate") and lines[1].startswith("step step-1")


def test_seed_000_runs_its_pre_rollout_checklist_before_its_deployment_steps() -> None:
    from phasegate.markdown import import_markdown_file
    from tests import shared

    seed = shared.SHARED / "seeds" / "000_8baaebd0ebb1cf69.txt"
    if not seed.is_file():
        import pytest

        pytest.skip("seed 000 not found")
    phases = import_markdown_file(seed).data["phases"]
    ids = [p["id"] for p in phases]
    checklist, deploy = ids.index("pre-rollout-checklist"), ids.index("deployment-steps")
    assert checklist < deploy
    assert phases[deploy]["needs"] == [ids[deploy - 1]]  # phases run one after the other
    names = [s["name"] for s in phases[deploy]["steps"]]
    assert names == [
        "Step 1: Archive templates",
        "Step 7: Create spec pack",
        "Step 8: Run all gates",
    ]
