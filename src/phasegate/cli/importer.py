"""The ``import`` verb: a Markdown rollout document -> a reviewed, committed YAML plan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from phasegate.cli.common import emit_json, json_option
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.markdown.entries import ImportReport


@click.command("import")
@click.argument("document", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the plan here (default: standard output).",
)
@json_option
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 2) when anything executable is ambiguous or of low confidence.",
)
def import_cmd(document: str, output: str | None, as_json: bool, strict: bool) -> None:
    """Turn the Markdown rollout DOCUMENT into a plan (YAML) and report what became what.

    Headings naming a phase/stage/step/day/week/wave/task become phases; shell code blocks
    become steps (checks under verify/check/smoke/health headings); rollback sections become
    rollback; checklists and "Test | Command | Expected" tables become gates. The report (on
    standard error, or --json) lists everything with line numbers, and the prose left for a
    human. Every mapping has the rule that made it and a confidence (high/medium/low, see
    docs/markdown-import.md); "executable as written" only when nothing is left to bind, no
    low-confidence mapping would run, and the plan runs something. Exit 0 when imported, 2
    when the document cannot be imported (or has nothing to run). See
    docs/markdown-import.md.
    """
    from phasegate.markdown import MarkdownImportError, import_markdown_file

    result = import_markdown_file(document)
    report = result.report
    low = [r for r in report.get("review") or [] if r.get("confidence") == "low"]
    if strict and (report["ambiguous"] or low):
        lines = [f"  line {a['line']}: {a['what']}" for a in report["ambiguous"]]
        lines += [f"  line {r['line']}: {r['why']}" for r in low]
        raise MarkdownImportError(
            f"{document}: {plural(len(lines), 'ambiguous item')} in --strict mode:\n"
            + "\n".join(lines),
            hint="make the expectation explicit (e.g. `Exit 0`), or drop --strict",
        )
    if output:
        try:
            Path(output).write_text(result.yaml_text, encoding="utf-8")
        except OSError as exc:
            raise MarkdownImportError(f"{output}: cannot be written ({exc.strerror})") from None
    if as_json:
        emit_json({**report, "output": output, "plan_yaml": None if output else result.yaml_text})
        return
    if not output:
        click.echo(result.yaml_text, nl=False)
    click.echo(render_report(report, output), err=True)


def render_report(report: ImportReport, output: str | None) -> str:
    counts = report["counts"]
    where = f" -> {output}" if output else ""
    out = [
        f"imported {report['source']}{where}: plan {report['plan']}: "
        f"{plural(counts['phases'], 'phase')}, {plural(counts['steps'], 'step')}, "
        f"{plural(counts['checks'], 'check')}, "
        f"{plural(counts['rollback'], 'rollback action')}, "
        f"{plural(counts['triggers'], 'trigger')}, "
        f"{plural(sum(1 for t in report['traffic'] if t.get('applied')), 'traffic ramp')}"
    ]
    for phase in report["phases"]:
        out.append(
            f"  phase {phase['id']}: {plural(phase['steps'], 'step')}, "
            f"{plural(phase['gates'], 'gate')}"
        )
    for dep in report["dependencies"]:
        state = (
            "needs" if dep.get("applied") else f"not applied ({dep.get('why', 'no such phases')})"
        )
        out.append(f"  line {dep['line']}: {dep['from']} -> {dep['to']}: {state}")
    for proposal in report.get("programs") or []:  # markdown/programs.py: proposed, not applied
        chain = " -> ".join(c["phase"] for c in proposal["children"])
        out.append(
            f"  line {proposal['line']}: a program of other runbooks ({proposal['how']}): "
            f"{chain}; not applied: import each child, then review the proposed program "
            "(`--json`: programs[].yaml; docs/markdown-import.md)"
        )
    for trigger in report["triggers"]:
        during = f" during {trigger['during']}" if trigger.get("during") else ""
        condition = f" when {trigger['condition']}" if trigger.get("condition") else ""
        out.append(
            f"  line {trigger['line']}: trigger {trigger['name']}{condition} -> "
            f"{trigger['action']}{during}"
        )
    for ramp in report["traffic"]:
        weights = " → ".join(f"{w}%" for w in ramp["weights"])
        state = (
            f"steps in {ramp['phase']}" if ramp.get("applied") else f"not applied ({ramp['why']})"
        )
        out.append(f"  line {ramp['line']}: traffic {weights}: {state}")
    if report["variables"]:
        out.append("  variables read from the environment: " + ", ".join(report["variables"]))
    review = [r for r in report.get("review") or [] if r.get("confidence") != "low"]
    low = [r for r in report.get("review") or [] if r.get("confidence") == "low"]
    if low:
        out.append(f"  {plural(len(low), 'low-confidence mapping')} would run (review them):")
        out.extend(f"    line {r['line']}: {r['what']} ({r['why']})"[:160] for r in low[:8])
    if review:
        out.append(f"  {plural(len(review), 'line')} in code blocks not run (review them):")
        out.extend(f"    line {r['line']}: {r['what']} ({r['why']})"[:140] for r in review[:8])
        if len(review) > 8:
            out.append(f"    … and {len(review) - 8} more")
    for item in report.get("manual") or []:
        out.append(f"  manual step, line {item['line']}: {item['what']}"[:160])
    for item in report["ambiguous"]:
        out.append(f"  ambiguous, line {item['line']}: {item['what']}")
    data = report["data"]
    if data:
        lines = ", ".join(str(d["line"]) for d in data[:10])
        out.append(f"  {len(data)} non-shell code blocks left as documentation (lines {lines})")
    skipped = report.get("skipped") or []
    if skipped:  # HTML the importer did not read: said with its line, never dropped (§11)
        out.append(f"  {plural(len(skipped), 'HTML element')} skipped, not read:")
        out.extend(f"    line {s['line']}: {s['what']} ({s['why']})"[:140] for s in skipped[:8])
        if len(skipped) > 8:
            out.append(f"    … and {len(skipped) - 8} more")
    sections = report["unmapped_sections"]
    if sections:
        titles = ", ".join(f"{s['title']} ({s['line']})" for s in sections[:6])
        more = f" and {len(sections) - 6} more" if len(sections) > 6 else ""
        out.append(
            f"  {plural(len(sections), 'section')} {'is' if len(sections) == 1 else 'are'} prose "
            f"only: {titles}{more}"[:300]
        )
    unmapped = report["unmapped"]
    if unmapped:
        out.append(f"  {plural(len(unmapped), 'item')} left as prose for a human, e.g.:")
        out.extend(f"    line {u['line']}: {u['what']}"[:100] for u in unmapped[:5])
    out.append(_confidence(report))
    binding = report["needs_binding"]
    if binding:
        out.append(
            f"  {len(binding)} to bind "
            "(`phasegate validate` lists them; the plan marks each `needs_binding`):"
        )
        out.extend(f"    line {b['line']}: {b['what']}"[:160] for b in binding[:8])
        if len(binding) > 8:
            out.append(f"    … and {len(binding) - 8} more")
    reasons = report.get("not_executable") or []
    if reasons:
        out.append("  not executable as written: " + "; ".join(reasons))
    else:
        out.append("  executable as written (review it first: `phasegate review`)")
    return "\n".join(out)


def _confidence(report: ImportReport) -> str:
    """How sure the importer is of what runs (issue 11 §12; --json has each entry's rule)."""
    from collections import Counter

    from phasegate.markdown.entries import report_list
    from phasegate.markdown.provenance import MAPPINGS

    tally = Counter(
        str(entry.get("confidence"))
        for kind in MAPPINGS
        for entry in report_list(report, kind)
        if entry.get("runs")
    )
    shown = ", ".join(f"{tally[c]} {c}" for c in ("high", "medium", "low") if tally[c])
    return (
        f"  confidence of what runs: {shown or 'nothing runs'} "
        "(--json gives every mapping's rule and confidence)"
    )
