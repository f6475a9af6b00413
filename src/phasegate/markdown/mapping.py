"""Sections and blocks -> draft phases (steps, gates, rollback), with a report of every choice.

Which sections become phases: headings that name a phase/stage/step/day/week/wave/task or are
numbered; every other section with executable content becomes a phase of its own (the
document's single title heading excepted). Rollback sections feed the enclosing phase's
rollback, or the plan's when they stand alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from phasegate.markdown import (
    decisions,
    deps,
    devonly,
    directives,
    human,
    listings,
    order,
    placeholders,
    prose_actions,
    rollback_cases,
    routes,
    rules,
    shell,
    sqlsession,
    traffic,
    triggers,
    undo_sections,
)
from phasegate.markdown.blocks import BlockMapper
from phasegate.markdown.draft import Draft, PhaseDraft
from phasegate.markdown.nodes import StepNode
from phasegate.markdown.parse import (
    Block,
    Comment,
    Document,
    Fence,
    Item,
    Paragraph,
    Section,
    Table,
)
from phasegate.plan.model import slugify


@dataclass
class _Walk:
    draft: Draft
    title_section: Section | None
    phase_like: set[int] = field(default_factory=set)  # id() of sections holding a phase
    inner: list[tuple[str, PhaseDraft]] = field(default_factory=list)  # nested headings
    # "Upgrading from 1.x to 2.x" beside "Upgrading from 2.x to 3.x": each applies to readers
    # on its starting version; id() of such sections (the operator says which apply)
    version_spans: set[int] = field(default_factory=set)
    # "## Week 1: 5%" … "## Week 2: 25%": the last such heading's (unit, number)
    last_day: tuple[str, int] | None = None


# "Week 2: 25% of traffic", "Day 3", "Tag 2", "Semana 2": a heading dated in the rollout's days
_DAY_HEADING = re.compile(
    r"^[\W_]*(day|week|month|tag|woche|d[ií]a|semana|jour|semaine)\s*(\d{1,3})\b", re.I
)


def _later_day(walk: _Walk, section: Section) -> bool:
    """A heading dated after the last dated one ("Week 2" after "Week 1"): the document
    waits until then; a run cannot sleep for days, so a person says when (issue 11 §9)."""
    match = _DAY_HEADING.match(section.title)
    if match is None:
        return False
    day = (match.group(1).lower(), int(match.group(2)))
    later = walk.last_day is not None and walk.last_day[0] == day[0] and day[1] > walk.last_day[1]
    walk.last_day = day
    return later


# "Upgrading from 1.x to 2.x", "From v2 to v3", "Migrating 14 → 15", "von 1.x auf 2.x"
_VERSION_SPAN = re.compile(
    r"\b(?:from|von|de|desde)\s+v?\d+(?:\.[\dx*]+)*\s*(?:to|→|->|auf|a|para|vers)\s+v?\d|"
    r"^[\W_]*(?:upgrad\w*|migrat\w*|updat\w*)\s+v?\d+(?:\.[\dx*]+)*\s*(?:→|->)\s*v?\d",
    re.I,
)


def _version_spans(root: Section) -> set[int]:
    found: set[int] = set()
    for section in root.walk():
        spans = [c for c in section.children if _VERSION_SPAN.search(c.title)]
        if len(spans) >= 2:
            found |= {id(c) for c in spans}
    return found


def map_document(doc: Document, source: str) -> Draft:
    draft = Draft(source=source)
    root = doc.root
    title = root.children[0] if len(root.children) == 1 and root.children[0].children else None
    draft.title = _title(doc, root)
    draft.rollback_purpose = rules.is_rollback_purpose(draft.title)
    walk = _Walk(draft, title)
    walk.version_spans = _version_spans(root)
    _carry_phase_directives(root, source)
    for section in root.walk():
        if (
            section.level
            and rules.is_phase_title(section.title)
            and not rules.numbered_reference(section.title)
        ):
            walk.phase_like.add(id(section))
    if title is not None and any(id(s) in walk.phase_like for s in title.walk()[1:]):
        # "# Phase 6: Production migration" over "## Task group 6.1 …": the H1 is the plan's
        # title and its task groups are the phases (issue 11 §8)
        walk.phase_like.discard(id(title))
    draft.health_url = _health_url(root)
    draft.examples = placeholders.example_values(doc)
    draft.sql_sessions = sqlsession.sessions(doc)
    draft.replaced = placeholders.replaced_values(doc)
    draft.referenced = human.referenced_names(
        str(getattr(b, "text", "")) for s in root.walk() for b in s.blocks
    )
    for skipped in doc.skipped:  # HTML the importer did not read: said, never dropped (§11)
        draft.note("skipped", line=skipped.line, what=skipped.what, why=skipped.why)
    _visit(walk, root, None, rollback=False)
    traffic.finish(draft)
    triggers.finish(draft)  # after the ramps: it shifts step positions
    _apply_budgets(draft)
    order.keep_checks_in_place(draft, doc)  # pre-checks guard the step after them (§8)
    _link_dependencies(draft, walk.inner)
    _checklist_only_rollback(draft)
    return draft


def _checklist_only_rollback(draft: Draft) -> None:
    """The document's way back is only a person's checklist (device prompts, console clicks,
    a command line written for someone to type): with no rollback action, a failed run would
    "roll back" doing nothing and say so. The rollback asks that person instead (a rollback
    decision naming the checklist), as for "reverse the steps above"."""
    checklist = draft.metadata.get("rollback_checklist")
    if not isinstance(checklist, list) or not checklist or draft.rollback_purpose:
        return
    if draft.plan_rollback or any(p.rollback for p in draft.phases):
        return
    if draft.rollback_extra.get("rollback_decision") or any(
        p.extra.get("rollback_decision") for p in draft.phases
    ):
        return
    lines = [e.get("line", 0) for e in draft.report["rollback_checklist"]]
    line = min((n for n in lines if isinstance(n, int) and n > 0), default=0)
    todo = "; ".join(rules.one_line(str(item), 100) for item in checklist[:4])
    way = decisions.Lead(rules.one_line(f"Roll back by hand: {todo}", 200), line)
    decisions.decide_rollback(draft, None, Section(1, "rollback by hand", line), [way])
    why = "the way back is a person's checklist: the rollback asks them to do it"
    draft.note("review", line=line, what=rules.one_line(todo, 80), why=why)


def _apply_budgets(draft: Draft) -> None:
    """ "Stage 1 | <1 minute" rows of a rollback time table -> that phase's rollback budget."""
    for label, seconds, line in draft.budgets:
        slug = slugify(label)
        phase = next(
            (
                p
                for p in draft.phases
                if slug and (p.id == slug or p.id.startswith(slug + "-") or slug in p.keys)
            ),
            None,
        )
        if phase is None:
            if slug in ("all", "overall", "total", "any-stage", "plan", "global"):
                draft.rollback_budget = draft.rollback_budget or seconds
                draft.note("budgets", line=line, where="plan", seconds=seconds)
            else:
                draft.note("unmapped", line=line, section="rollback time", what=label)
            continue
        if phase.rollback_budget is None or phase.rollback_budget > seconds:
            phase.rollback_budget = seconds
        draft.note("budgets", line=line, where=phase.id, seconds=seconds)


