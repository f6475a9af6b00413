"""Draft -> plan data -> YAML text with ``# file:line`` comments, validated by the core loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast, overload

import yaml

from phasegate.errors import PlanError
from phasegate.markdown import (
    admonitions,
    asciidoc,
    credentials,
    mdx,
    programs,
    provenance,
    repeats,
    rules,
    tabs,
    timekeeping,
    unset,
    wikicode,
)
from phasegate.markdown.draft import Draft, Entry, NodeT, PhaseDraft
from phasegate.markdown.errors import MarkdownImportError
from phasegate.markdown.mapping import map_document
from phasegate.markdown.parse import clean_text, decode, parse
from phasegate.plan.loader import load_plan_text
from phasegate.plan.model import slugify
from phasegate.substitution import BUILTINS, references, shell_locals

if TYPE_CHECKING:
    from collections.abc import Callable

    from phasegate.markdown.entries import ImportReport
    from phasegate.markdown.nodes import (
        Metadata,
        PhaseNode,
        PlanNode,
        StepNode,
        TriggerNode,
        VarSpec,
    )
    from phasegate.markdown.parse import Document

_COMMAND_KEYS = ("run", "command", "file", "http", "undo", "sql", "metric")
_BUILT_KEYS = ("database", "provider")  # written by the importer itself, not document prose
_T = TypeVar("_T")


@dataclass
class ImportResult:
    yaml_text: str
    data: PlanNode
    report: ImportReport


class _Dumper(yaml.SafeDumper):
    """The pure-Python dumper: libyaml's escapes emoji (``"\\U0001F3AF"``), which headings are
    full of, and a reviewer must be able to read the plan."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


class _FastDumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    """libyaml's emitter, ~5x faster, for the entries it writes the same as ours: those without
    a character beyond the Basic Multilingual Plane (which it would escape)."""


_FastDumper.add_representer(str, _str)


