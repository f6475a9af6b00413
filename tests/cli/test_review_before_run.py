"""Review before the first run of a Markdown document (issue 11 §13), with the real CLI.

`phasegate run DOC.md` shows what the import does and asks on a terminal; without one it runs
only with --yes or after `phasegate review DOC.md` recorded a review of exactly these bytes.
Every test looks at a marker file the document's step creates: refused means nothing ran.
"""

from __future__ import annotations

import json
import os
import pty
import pwd
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import CLI

DOCUMENT = """\
# Release

## Phase 1: Deploy

```bash
touch {marker}
```
"""


def _document(cli: CLI) -> tuple[Path, Path]:
    marker = cli.cwd / "deployed"
    doc = cli.cwd / "DOC.md"
    doc.write_text(DOCUMENT.format(marker=marker), encoding="utf-8")
    return doc, marker


def _runs(cli: CLI) -> list[object]:
    shown = cli("history", "--json")
    if shown.returncode != 0 or not shown.stdout.strip():
        return []
    data = json.loads(shown.stdout)
    return list(data if isinstance(data, list) else data.get("runs", []))


def test_without_a_terminal_an_unreviewed_document_is_refused_and_nothing_runs(cli: CLI) -> None:
    doc, marker = _document(cli)
    refused = cli("run", str(doc), input="")
    assert refused.returncode == 2
    assert "DOC.md: not run" in refused.stderr
    assert "no terminal to ask on" in refused.stderr
    assert "phasegate review DOC.md" in refused.stderr and "--yes" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not marker.exists()
    assert _runs(cli) == []


def test_yes_runs_it_without_asking(cli: CLI) -> None:
    doc, marker = _document(cli)
    ran = cli("run", "--yes", str(doc), input="")
    assert ran.returncode == 0, ran.stderr
    assert marker.exists()
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    # The audit trail says nobody reviewed the import: in run.started and as a warning.
    import hashlib

    sha = hashlib.sha256(doc.read_bytes()).hexdigest()
    review = status["run"]["review"]
    assert (review["how"], review["sha256"]) == ("unreviewed", sha)
    assert review["by"].startswith(pwd.getpwuid(os.getuid()).pw_name + "@")
    warned = [w["message"] for w in status["warnings"]]
    assert any("Markdown import nobody reviewed (run --yes)" in w for w in warned), warned
    assert "nobody reviewed" in ran.stdout + ran.stderr
    report = cli("report", "last", "--format", "md")
    assert report.returncode == 0, report.stderr
    assert "| Import review | **none**: run with --yes by " in report.stdout


def test_a_recorded_review_of_the_exact_document_lets_it_run_and_a_changed_byte_does_not(
    cli: CLI,
) -> None:
    doc, marker = _document(cli)
    reviewed = cli("review", str(doc), input="")
    assert reviewed.returncode == 0, reviewed.stderr
    # the summary shows the phase, the step's command with its Markdown line
    assert "phase phase-1-deploy (line 3)" in reviewed.stdout
    assert f"line 6     touch {marker}" in reviewed.stdout
    assert "review recorded" in reviewed.stdout
    # the record: keyed by sha256, who and when, private to its user
    import hashlib

    sha = hashlib.sha256(doc.read_bytes()).hexdigest()
    record = cli.state_dir / "reviews" / f"{sha}.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.parent.stat().st_mode) == 0o700
    data = json.loads(record.read_text(encoding="utf-8"))
    login = pwd.getpwuid(os.getuid()).pw_name
    assert data["sha256"] == sha and data["reviewer"].startswith(f"{login}@")
    assert data["document"] == str(doc.resolve()) and data["how"] == "review"
    assert data["at"].endswith("+00:00")
    assert cli("review", "--check", str(doc)).returncode == 0

    ran = cli("run", str(doc), input="")
    assert ran.returncode == 0, ran.stderr
    assert "reviewed by" in ran.stderr and marker.exists()
    # The run's journal names the review it ran under; no "unreviewed" warning.
    status = cli.status()
    assert status["run"]["review"] == {
        "how": "review",
        "sha256": sha,
        "by": data["reviewer"],
        "at": data["at"],
    }
    assert not any("nobody reviewed" in w["message"] for w in status["warnings"])

    marker.unlink()
    doc.write_bytes(doc.read_bytes().replace(b"# Release", b"# Releasf"))  # one byte
    refused = cli("run", str(doc), input="")
    assert refused.returncode == 2
    assert "changed since" in refused.stderr and "needs review again" in refused.stderr
    assert not marker.exists()
    assert cli("review", "--check", str(doc)).returncode == 1