def _health_url(root: Section) -> str | None:
    """The first health endpoint the document names anywhere, for health-check triggers."""
    for section in root.walk():
        for block in section.blocks:
            text = getattr(block, "text", "")
            if isinstance(block, Table):
                text = " ".join(" ".join(row) for row in block.rows)
            found = triggers.find_health_url(text) if isinstance(text, str) else None
            if found:
                return found
    return None


def _carry_phase_directives(root: Section, source: str) -> None:
    """A ``<!-- phasegate: {phase: …} -->`` just before a heading is about that heading: the
    parser left it at the end of the previous section, so it moves to the heading's own."""
    sections = root.walk()
    for section, following in itertools.pairwise(sections):
        moved: list[Block] = []
        while section.blocks and isinstance(section.blocks[-1], Comment):
            comment = section.blocks[-1]
            found = directives.read_comment(comment.text, source, comment.line)
            if found is None or found.for_block:
                break
            moved.insert(0, section.blocks.pop())
        following.blocks[:0] = moved


def _title(doc: Document, root: Section) -> str:
    for key in ("name", "title"):
        value = doc.front_matter.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    h1 = [s for s in root.children if s.level == 1]
    if h1:
        return h1[0].title
    # "## Rollback Runbook" alone at the top, no H1: the document's only heading names it
    only = root.children[0] if len(root.children) == 1 else None
    return only.title if only is not None and not only.children else ""