def _astral(value: object) -> bool:
    if isinstance(value, str):
        return any(ord(ch) > 0xFFFF for ch in value) if not value.isascii() else False
    if isinstance(value, dict):
        return any(_astral(k) or _astral(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_astral(v) for v in value)
    return False


def _dump(value: object) -> str:
    dumper = _Dumper if _astral(value) else _FastDumper
    return yaml.dump(value, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)


def import_markdown(text: str, source: str = "ROLLOUT.md") -> ImportResult:
    """Parse, map, emit and validate; raises only :class:`MarkdownImportError`."""
    plain = clean_text(text)
    read = asciidoc.translate(plain)  # AsciiDoc in a .md file (asciidoc.py)
    # Hugo `{{< highlight bash >}}`, Confluence `{code:bash}` (wikicode.py)
    wiki = wikicode.translate(read)
    read = wiki
    cleaned = tabs.unindent(read)  # MkDocs content tabs: their bodies at the margin
    # `!!! danger "If clients report certificate errors"`: the body is that condition's remedy
    cleaned = admonitions.unindent_conditions(cleaned, _names_a_condition)
    doc = parse(cleaned)
    draft = map_document(doc, source)
    if wiki != plain and asciidoc.translate(plain) == plain:
        rewritten = wikicode.changed_lines(plain, wiki)
        what = f"Hugo / Confluence code blocks read as fences ({len(rewritten)} line(s) rewritten)"
        draft.note("review", line=rewritten[0], what=what, why="another site's markup")
    elif read != plain:
        rewritten = asciidoc.changed_lines(plain, read)
        what = f"AsciiDoc read as Markdown ({len(rewritten)} line(s) rewritten)"
        draft.note("asciidoc", line=rewritten[0], what=what, why="listing blocks, headings, titles")
    timekeeping.apply(draft, doc)
    repeats.scan(draft, doc)  # "Repeat for the other nodes": not executable as written
    unset.bind(draft, cleaned)  # `$target_url` the document never sets: the reader's value
    credentials.bind(draft, cleaned)  # "needs `FLAGCTL_TOKEN` from 1Password" (round 9)
    programs.propose(draft, cleaned)  # a rollout of rollouts: a proposed program, in the report
    tabs.apply(draft, read)  # `<Tabs>` / `=== "macOS"`: one tab runs (markdown/tabs.py)
    for signal in mdx.signals(cleaned):  # MDX: content lives elsewhere (markdown/mdx.py)
        draft.note("mdx", line=signal.line, what=signal.what, why=signal.why)
        draft.note("review", line=signal.line, what=signal.what, why=signal.why, rule="mdx.review")
    try:
        data, yaml_text = emit(draft)
    except MarkdownImportError as exc:  # a document that only orders runbooks: say so
        raise programs.instead(draft, exc) from None
    _validate(yaml_text, source)
    return ImportResult(yaml_text, data, build_report(draft, data, doc))


def _names_a_condition(title: str) -> bool:
    """An admonition title that states when its content applies: a failure, a condition, a
    rollback ("If clients report certificate errors", "When the canary fails", "Rollback")."""
    return (
        rules.is_conditional_text(title)
        or rules.is_failure_condition(title)
        or rules.is_rollback_title(title)
    )


def import_markdown_file(path: str | Path) -> ImportResult:
    source = Path(path)
    return import_markdown_bytes(read_document(source), source)


def import_markdown_bytes(raw: bytes, source: Path) -> ImportResult:
    """The import of exactly these bytes (a review vouches for the bytes it hashed)."""
    return import_markdown(decode(raw, str(source)), source.name)


def read_document(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except FileNotFoundError:
        raise MarkdownImportError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise MarkdownImportError(f"{source}: is a directory, not a Markdown file") from None
    except OSError as exc:
        raise MarkdownImportError(f"{source}: cannot be read ({exc.strerror})") from None


def _validate(yaml_text: str, source: str) -> None:
    try:
        load_plan_text(yaml_text, Path(f"{source}.plan.yaml"))
    except PlanError as exc:
        raise MarkdownImportError(
            f"{source}: the imported plan does not validate:\n{exc.render()}",
            hint="this is a bug in the importer; please report it with the document",
        ) from None


@overload
def _escape_prose(value: str) -> str: ...


@overload
def _escape_prose(value: _T, keep: Callable[[str, object], bool] | None = None) -> _T: ...


def _escape_prose(value: object, keep: Callable[[str, object], bool] | None = None) -> object:
    """``${X}`` in names and prose is literal text, not a variable reference.

    A copy of the same shape (a string for a string, a node with the same keys for a node:
    hence the signature that returns the type it is given); ``keep`` names a node's keys whose
    values are copied as they are."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {
            k: v if keep is not None and keep(k, v) else _escape_prose(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_escape_prose(v) for v in value]
    return value


def _command_or_built(key: str, value: object) -> bool:
    """A command (it holds real ``${VAR}``s) or a key the importer wrote, not prose."""
    return (key in _COMMAND_KEYS and isinstance(value, str)) or key in _BUILT_KEYS


def _entry(data: NodeT, refs: set[str]) -> NodeT:
    for key, value in data.items():
        if key in _COMMAND_KEYS and isinstance(value, str):
            local = shell_locals(value) if key in ("run", "command") else set()
            refs.update(set(references(value)) - local)
    return _escape_prose(data, keep=_command_or_built)


def emit(draft: Draft) -> tuple[PlanNode, str]:
    phases = [p for p in draft.phases if p.keep()]
    if not any(p.steps or p.gates or p.rollback for p in phases) and not (
        draft.triggers or draft.plan_rollback or draft.traffic
    ):
        # an empty plan would "succeed" doing nothing: say so instead (issue 11 §12)
        raise MarkdownImportError(
            f"{draft.source}: nothing to run: the document has no commands, checks, "
            "checklists or rollback actions a plan could execute",
            hint="add the steps as shell code blocks or a checklist (see docs/markdown-import.md)",
        )
    if not phases:
        phases = [draft.new_phase("document", 1, named=True)]
    phases[0].rollback.extend(draft.plan_rollback)
    plan_way = draft.rollback_extra.get("rollback_decision")
    if plan_way is not None:  # the plan's rollback menu is asked where its actions run
        own = phases[0].extra.setdefault(
            "rollback_decision", {"var": plan_way["var"], "options": []}
        )
        own["options"] += [o for o in plan_way["options"] if o not in own["options"]]
        if own["var"] != plan_way["var"]:  # one choice per phase: the plan's ways join it
            for entry in draft.plan_rollback:
                when = entry.data.get("when")
                if isinstance(when, str):
                    entry.data["when"] = when.replace(
                        f"vars.{plan_way['var']} ", f"vars.{own['var']} "
                    )
    refs: set[str] = set()
    name = slugify(draft.title) if draft.title else ""
    if not name or name == "step":
        name = slugify(Path(draft.source).stem) or "imported-plan"
    head: PlanNode = {"version": 1, "name": name}
    if draft.title:
        head["description"] = _escape_prose(draft.title)
    rendered = [_phase_text(phase, refs, draft.source) for phase in phases]
    verify = [_item(e, refs, draft.source, 2) for e in draft.verify_rollback]
    wanted = sorted(refs - set(BUILTINS) - set(draft.vars))
    variables: dict[str, VarSpec] = dict(draft.vars)
    # the shell would expand an unset variable to "": keep that, but say so
    for n in wanted:
        variables[n] = {"env": n, "default": ""}
    if variables:
        head["vars"] = variables
    if draft.rollback_budget is not None:
        head["budget"] = {"rollback": f"{draft.rollback_budget:g}s"}
    timekeeping.head(draft, head)
    # A reader types every fence into one terminal (issue 11 §4): variables and `cd` carry.
    head["shell_session"] = True
    metadata: Metadata = {"imported_from": draft.source, **draft.metadata}
    head["metadata"] = _escape_prose(metadata)
    text = f"# imported from {draft.source} by `phasegate import`; review before running\n"
    text += _dump(head)
    data = head.copy()
    if draft.traffic is not None:
        block = _escape_prose(draft.traffic.data)
        text += f"# {draft.source}:{draft.traffic.line}\n" + _dump({"traffic": block})
        data["traffic"] = block
    if draft.triggers:
        items = [_trigger(e, draft.source) for e in draft.triggers]
        text += "triggers:\n" + "".join(t for _, t in items)
        data["triggers"] = [d for d, _ in items]
    text += "phases:\n" + "".join(t for _, t in rendered)
    data["phases"] = [d for d, _ in rendered]
    if verify:
        text += "verify_rollback:\n" + "".join(t for _, t in verify)
        data["verify_rollback"] = [d for d, _ in verify]
    return data, text


def _check_key(key: str, _value: object) -> bool:
    return key == "check"


def _trigger(entry: Entry[TriggerNode], source: str) -> tuple[TriggerNode, str]:
    """A trigger: prose escaped, its check kept as built (it holds real `${VAR}`s)."""
    data = _escape_prose(entry.data, keep=_check_key)
    return data, f"  # {source}:{entry.line}\n" + _indent(_dump([data]), 2)


def _phase_text(phase: PhaseDraft, refs: set[str], source: str) -> tuple[PhaseNode, str]:
    top: PhaseNode = {"id": phase.id, "name": _escape_prose(phase.name)}
    if phase.needs:
        top["needs"] = list(dict.fromkeys(phase.needs))
    if phase.owner:
        top["owner"] = _escape_prose(phase.owner)
    if phase.rollback_budget is not None:
        top["rollback_budget"] = f"{phase.rollback_budget:g}s"
    top = {**top, **timekeeping.phase_keys(phase)}  # risk, rollback_decision: as set
    if phase.metadata:
        top["metadata"] = _escape_prose(phase.metadata)
    text = f"  # {source}:{phase.line}\n" + _indent(_dump([top]), 2)
    data = top.copy()
    # in this order: monitors, steps, gates, rollback
    if phase.monitors:
        monitors = [_item(e, refs, source) for e in phase.monitors]
        text += _list_text("monitors", monitors)
        data["monitors"] = [d for d, _ in monitors]
    if phase.steps:
        steps = [_step(e, refs, source) for e in phase.steps]
        text += _list_text("steps", steps)
        data["steps"] = [d for d, _ in steps]
    if phase.gates:
        gates = [_item(e, refs, source) for e in phase.gates]
        text += _list_text("gates", gates)
        data["gates"] = [d for d, _ in gates]
    if phase.rollback:
        rollback = [_step(e, refs, source) for e in phase.rollback]
        text += _list_text("rollback", rollback)
        data["rollback"] = [d for d, _ in rollback]
    return data, text


def _list_text(key: str, items: list[tuple[NodeT, str]]) -> str:
    return f"    {key}:\n" + "".join(t for _, t in items)


def _item(entry: Entry[NodeT], refs: set[str], source: str, width: int = 6) -> tuple[NodeT, str]:
    data = _entry(entry.data, refs)
    pad = " " * width
    text = f"{pad}# {source}:{entry.line}\n" + _indent(_dump([data]), width)
    return data, text


def _step(entry: Entry[StepNode], refs: set[str], source: str) -> tuple[StepNode, str]:
    """A step, with its checks before it (order.py), each with its own line."""
    data, text = _item(entry, refs, source)
    if entry.pre_gates:
        pre = [_item(gate, refs, source, 10) for gate in entry.pre_gates]
        data["pre_gates"] = [d for d, _ in pre]
        text += "        pre_gates:\n" + "".join(t for _, t in pre)
    return data, text


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def build_report(draft: Draft, data: PlanNode, doc: Document | None = None) -> ImportReport:
    report: ImportReport = {"source": draft.source, "plan": data.get("name")}
    phases = data.get("phases") or []
    report["counts"] = {
        "phases": len(phases),
        **{kind: len(entries) for kind, entries in draft.report.items()},
        "variables": len(data.get("vars") or {}),
    }
    report["phases"] = [
        {
            "id": p["id"],
            "steps": len(p.get("steps", [])),
            "gates": len(p.get("gates", []))
            + sum(len(s.get("pre_gates", [])) for s in p.get("steps", [])),
        }
        for p in phases
    ]
    # the draft's lists themselves, each under its name (a list name is a report key)
    report.update(cast("ImportReport", draft.report))
    report["variables"] = sorted(data.get("vars") or {})
    # every mapping gets its rule and confidence; the verdict is honest (issue 11 §12)
    provenance.annotate(report, draft, doc)
    report["counts"]["review"] = len(report["review"])
    report["not_executable"] = provenance.verdict(report, data)
    report["executable"] = not report["not_executable"]
    return report
