"""Judge an imported plan against a careful reader's expectations (issue 11, acceptance).

Each ``tests/markdown/labelled/<doc>.yaml`` holds what an SRE who READ the corpus document
expects of a faithful, safe import — written from the text, not from what the importer makes
today. This module imports the document with the real importer (the function the CLI's
``import``, ``validate`` and ``run`` use), loads the plan into the real model, flattens it into
what would run on the forward path, what runs only on rollback, what waits for a human, the
triggers and the variables needing binding, and evaluates every expectation against that.

Expectation kinds (the ``kind`` key of each item; ``line`` is the Markdown line, ``why`` one
line of reasoning):

==============  =====================================================================
forward         ``cmd`` runs on the forward path (a step or a check, unconditional)
never_forward   ``cmd`` never runs unconditionally on the forward path (conditional,
                alternative, troubleshooting, rollback, example)          [SAFETY]
rollback        ``cmd`` is a rollback action (a phase's rollback, a step's undo); with
                ``if_fails: X`` (a conditional rollback, "if X fails, roll back with
                cmd") it must also run when X fails and never forward: a rollback action
                of X's phase or of one started before it, or the undo of a step completed
                before X (X's own undo does not run: X did not complete), and its
                ``when:`` holds whenever X ran                            [SAFETY]
manual          ``phrase`` is a manual gate/step or decision a human answers (a
                phase's ``rollback_decision`` too: the rollback pauses for it), or a
                wait the document states and the run holds (``pause: 15m`` named by
                it: "a duration or a human proceed, not seconds")
trigger         ``phrase`` is a trigger (optional ``action``: rollback | pause | alert)
not_trigger     ``phrase`` is no trigger (success criteria, preconditions…)  [SAFETY]
binding         ``placeholder`` never runs literally: a variable needs binding
never_ending    ``cmd`` is no plain step or gate (a monitor, manual or left out) [SAFETY]
order           forward command ``before`` runs before forward command ``after``
==============  =====================================================================

plus one document-level ``executable: true|false`` (may the plan be claimed "executable as
written"); claiming it for a plan that must not be (placeholders, nothing real to run) is a
SAFETY violation.

Commands are matched as whitespace-normalised substrings of the executable text, with shell
comment lines removed (the importer keeps prose in a step as ``# [not run: …]`` comments, which
do not run); phrases case-insensitively against names, manual texts and descriptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phasegate.markdown import MarkdownImportError, import_markdown_file
from phasegate.plan.loader import load_plan_text
from phasegate.plan.model import Plan

LABELLED = Path(__file__).parent / "labelled"
CORPUS = Path("/work/shared/corpus")

SAFETY_KINDS = {"never_forward", "not_trigger", "never_ending", "executable"}


def is_safety(exp: dict[str, Any]) -> bool:
    """A conditional rollback (``if_fails``) is a safety expectation too: a rollback that
    does not run when its condition comes, or runs forward, fails the reader."""
    return exp["kind"] in SAFETY_KINDS or (exp["kind"] == "rollback" and "if_fails" in exp)


KINDS = {
    "forward",
    "never_forward",
    "rollback",
    "manual",
    "trigger",
    "not_trigger",
    "binding",
    "never_ending",
    "order",
    "executable",
}
_SOURCE_REF = re.compile(r"^\s*#\s*\S+:(\d+)\s*$")
_CHECK_TEXT_KEYS = ("command", "http", "sql", "query", "file", "tcp", "expr", "metric")


@dataclass
class Item:
    """One thing in the plan, flattened: its role, what it executes, what it says."""

    role: str  # step | gate | rollback | undo | trigger | verify_rollback | other:<key>
    phase: str
    order: int  # position on the forward path (phases in run order, then items)
    executes: str  # the executable text, comment lines removed ("" for a manual/pause)
    words: str  # names, manual text, descriptions (for phrases)
    when: str | None = None
    manual: bool = False
    line: int | None = None  # the Markdown line the importer cited

    @property
    def unconditional_forward(self) -> bool:
        return self.role in ("step", "gate") and self.when is None and bool(self.executes)


@dataclass
class Imported:
    doc: str
    error: str | None = None
    plan: Plan | None = None
    report: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    bindings: list[str] = field(default_factory=list)  # every needs_binding text
    executable: bool = False
    phase_rank: dict[str, int] = field(default_factory=dict)  # phase id -> run order


@dataclass
class Outcome:
    doc: str
    kind: str
    label: str
    line: int | None
    why: str
    met: bool
    safety_violation: bool
    detail: str

    def render(self) -> str:
        where = f"{self.doc}:{self.line}" if self.line else self.doc
        return f"{where}: {self.kind} {self.label!r}: {self.detail} ({self.why})"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _strip_comments(command: Any) -> str:
    if isinstance(command, list):
        command = " ".join(str(part) for part in command)
    if not isinstance(command, str):
        return ""
    lines = [ln for ln in command.splitlines() if not ln.lstrip().startswith("#")]
    return _norm("\n".join(lines))


def _check_texts(check: dict[str, Any]) -> tuple[str, str, bool]:
    executes = " ".join(
        _strip_comments(check[key]) if key == "command" else _norm(str(check[key]))
        for key in _CHECK_TEXT_KEYS
        if isinstance(check.get(key), (str, list))
    )
    # a `checked: true` item passes by itself: nobody is asked
    manual = "manual" in check and not check.get("checked")
    words = _norm(" ".join(str(check.get(k) or "") for k in ("name", "manual", "description")))
    return executes, words, manual


def _phase_order(plan: Plan) -> list[int]:
    """Phase indexes in run order: the DAG, ties broken by document order."""
    done: list[int] = []
    ids = {p.id: i for i, p in enumerate(plan.phases)}
    placed: set[str] = set()
    while len(done) < len(plan.phases):
        for index, phase in enumerate(plan.phases):
            if phase.id not in placed and all(n in placed or n not in ids for n in phase.needs):
                done.append(index)
                placed.add(phase.id)
                break
        else:  # a cycle cannot validate; keep document order for the rest
            done.extend(i for i, p in enumerate(plan.phases) if p.id not in placed)
            break
    return done


def flatten(plan: Plan, yaml_text: str, locate: Any) -> list[Item]:
    items: list[Item] = []
    yaml_lines = yaml_text.splitlines()

    def md_line(path: tuple[Any, ...]) -> int | None:
        line, _ = locate(path)
        if line is None:
            return None
        for text in reversed(yaml_lines[: line - 1]):
            match = _SOURCE_REF.match(text)
            if match:
                return int(match.group(1))
        return None

    order = 0
    for p_index in _phase_order(plan):
        phase = plan.phases[p_index]
        dumped = phase.model_dump(mode="json", exclude_none=True)
        # future pre-step gates (issue 11 §8) run before the steps: any list key naming them
        before_keys = [k for k in dumped if k.startswith("pre") and isinstance(dumped[k], list)]
        sequence = [*before_keys, "steps", "gates"]
        for key in sequence:
            for i, entry in enumerate(dumped.get(key, [])):
                order += 1
                path = ("phases", p_index, key, i)
                if key == "steps":
                    # a step's pre_gates (issue 11 §8) run just before it, in its order
                    for g, gate in enumerate(entry.get("pre_gates", [])):
                        executes, words, manual = _check_texts(gate)
                        line = md_line((*path, "pre_gates", g))
                        items.append(
                            Item("gate", phase.id, order, executes, words, None, manual, line)
                        )
                        order += 1
                    items.extend(_step_items(entry, phase.id, order, md_line(path)))
                else:
                    executes, words, manual = _check_texts(entry)
                    items.append(
                        Item("gate", phase.id, order, executes, words, None, manual, md_line(path))
                    )
        decision = dumped.get("rollback_decision")
        if isinstance(decision, dict):
            # the way back a person chooses when the rollback comes (the rollback pauses
            # there): a decision a human answers, in the words the variable describes it with
            spec = plan.vars.get(str(decision.get("var")))
            said = str(getattr(spec, "description", None) or "")
            options = " ".join(str(o) for o in decision.get("options", []))
            words = _norm(f"{decision.get('var')} {options} {said}")
            line = md_line(("phases", p_index, "rollback_decision"))
            items.append(Item("rollback_decision", phase.id, 0, "", words, None, True, line))
        for i, action in enumerate(dumped.get("rollback", [])):
            words = _norm(str(action.get("name") or ""))
            run = _strip_comments(action.get("run"))
            line = md_line(("phases", p_index, "rollback", i))
            when = action.get("when")
            items.append(Item("rollback", phase.id, 0, run, words, when, False, line))
        for key, value in dumped.items():
            if key in (*sequence, "rollback") or not isinstance(value, list):
                continue
            for i, entry in enumerate(value):
                if isinstance(entry, dict):  # monitors and whatever else comes: not forward
                    run = _strip_comments(entry.get("run") or entry.get("command"))
                    words = _norm(str(entry.get("name") or ""))
                    line = md_line(("phases", p_index, key, i))
                    items.append(Item(f"other:{key}", phase.id, 0, run, words, None, False, line))
    for i, trigger in enumerate(plan.triggers):
        check = trigger.check.model_dump(mode="json", exclude_none=True)
        executes, words, _ = _check_texts(check)
        words = _norm(
            f"{trigger.name} {trigger.name.replace('-', ' ')} {trigger.description or ''}"
        )
        items.append(
            Item(
                "trigger:" + trigger.action,
                "",
                0,
                executes,
                words,
                None,
                False,
                md_line(("triggers", i)),
            )
        )
    for i, check_spec in enumerate(plan.verify_rollback):
        executes, words, _ = _check_texts(check_spec.model_dump(mode="json", exclude_none=True))
        items.append(
            Item(
                "verify_rollback",
                "",
                0,
                executes,
                words,
                None,
                False,
                md_line(("verify_rollback", i)),
            )
        )
    return items


def _step_items(entry: dict[str, Any], phase: str, order: int, line: int | None) -> list[Item]:
    words = _norm(" ".join(str(entry.get(k) or "") for k in ("name", "description")))
    pause = entry.get("pause")
    manual = pause is not None and (
        pause == "approve"
        or (isinstance(pause, dict) and pause.get("until") == "approve")
        # a stated wait the run holds ("Αναμονή: 15 λεπτά" -> pause: 15m): not seconds
        or (isinstance(pause, (str, int, float)) and not entry.get("run"))
        or (isinstance(pause, dict) and "duration" in pause)
    )
    role = "step"
    if entry.get("monitor") or entry.get("background"):
        role = "other:monitor"  # a monitor bounded by its phase is not a plain step
    out = [
        Item(
            role,
            phase,
            order,
            _strip_comments(entry.get("run")),
            words,
            entry.get("when"),
            manual,
            line,
        )
    ]
    undo = entry.get("undo")
    if isinstance(undo, dict) and undo.get("run"):
        # the undo runs only when its step completed: its step's order and condition
        when = undo.get("when") or entry.get("when")
        run = _strip_comments(undo["run"])
        out.append(Item("undo", phase, order, run, words, when, False, line))
    return out


def import_doc(doc: Path) -> Imported:
    """The real import (the CLI's function) and the real plan model."""
    try:
        result = import_markdown_file(doc)
    except MarkdownImportError as exc:
        return Imported(doc.name, error=str(exc).splitlines()[0])
    loaded = load_plan_text(result.yaml_text, doc.with_suffix(".plan.yaml"))
    plan = loaded.plan
    items = flatten(plan, result.yaml_text, loaded.smap.locate)
    bindings = [
        str(getattr(spec, "needs_binding", None))
        for spec in plan.vars.values()
        if getattr(spec, "needs_binding", None)
    ]
    bindings += [t.needs_binding for t in plan.triggers if t.needs_binding]
    bindings += [s.needs_binding for p in plan.phases for s in p.steps if s.needs_binding]
    if plan.traffic is not None and plan.traffic.needs_binding:
        bindings.append(plan.traffic.needs_binding)
    return Imported(
        doc.name,
        plan=plan,
        report=result.report,
        items=items,
        bindings=bindings,
        executable=bool(result.report.get("executable")),
        phase_rank={plan.phases[i].id: rank for rank, i in enumerate(_phase_order(plan))},
    )


# a placeholder in another script (`<旧リビジョン>`, `<节点名>`), bound since round 11; the
# ASCII ones (`<node>`) were bound when the rounds citing them were labelled, around them
_ANGLED = re.compile(r"<[^<>\s\x00-\x7f][^<>\s]*>")


def _matching(imported: Imported, cmd: str) -> list[Item]:
    needle = _norm(cmd)
    found = [item for item in imported.items if needle and needle in item.executes]
    if not _ANGLED.search(needle) or len(_ANGLED.sub("", needle).strip()) < 3:
        return found
    # a command cited with its placeholder (`--to-revisions=<旧リビジョン>=100`) is the same
    # command once the placeholder is bound (`--to-revisions=${PLACEHOLDER_84ACFABF}=100`)
    bound = re.compile(r"\$\{[a-z0-9_]+\}".join(re.escape(part) for part in _ANGLED.split(needle)))
    return found + [
        item for item in imported.items if item not in found and bound.search(item.executes)
    ]


def evaluate(imported: Imported, spec: dict[str, Any]) -> list[Outcome]:
    """Every expectation of one labelled document, met or not, safety or not."""
    out: list[Outcome] = []
    if imported.error is not None:
        # nothing imported: only "not executable" and "never forward"-like safety hold
        for exp in spec.get("expectations", []):
            kind = exp["kind"]
            ok = kind in SAFETY_KINDS
            out.append(_outcome(imported.doc, exp, ok, f"import refused: {imported.error}"))
        if "executable" in spec:
            ok = spec["executable"] is False
            out.append(
                _outcome(imported.doc, _doc_exp(spec), ok, f"import refused: {imported.error}")
            )
        return out
    for exp in spec.get("expectations", []):
        met, detail = _judge(imported, exp)
        out.append(_outcome(imported.doc, exp, met, detail))
    if "executable" in spec:
        claimed = imported.executable
        met = claimed == spec["executable"]
        detail = f"report says executable={claimed}"
        out.append(_outcome(imported.doc, _doc_exp(spec), met, detail))
    return out


def _doc_exp(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "executable",
        "label": f"executable={spec['executable']}",
        "why": spec.get("executable_why", ""),
        "expected": spec["executable"],
    }


def _outcome(doc: str, exp: dict[str, Any], met: bool, detail: str) -> Outcome:
    kind = exp["kind"]
    label = str(
        exp.get("label")
        or exp.get("cmd")
        or exp.get("phrase")
        or exp.get("placeholder")
        or f"{exp.get('before')} < {exp.get('after')}"
    )
    safety = (kind in SAFETY_KINDS or "if_fails" in exp) and not met
    if kind == "executable" and exp.get("expected") is True:
        safety = False  # failing to claim executable is unhelpful, not unsafe
    return Outcome(doc, kind, label, exp.get("line"), str(exp.get("why", "")), met, safety, detail)


def _where(items: list[Item]) -> str:
    return ", ".join(
        f"{i.role}@{i.line}" + (f" when {i.when}" if i.when else "") for i in items[:4]
    )


def _judge(imp: Imported, exp: dict[str, Any]) -> tuple[bool, str]:
    kind = exp["kind"]
    if kind not in KINDS:
        raise ValueError(f"{imp.doc}: unknown expectation kind {kind!r}")
    if kind == "forward":
        found = _matching(imp, exp["cmd"])
        fwd = [i for i in found if i.unconditional_forward]
        return bool(fwd), f"found as {_where(found) or 'nothing'}"
    if kind == "never_forward":
        found = _matching(imp, exp["cmd"])
        fwd = [i for i in found if i.unconditional_forward]
        return not fwd, f"found as {_where(found) or 'nothing'}"
    if kind == "rollback":
        found = _matching(imp, exp["cmd"])
        rb = [i for i in found if i.role in ("rollback", "undo")]
        if "if_fails" in exp:
            return _conditional_rollback(imp, exp, found, rb)
        return bool(rb), f"found as {_where(found) or 'nothing'}"
    if kind == "never_ending":
        found = _matching(imp, exp["cmd"])
        plain = [i for i in found if i.role in ("step", "gate")]
        return not plain, f"found as {_where(found) or 'nothing (left out or manual)'}"
    if kind == "manual":
        phrase = _norm(exp["phrase"])
        hits = [i for i in imp.items if i.manual and phrase in i.words]
        if not hits:  # a pause step named generically inside a phase named by the phrase
            hits = [i for i in imp.items if i.manual and phrase in _norm(_phase_name(imp, i.phase))]
        return bool(hits), f"manual items matching: {len(hits)}"
    if kind in ("trigger", "not_trigger"):
        phrase = _norm(exp["phrase"])
        hits = [i for i in imp.items if i.role.startswith("trigger:") and phrase in i.words]
        if kind == "not_trigger":
            return not hits, f"triggers matching: {[i.words[:60] for i in hits]}"
        wanted = exp.get("action")
        good = [i for i in hits if wanted is None or i.role == f"trigger:{wanted}"]
        return bool(good), f"triggers matching: {[i.role for i in hits]}"
    if kind == "binding":
        placeholder = exp["placeholder"]
        bound = [b for b in imp.bindings if placeholder.lower() in b.lower()]
        literal = [i for i in _matching(imp, placeholder) if i.role in ("step", "gate")]
        if bound:
            return True, "needs binding"
        if literal:
            return False, f"runs literally as {_where(literal)}"
        return True, "not in any executable command (left to a human)"
    if kind == "order":
        # ``by_hand: after`` (or ``before``): that side is a command a person types (it waits
        # for a typed answer), so it is met by an unconditional manual step that names the
        # command at its place on the forward path, never by its absence
        # ``chosen: after``: that side is one of alternatives the operator picks between (a
        # tab of a `<Tabs>` group), so a step bound to that choice (``when``) at its place
        # meets it
        by_hand, chosen = exp.get("by_hand"), exp.get("chosen")
        before = _ordered(imp, exp["before"], by_hand == "before", chosen == "before")
        after = _ordered(imp, exp["after"], by_hand == "after", chosen == "after")
        if not before or not after:
            return False, f"not both forward (before: {len(before)}, after: {len(after)})"
        # within one step (a multi-line fence), the position in its text decides
        b_key = min((i.order, max(0, i.executes.find(_norm(exp["before"])))) for i in before)
        a_key = min((i.order, max(0, i.executes.find(_norm(exp["after"])))) for i in after)
        return b_key < a_key, f"positions {b_key} vs {a_key}"
    raise AssertionError(kind)  # executable is document-level


def _ordered(imp: Imported, cmd: str, by_hand: bool, chosen: bool = False) -> list[Item]:
    """The unconditional forward items that run ``cmd``; with ``by_hand``, also the
    unconditional manual steps that name it (a person runs it at that place); with
    ``chosen``, also the forward steps that run it when the operator chose them."""
    found = [i for i in _matching(imp, cmd) if i.unconditional_forward]
    if chosen:
        found += [
            i
            for i in _matching(imp, cmd)
            if i.role == "step" and i.when is not None and i.when.startswith("vars.DECISION_")
        ]
    if by_hand:
        needle = _norm(cmd)
        found += [
            i
            for i in imp.items
            if i.manual and i.role == "step" and i.when is None and needle in i.words
        ]
    return found


def _conditional_rollback(
    imp: Imported, exp: dict[str, Any], found: list[Item], rb: list[Item]
) -> tuple[bool, str]:
    """ "If X fails, roll back with Y": Y runs on the rollback X's failure starts, never on
    the forward path."""
    where = f"found as {_where(found) or 'nothing'}"
    if any(i.unconditional_forward for i in found):
        return False, f"runs forward: {where}"
    failing = [i for i in _matching(imp, exp["if_fails"]) if i.role in ("step", "gate")]
    if not failing:
        return False, f"{exp['if_fails']!r} is no step or gate; {where}"
    for x in failing:
        for y in rb:
            if not _holds_when_ran(y.when, x.when):
                continue
            if y.role == "rollback" and imp.phase_rank.get(y.phase, 1 << 30) <= imp.phase_rank.get(
                x.phase, -1
            ):
                return True, f"rollback of {y.phase} runs when {x.role}@{x.line} fails"
            if y.role == "undo" and y.order < x.order:
                return True, f"undo of a step before {x.role}@{x.line}"
    return False, f"does not run when {exp['if_fails']!r} fails: {where}"


def _holds_when_ran(condition: str | None, ran_under: str | None) -> bool:
    """A rollback's ``when`` holds whenever the failing item ran: none, the same, or a part
    of the item's conjunction."""
    if condition is None:
        return True
    if ran_under is None:
        return False
    return condition == ran_under or f"({condition})" in ran_under


def _phase_name(imp: Imported, phase_id: str) -> str:
    assert imp.plan is not None
    for phase in imp.plan.phases:
        if phase.id == phase_id:
            return f"{phase.id} {phase.name or ''}"
    return phase_id


def load_specs() -> list[dict[str, Any]]:
    specs = []
    for path in sorted(LABELLED.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec.setdefault("doc", path.stem + ".md")
        spec["_file"] = path.name
        specs.append(spec)
    return specs


def evaluate_all(corpus: Path = CORPUS) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for spec in load_specs():
        outcomes.extend(evaluate(import_doc(corpus / spec["doc"]), spec))
    return outcomes


def share(outcomes: list[Outcome]) -> float:
    return sum(o.met for o in outcomes) / len(outcomes) if outcomes else 0.0