def _holds_phase(walk: _Walk, section: Section) -> bool:
    return any(id(s) in walk.phase_like for s in section.walk())


def _visit(
    walk: _Walk,
    section: Section,
    phase: PhaseDraft | None,
    rollback: bool,
    when: str | None = None,
) -> None:
    draft = walk.draft
    if _reference(walk, section, rollback):
        return
    # The document's purpose decides roles: a title is no role, and in a rollback runbook the
    # rollback is the forward path (issue 11 §5).
    own = (
        section.level > 0
        and section is not walk.title_section
        and not draft.rollback_purpose
        and rules.is_rollback_title(section.title)
    )
    # "Emergency rollback (when automated fails)": recovery, never the forward path (§1)
    recovery = (
        section.level > 0
        and section is not walk.title_section
        and not own
        and not rules.is_alternative_title(section.title)  # "(if automation is down)": a choice
        and rules.is_failure_condition(section.title)
    )
    if recovery and not rollback:
        draft.note("recovery", line=section.line, what=section.title, why="conditional heading")
    is_rollback = rollback or own or recovery
    if is_rollback and not rollback:
        where = phase.id if phase else "plan"
        draft.note("rollback_sections", line=section.line, title=section.title, phase=where)
    if phase is None and not is_rollback and section.level > 0:
        if id(section) in walk.phase_like:
            # a repeated "Phase 1: Deploy" heading adds to that phase (issue 11 §8)
            same = [p for p in draft.phases if p.named and p.name == section.title.strip()]
            phase = same[0] if same else draft.new_phase(section.title, section.line, named=True)
        elif section is not walk.title_section and not _holds_phase(walk, section):
            phase = draft.new_phase(section.title, section.line, named=False)
    elif phase is not None and section.level > 0 and section.line != phase.line:
        walk.inner.append((section.title, phase))  # "Task 1.2" under "Phase 1" names it
    if (
        phase is not None
        and not is_rollback
        and section.level > 0
        and section is not walk.title_section
        and (
            (
                rules.is_optional_part(section.title)
                # "1 Week Later" over reminders: deferred, yet nothing to run or to decide
                and (_runs_something(section) or not rules.defers(section.title))
            )
            or _opens_with_a_setup_condition(section)
            or id(section) in walk.version_spans
        )
        # "Option B (if automation is unavailable)": the option's own condition, already a choice
        and not (
            rules.is_alternative_title(section.title) and not rules.is_optional_title(section.title)
        )
    ):
        # "(Optional)": a decision with one choice; unchosen, nothing of it runs (§1)
        when = decisions.combine(
            when, decisions.decide(draft, phase, section, [section])[id(section)]
        )
    options: Sequence[Section | routes.Situation] = (
        _alternatives(section) if not is_rollback else []
    )
    if not options and not is_rollback:  # "→ Go to 3a" / "→ go to 3b": a decision tree
        options = routes.branches(section, section.children)
    if options and phase is None:
        phase = draft.new_phase(section.title or "decision", section.line, named=True)
    mapper: BlockMapper | None = None
    if section.blocks:
        target = phase
        if target is None and not is_rollback:
            label = section.title or "preamble"
            target = draft.new_phase(label, section.line, named=False)
        before = _mapped(draft)
        held = _held(target)
        mapper = BlockMapper(draft, target, section, rollback=is_rollback, when=when)
        if (
            phase is not None
            and not is_rollback
            and (
                rules.asks_human(section.title)
                or (_later_day(walk, section) and _runs_something(section))
            )
        ):
            # "Cleanup (after 2 weeks at 100%)": the person's word comes before what follows
            mapper.confirm(section.title, section.line)
        first = len(target.steps) if target is not None else 0
        mapper.map_blocks()
        if (
            target is not None
            and not is_rollback
            and not draft.rollback_purpose  # a rollback runbook's way back is its path
            and section is not walk.title_section
            and undo_sections.unclassified(section, id(section) in walk.phase_like)
        ):
            # "## Gotchas" over `rm -rf`, "## Peruminen" over `REVERT …`: a heading no rule
            # knows over commands that undo or destroy asks first (blind round 12)
            undo_sections.ask_first(draft, target, section, first, when)
        prose_only = _mapped(draft) == before  # nothing executable: prose a human has to read
        warned = len(mapper.warned)  # warnings acknowledged are no work of the section's
        if (
            id(section) in walk.phase_like
            and not is_rollback
            and not section.children
            and _mapped(draft) == before + warned  # no ramp, trigger or checklist either
            and _held(target) == held + warned
            and not rules.is_reference_title(section.title)
        ):
            _prose_step(mapper, section)
        elif (
            not is_rollback
            and section.level > 0
            and section is not walk.title_section  # the document's introduction
            and _mapped(draft) == before + warned
            and _held(target) == held + warned
            and not rules.is_reference_title(section.title)
            and _prose_actions(mapper, section)
        ):
            prose_only = False  # a person's actions, said as such
        if prose_only:
            draft.note("unmapped_sections", line=section.line, title=section.title or "(top)")
    if phase is not None and not is_rollback and rules.asks_human(section.title):
        (mapper or BlockMapper(draft, phase, section, False, when)).confirm(
            section.title, section.line
        )
    chosen = decisions.decide(draft, phase, section, options) if options and phase else {}
    ways = _ways_back(section) if is_rollback else []
    if ways:  # "Option A: revert the image" / "Option B: restore the snapshot": chosen later
        chosen = decisions.decide_rollback(draft, phase, section, ways)
    automated = False  # an earlier sibling already gave commands for this part
    routed: dict[int, str] = {}  # siblings a decision tree's router sends the reader to
    for index, child in enumerate(section.children):
        child_when = chosen.get(id(child), when)
        if id(child) in routed:
            child_when = decisions.combine(child_when, routed[id(child)])
        if automated and phase is not None and not is_rollback and _manual_way(child):
            # "Manual add-on upgrade" after "Upgrade add-ons with Terraform": another way to do
            # it, run only when the operator chooses it (issue 11 §1)
            child_when = decisions.combine(
                child_when, decisions.decide(draft, phase, child, [child])[id(child)]
            )
        automated = automated or any(isinstance(b, Fence) for b in child.blocks)
        _visit(walk, child, phase, is_rollback, child_when)
        later = routes.branches(child, section.children[index + 1 :]) if not is_rollback else []
        if later and draft.phases:
            routed.update(decisions.decide(draft, draft.phases[-1], child, later))


