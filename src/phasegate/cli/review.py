"""Review before the first run of a Markdown document (issue 11 §13): the ``review`` verb, and
the gate ``run DOC.md`` passes through.

An import is a guess at what the author meant to run. So ``phasegate run DOC.md`` first shows
what the import will do and asks on a terminal; without one (CI, a pipe) it runs only with
``--yes`` or when ``phasegate review DOC.md`` recorded a review of exactly these bytes
(store/reviews.py). A YAML plan was written to be run and never asks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from phasegate.cli.common import actor, emit_json, json_option
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.markdown.emit import ImportResult
    from phasegate.markdown.entries import ImportReport
    from phasegate.markdown.summary import PhaseItem
    from phasegate.plan.loader import LoadedPlan
    from phasegate.store.reviews import Review


@dataclasses.dataclass(frozen=True)
class Imported:
    path: Path
    sha256: str
    result: ImportResult
    loaded: LoadedPlan


def import_document(document: str) -> Imported:
    """Read the document once, hash those bytes, import them: what is reviewed is what runs."""
    from phasegate.markdown.emit import import_markdown_bytes, read_document
    from phasegate.markdown.planload import load_imported_text

    path = Path(document)
    raw = read_document(path)
    result = import_markdown_bytes(raw, path)
    sha256 = hashlib.sha256(raw).hexdigest()
    # positions cite the document's lines, as `validate DOC.md` shows them (issue 11 §12)
    loaded = load_imported_text(result.yaml_text, path, sha256)
    return Imported(path, sha256, result, loaded)


def _state(ctx: click.Context) -> Path:
    from phasegate.cli import state_dir

    return Path(state_dir(ctx)).expanduser().resolve()


def gate(ctx: click.Context, document: str, yes: bool) -> tuple[LoadedPlan, dict[str, str]]:
    """The plan ``run DOC.md`` may execute, once a person has seen what the import does, and
    the review it runs under (journalled in ``run.started``). Raises UsageError (exit 2,
    nothing ran) when nobody has."""
    from phasegate.errors import UsageError
    from phasegate.plan.blockers import refuse_unbound
    from phasegate.store import reviews

    doc = import_document(document)
    name = doc.path.name
    # What is left to bind refuses the run whatever a review says: say that first.
    refuse_unbound(doc.loaded)
    if yes:
        return doc.loaded, {"how": "unreviewed", "sha256": doc.sha256, "by": actor()}
    found = reviews.find(_state(ctx), doc.sha256)
    if found is not None:
        click.echo(f"{name}: reviewed by {found.reviewer} at {found.at}", err=True)
        return doc.loaded, _provenance(found)
    if not sys.stdin.isatty():
        raise UsageError(_unreviewed(ctx, doc), hint=_hint(name))
    click.echo(summary(doc), err=True)
    if not click.confirm(f"Run {name} as shown?", default=False, err=True):
        raise UsageError(
            f"{name}: not run: the import was not confirmed",
            hint="fix the document (or bind what it leaves open) and run it again, or turn it "
            f"into a plan you edit: `phasegate import {name} -o plan.yaml`",
        )
    return doc.loaded, _provenance(_record(ctx, doc, how="run"))


def _provenance(review: Review) -> dict[str, str]:
    return {"how": review.how, "sha256": review.sha256, "by": review.reviewer, "at": review.at}


def _unreviewed(ctx: click.Context, doc: Imported) -> str:
    from phasegate.store import reviews

    name = doc.path.name
    before = reviews.earlier(_state(ctx), doc.path)
    if before is not None:
        return (
            f"{name}: not run: the document changed since {before.reviewer} reviewed it at "
            f"{before.at} (sha256 {before.sha256[:12]}… then, {doc.sha256[:12]}… now); a "
            "changed document needs review again, and there is no terminal to ask on"
        )
    return (
        f"{name}: not run: a Markdown document is imported on the fly, and nobody has "
        f"reviewed what this import does (sha256 {doc.sha256[:12]}…); there is no terminal "
        "to ask on"
    )


def _hint(name: str) -> str:
    return (
        f"`phasegate review {name}` shows what it will do and records your review of this "
        "exact document; or pass --yes to run it unreviewed"
    )


def _record(ctx: click.Context, doc: Imported, how: str) -> Review:
    from phasegate.store import reviews

    review = reviews.Review(
        sha256=doc.sha256,
        document=str(doc.path.resolve()),
        reviewer=actor(),
        at=reviews.now(),
        how=how,
        plan=str(doc.result.report.get("plan") or ""),
    )
    reviews.record(_state(ctx), review)
    return review


@click.command("review")
@click.argument("document", type=click.Path(dir_okay=False))
@json_option
@click.option(
    "--check",
    is_flag=True,
    help="Record nothing: exit 0 when this exact document has a review, 1 when it has none.",
)
@click.pass_context
def review(ctx: click.Context, document: str, as_json: bool, check: bool) -> None:
    """Show what importing the Markdown DOCUMENT runs, and record that you reviewed it.

    The summary is what `phasegate run DOCUMENT` shows before asking: phases, steps with
    their commands, gates, rollback, decisions, what was left out and what needs review, each
    with its Markdown line. The review is recorded in the state directory, keyed by the
    document's sha256, with who (your login) and when; `run DOCUMENT` then runs it without a
    terminal and without --yes. A changed document (one byte is enough) needs review again.
    """
    from phasegate.store import reviews

    doc = import_document(document)
    if check:
        found = reviews.find(_state(ctx), doc.sha256)
        if as_json:
            emit_json({"sha256": doc.sha256, "review": found.as_dict() if found else None})
        elif found:
            click.echo(f"{doc.path.name}: reviewed by {found.reviewer} at {found.at}")
        else:
            click.echo(f"{doc.path.name}: not reviewed (sha256 {doc.sha256[:12]}…)")
        raise click.exceptions.Exit(0 if found else 1)
    recorded = _record(ctx, doc, how="review")
    if as_json:
        emit_json({"sha256": doc.sha256, "review": recorded.as_dict(), **doc.result.report})
        return
    click.echo(summary(doc))
    later = " once what it leaves open is bound" if doc.result.report["needs_binding"] else ""
    click.echo(
        f"review recorded: {doc.path.name} (sha256 {doc.sha256[:12]}…) by {recorded.reviewer} "
        f"at {recorded.at}; `phasegate run {doc.path.name}` runs this exact document without "
        f"asking{later}"
    )


# -- the summary ----------------------------------------------------------------------------


def summary(doc: Imported) -> str:
    """What the import will do, phase by phase, then what it left out and what needs review."""
    report = doc.result.report
    counts = report["counts"]
    out = [
        f"{doc.path.name} (sha256 {doc.sha256[:12]}…) imports as plan {report['plan']}: "
        f"{plural(counts['phases'], 'phase')}, {plural(_count(report, 'step'), 'step')}, "
        f"{plural(_count(report, 'gate'), 'gate')}, "
        f"{plural(_count(report, 'rollback'), 'rollback action')}, "
        f"{plural(counts.get('triggers', 0), 'trigger')}"
    ]
    for phase in report["phases"]:
        out.append(f"  phase {phase['id']} (line {phase.get('line', '?')}):")
        out.extend(_item(item) for item in phase.get("items") or [])
    for decision in report.get("decisions") or []:
        out.append(
            f"  decision, line {decision['line']}: the run pauses for a person to choose "
            f"{' | '.join(decision['choices'])} (`phasegate approve RUN --choose <choice>`); "
            "only the chosen option runs"
        )
    for trigger in report.get("triggers") or []:
        condition = f" when {trigger['condition']}" if trigger.get("condition") else ""
        out.append(
            f"  trigger, line {trigger['line']}: {trigger['name']}{condition} -> "
            f"{trigger['action']}"
        )
    out.extend(_left_out(report))
    out.extend(_needs_review(report))
    reasons = report.get("not_executable") or []
    if reasons:
        out.append("  not executable as written: " + "; ".join(reasons))
    else:
        out.append("  executable as written")
    return "\n".join(out)


def _count(report: ImportReport, role: str) -> int:
    return sum(1 for p in report["phases"] for i in p.get("items") or [] if i["role"] == role)


def _item(item: PhaseItem) -> str:
    doubt = "" if item["confidence"] == "high" else f"  [{item['confidence']}: {item['rule']}]"
    when = f"  (only if {item['when']})" if item.get("when") else ""
    role = item["role"] if item["runs"] or item["role"] != "step" else "manual"
    text = f"    {role:<8} line {item['line']:<5} {item['what']}"
    return text[:150] + when + doubt


def _left_out(report: ImportReport) -> list[str]:
    """What the import read but will not run, so a reviewer can see nothing vanished."""
    from phasegate.markdown.entries import report_list  # the CLI imports the importer lazily

    parts = [
        (len(report.get("unmapped") or []), "prose item"),
        (len(report.get("unmapped_sections") or []), "prose-only section"),
        (len(report.get("reference") or []), "reference-section block"),
        (len(report.get("data") or []), "non-shell or skipped block"),
    ]
    said = [plural(n, what) for n, what in parts if n]
    if not said:
        return []
    lines = sorted(
        {
            e["line"]
            for k in ("reference", "data", "unmapped_sections")
            for e in report_list(report, k)
        }
    )
    where = f" (lines {', '.join(map(str, lines[:12]))}{' …' if len(lines) > 12 else ''})"
    return [f"  left out, not run: {', '.join(said)}{where if lines else ''}"]


def _needs_review(report: ImportReport) -> list[str]:
    entries = [
        *((b["line"], b["what"], "needs binding") for b in report.get("needs_binding") or []),
        *((r["line"], r["what"], r.get("why", "")) for r in report.get("review") or []),
        *((a["line"], a["what"], "ambiguous") for a in report.get("ambiguous") or []),
    ]
    if not entries:
        return []
    out = [f"  needs review ({len(entries)}):"]
    for line, what, why in sorted(entries, key=lambda e: e[0])[:15]:
        out.append(f"    line {line}: {what} ({why})"[:160])
    if len(entries) > 15:
        out.append(f"    … and {len(entries) - 15} more (`phasegate import --json` lists all)")
    return out