def test_a_yaml_plan_runs_as_before_without_a_terminal(cli: CLI) -> None:
    marker = cli.cwd / "yaml-ran"
    plan = cli.cwd / "plan.yaml"
    plan.write_text(
        f"version: 1\nname: p\nphases:\n  - id: a\n    steps:\n      - run: touch {marker}\n",
        encoding="utf-8",
    )
    ran = cli("run", str(plan), input="")
    assert ran.returncode == 0, ran.stderr
    assert marker.exists()


def _on_a_terminal(cli: CLI, args: list[str], answer: str) -> tuple[int, str]:
    """Run phasegate with stdin/stdout/stderr on a pseudo-terminal; answer the prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "phasegate", *args],
        cwd=cli.cwd,
        env=cli.env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"as shown? [y/N]" in seen:
                os.write(master, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    assert answered, seen.decode(errors="replace")
    return code, seen.decode(errors="replace")


def test_on_a_terminal_no_runs_nothing_and_yes_runs_it(cli: CLI) -> None:
    doc, marker = _document(cli)
    code, shown = _on_a_terminal(cli, ["run", str(doc), "--no-output"], "n")
    assert code == 2
    assert "phase phase-1-deploy (line 3)" in shown and f"touch {marker}" in shown
    assert "not run: the import was not confirmed" in shown
    assert not marker.exists()
    assert _runs(cli) == []

    code, shown = _on_a_terminal(cli, ["run", str(doc), "--no-output"], "y")
    assert code == 0, shown
    assert marker.exists()
    # the confirmation on a terminal is a review of this exact document: recorded
    assert cli("review", "--check", str(doc)).returncode == 0


def test_the_summary_shows_steps_decisions_rollback_what_is_left_out_and_what_needs_review(
    cli: CLI,
) -> None:
    doc = cli.cwd / "DOC.md"
    doc.write_text(
        "# Release\n"  # 1
        "\n"
        "## Phase 1: Deploy\n"  # 3
        "\n"
        "```bash\n"
        "./deploy.sh\n"  # 6
        "kubectl get pods -w\n"  # 7
        "```\n"
        "\n"
        "**If the deploy fails:**\n"  # 10
        "\n"
        "```bash\n"
        "./undeploy.sh\n"  # 13
        "```\n"
        "\n"
        "## Phase 2: Cut over\n"  # 16
        "\n"
        "### Option A: automated\n"  # 18
        "\n"
        "```bash\n"
        "./cutover.sh\n"  # 21
        "```\n"
        "\n"
        "### Option B: manual\n"  # 24
        "\n"
        "```bash\n"
        "./manual-cutover.sh\n"  # 27
        "```\n"
        "\n"
        "## Troubleshooting\n"  # 30
        "\n"
        "```bash\n"
        "./reset-everything.sh\n"  # 33
        "```\n"
        "\n"
        "```yaml\n"  # 36
        "replicas: 3\n"
        "```\n",
        encoding="utf-8",
    )
    shown = cli("review", str(doc))
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    lines = out.splitlines()

    def line_with(*words: str) -> str:
        found = [ln for ln in lines if all(w in ln for w in words)]
        assert found, (words, out)
        return found[0]

    assert "line 6" in line_with("step", "./deploy.sh")
    assert "line 13" in line_with("rollback", "./undeploy.sh")
    assert "only if" in line_with("line 21", "./cutover.sh")
    assert "decision, line 18" in out and "only the chosen option runs" in out
    left_out = line_with("left out, not run")
    assert "30" in left_out and "36" in left_out  # troubleshooting and the yaml block
    assert "reset-everything" not in "\n".join(ln for ln in lines if ln.startswith("    step"))
    # the never-ending watch runs beside the phase as a monitor, never as a blocking step
    assert "line 7" in line_with("monitor", "kubectl get pods -w")