def _runs_something(section: Section) -> bool:
    """A shell fence in the section or below it: something a deferral would hold back (a
    "1 Week Later" list of reminders holds back nothing, and the run does not wait a week)."""
    return any(
        isinstance(b, Fence) and shell.is_shell_fence(b.lang, b.text) for b in section.blocks
    ) or any(_runs_something(child) for child in section.children)


_YOUR_SETUP = re.compile(
    r"^[\W_]*(?:if|when|unless)\s+(?:you(?:'re|\s+are|\s+use|\s+run|\s+have|\s+deploy)?|your)\b"
    r"|^[\W_]*(?:si|cuando)\s+(?:usas|tienes|utilizas|su|tu)\b|^[\W_]*(?:wenn|falls)\s+(?:sie|du)\b",
    re.I,
)


def _opens_with_a_setup_condition(section: Section) -> bool:
    """ "### Additional steps for an ICOS origin" opening with "If you are configuring an ICOS
    static website origin, additional steps are required": a part for some readers only (a
    failure condition is recovery instead, decided elsewhere)."""
    first = next((b for b in section.blocks if not isinstance(b, Comment)), None)
    return (
        isinstance(first, Paragraph)
        and bool(_YOUR_SETUP.match(first.text.strip()))
        and not rules.is_conditional_text(first.text)
    )


def _held(phase: PhaseDraft | None) -> int:
    if phase is None:
        return 0
    return len(phase.steps) + len(phase.gates) + len(phase.rollback) + len(phase.monitors)


def _prose_step(mapper: BlockMapper, section: Section) -> None:
    """ "## Step 3: Stop and upgrade all nodes" over prose alone: the author numbered it among
    the steps, so it is one, done by hand. An empty phase would pass in no time and the run go
    on to the next step as if the nodes were upgraded (issue 11 §7)."""
    prose = [
        b.text
        for b in section.blocks
        if isinstance(b, Paragraph)
        and b.text.strip()
        and not b.aside
        and not rules.metadata_lines(b.text)
        and not rules.is_lead_in(b.text)  # "Questions:" over a list introduces, says nothing
    ]
    # "## 2. Update the image version" over a compose-file listing: the person edits the file
    listing = next((b for b in section.blocks if isinstance(b, Fence) and b.lang), None)
    said = any(isinstance(b, (Paragraph, Item)) for b in section.blocks)  # a listing alone: data
    if listing is not None and not prose and said:
        prose = [f"write what the {listing.lang} listing at line {listing.line} shows."]
    if prose and mapper.phase is not None and listing is None and _prose_actions(mapper, section):
        return  # its prose orders actions: said word for word, and not executable as written
    if prose and mapper.phase is not None:
        step = human.prose_step(section.title, prose[0])
        mapper.add_step(step, section.line, rule="numbered section of prose")


_PURPOSE = re.compile(
    r"^[\W_]*(?:objectives?|goals?|purpose|aims?|scope|summary|overview|background|context|"
    r"motivation|why|目标|目的|背景|概要|概述|목표|목적|개요|ziel|objectif|objetivo|obiettivo|doel)\b",
    re.I,
)


def _prose_actions(mapper: BlockMapper, section: Section) -> bool:
    """ "## Day 2" over "Add `Dept-Sales` to the policy's scope." and nothing else: a section
    whose procedure is only actions written in prose (a web console, a UI; any language) is a
    step a person does at its place. An empty section would pass at once and the run go on as
    if the groups were scoped; the plan is not executable as written (report ``by_hand``)."""
    if _PURPOSE.search(section.title):
        return False  # "### Objective: add a flag check at the call site": what, not how
    units = [
        b
        for b in section.blocks
        if isinstance(b, (Paragraph, Item))
        and b.text.strip()
        and not b.aside
        and not rules.is_lead_in(b.text)
        and not (isinstance(b, Paragraph) and rules.metadata_lines(b.text))
        and not (isinstance(b, Item) and b.checked)  # a task ticked in the document is done
    ]
    found = [prose_actions.actions(b.text) for b in units]
    if not units or not all(found) or mapper.phase is None:
        # a list of what a playbook does with notes between, a roadmap of features: the
        # procedure is not only a person's actions
        return False
    said = [sentence for sentences in found for sentence in sentences]
    step: StepNode = {"name": prose_actions.step_name(section.title, said), "pause": "approve"}
    mapper.add_step(step, section.line, rule="prose actions: done by hand")
    mapper.draft.note("by_hand", line=section.line, what=rules.one_line("; ".join(said), 100))
    return True


def _reference(walk: _Walk, section: Section, rollback: bool) -> bool:
    """Troubleshooting, examples, contacts, glossary …: read, never run (issue 11 §1, §7)."""
    if not section.level or rollback or id(section) in walk.phase_like:
        return False
    if section is walk.title_section:
        return False
    if _holds_phase(walk, section):
        # "## Troubleshooting" over a "### Step 1" (a heading level slipped): its phases are
        # the document's, its own text is still reference, never run
        if rules.is_reference_title(section.title) and not rules.is_example_procedure(
            section.title
        ):
            for block in section.blocks:
                walk.draft.note("reference", line=block.line, section=section.title)
            section.blocks = []
        return False
    # "Development: … NOT FOR PRODUCTION" / "NO USAR EN PRODUCCIÓN": a developer's notes (§1)
    dev_only = (
        any(isinstance(b, (Paragraph, Item)) and devonly.marked(b.text) for b in section.blocks)
        or devonly.marked(section.title)
        # "## Da non eseguire mai", "## Never run these", "## Deprecated": never run
        or listings.forbids(section.title)
        or rules.is_deprecated(section.title)
    )
    if not dev_only and (
        not rules.is_reference_title(section.title) or rules.is_example_procedure(section.title)
    ):
        return False
    if not dev_only and _emergency_rollback(walk.draft, section):
        return False
    for inner in section.walk():
        for block in inner.blocks:
            walk.draft.note("reference", line=block.line, section=inner.title)
    walk.draft.note("unmapped_sections", line=section.line, title=section.title)
    return True


_EMERGENCY = re.compile(r"emergenc|contingenc|notfall|emergencia|emerg[eê]ncia|应急|紧急", re.I)


def _emergency_rollback(draft: Draft, section: Section) -> bool:
    """ "## Emergency Procedures" over "### Rollback Criteria" and "### Rollback Execution": the
    document's rollback, filed under what it is for; its rollback parts keep their role (never
    forward, run on rollback) instead of being left out as reference notes. Contacts and other
    children stay notes: only rollback-titled children hold anything, the rest is skipped."""
    if not _EMERGENCY.search(section.title) or section.blocks:
        return False
    rollback = [c for c in section.children if rules.is_rollback_title(c.title)]
    if not rollback:
        return False
    for child in section.children:
        if child not in rollback:  # contacts, communication: notes only, said as such
            for inner in child.walk():
                for block in inner.blocks:
                    draft.note("reference", line=block.line, section=inner.title)
            child.blocks, child.children = [], []
    return True


_MANUAL_WAY = re.compile(r"^[\W_]*(?:(?:manual(?:ly)?|manuell)\b|手动|手工)", re.I)


def _manual_way(section: Section) -> bool:
    """A "Manual X" heading that is not a rollback: the by-hand way of what came before."""
    title = section.title
    return bool(_MANUAL_WAY.match(title)) and not rules.is_rollback_title(title)


def _ways_back(section: Section) -> list[Section]:
    """Child sections of a rollback section that are ways to roll back, one or the other
    ("Option A" / "Option B", "… method", "On Kubernetes" / "On VMs"), and cases of the
    rollback a person tells apart ("### Only if more than two nodes fail: the on-call lead
    decides" / "### Otherwise: restart the stuck node"; rollback_cases.py). Parts that each
    name a failure ("If the migration fails") stay what they are."""
    for found in (
        [c for c in section.children if rules.is_alternative_title(c.title)],
        [c for c in section.children if rules.is_way_title(c.title)],
        [c for c in section.children if rules.is_platform_title(c.title)],
    ):
        if len(found) >= 2:
            return found
    cases = [c for c in section.children if rollback_cases.states_case(c.title)]
    if rollback_cases.one_or_the_other([c.title for c in cases]):
        return cases
    return []


def _alternatives(section: Section) -> list[Section]:
    """Child sections that are ways to do one thing: "Option A", "Method 2 (NOT RECOMMENDED)";
    or that answer situations ("High error rate alert", "What happened: … What to do: …"):
    the operator says which applies, and only its remedies run (decisions.situations)."""
    found = [c for c in section.children if rules.is_alternative_title(c.title)]
    if len(found) >= 2:
        return found
    # "### In-place upgrade method" / "### Blue-green upgrade method": one or the other
    found = [c for c in section.children if rules.is_way_title(c.title)]
    if len(found) >= 2:
        return found
    found = [c for c in section.children if rules.is_platform_title(c.title)]
    if len(found) >= 2:  # "### macOS" / "### Windows": the reader's platform decides
        return found
    found = [c for c in section.children if _self_contained_procedure(c)]
    if len(found) >= 2:
        # an operations guide's "## Create a release branch" / "## Ship a hotfix", each with
        # its own prerequisites and steps: separate procedures, the operator picks the one
        # the situation needs (never all of them one after another)
        return found
    return decisions.situations(section)


def _self_contained_procedure(section: Section) -> bool:
    """A section, not a phase, with its own prerequisites and its own steps sub-sections."""
    if rules.is_phase_title(section.title) or rules.is_rollback_title(section.title):
        return False
    titles = [c.title for c in section.children]
    return any(rules.is_prerequisites_title(t) for t in titles) and any(
        rules.is_procedure_title(t) for t in titles
    )


_MAPPED = ("steps", "checks", "rollback", "rollback_checklist", "triggers")


def _mapped(draft: Draft) -> int:
    return sum(len(draft.report[kind]) for kind in _MAPPED) + len(draft.ramps)


def _link_dependencies(draft: Draft, inner: list[tuple[str, PhaseDraft]]) -> None:
    """Phases run in document order; stated dependencies (deps.py) add edges between them."""
    kept = [p for p in draft.phases if p.keep()]
    for previous, phase in itertools.pairwise(kept):
        phase.needs.append(previous.id)
    deps.link(draft, kept, inner)
