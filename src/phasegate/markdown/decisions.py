"""Alternatives ("Option A / Option B", "Method 2 (NOT RECOMMENDED)") -> one decision (§1).

Running every option one after the other is never what the author meant. The options become a
decision the operator makes: a ``pause: approve`` step where the document offers the choice
(the run stops there), a variable naming the choice, and a ``when:`` on every item of each
option so that only the chosen one runs. The pause passes only once its approver chose
(``phasegate approve RUN --choose OPTION``): the import never chooses for a human, and an
approval without a choice cannot silently run none of the options.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from phasegate.markdown import rules
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.parse import Block, Fence, Item, Paragraph, Section

if TYPE_CHECKING:  # annotations only: blocks.py imports this module
    from phasegate.markdown.blocks import BlockMapper
    from phasegate.markdown.nodes import RollbackDecision, StepNode
    from phasegate.markdown.shell import Chunk
from phasegate.plan.model import slugify


class Choice(Protocol):
    """An option as the document offers it: a heading (a Section) or a lead-in paragraph."""

    @property
    def title(self) -> str: ...

    @property
    def line(self) -> int: ...


class FenceContext(Protocol):
    """Where a fence is being mapped (blocks.BlockMapper and its fence half)."""

    draft: Draft
    phase: PhaseDraft | None
    section: Section
    rollback: bool


def combine(outer: str | None, inner: str) -> str:
    """An option inside an option runs only when both were chosen."""
    return f"({outer}) && ({inner})" if outer else inner


def decide(
    draft: Draft, phase: PhaseDraft, section: Section, options: Sequence[Choice]
) -> dict[int, str]:
    base = re.sub(r"[^A-Z0-9]+", "_", (section.title or phase.id).upper()).strip("_")[:40]
    var = f"DECISION_{base or len(draft.vars) + 1}"
    while var in draft.vars:
        var += "_2"
    values: list[str] = []
    for option in options:
        title = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", option.title)  # "(if automation …)"
        title = title.replace("*", "").replace("_", " ").strip().rstrip(":")
        value = slugify(title)[:40].strip("-") or f"option-{len(values) + 1}"
        while value in values:
            value += "-2"
        values.append(value)
    # an optional part is a decision of one option: doing it, or not ("none")
    offered = [*values, "none"] if len(values) == 1 and "none" not in values else values
    choices = " | ".join(offered)
    draft.vars[var] = {
        "env": var,
        "default": "",
        "description": f"the choice the document leaves to the operator: {choices}",
    }
    # Each option's own words, long enough to carry who decides ("Only after one week without
    # issues (the catalog lead decides)"): the person asked reads them, not only the slug.
    listed = "; ".join(
        f"{v} ({rules.one_line(o.title, 120)})" for v, o in zip(values, options, strict=True)
    )
    step: StepNode = {
        "name": f"Decide: {listed}. Approve with --choose <choice>",
        # the pause passes only with a choice: approving alone never runs none of the options
        "pause": {"until": "approve", "choose": {"var": var, "options": offered}},
    }
    phase.steps.append(Entry(step, options[0].line))
    draft.note("steps", phase=phase.id, line=options[0].line, name=step["name"], rule="decision")
    draft.note("decisions", line=options[0].line, phase=phase.id, variable=var, choices=offered)
    return {
        id(option): f"vars.{var} == '{value}'"
        for option, value in zip(options, values, strict=True)
    }


def decide_rollback(
    draft: Draft, phase: PhaseDraft | None, section: Section, options: Sequence[Choice]
) -> dict[int, str]:
    """Two ways back ("Option A: revert the image" / "Option B: restore the snapshot" under a
    rollback heading): a person chooses when the rollback comes (the phase's
    ``rollback_decision``), each way's actions carry ``when:`` and only the chosen one runs.
    A second menu of the same phase adds its ways to the same choice (one way is chosen)."""
    holder = phase.extra if phase is not None else draft.rollback_extra
    existing: RollbackDecision | None = holder.get("rollback_decision")
    if existing is None:
        base = re.sub(r"[^A-Z0-9]+", "_", (section.title or "rollback").upper()).strip("_")[:30]
        var = f"ROLLBACK_WAY_{base or len(draft.vars) + 1}"
        while var in draft.vars:
            var += "_2"
        existing = {"var": var, "options": []}
        holder["rollback_decision"] = existing
    var, values = existing["var"], existing["options"]
    # The person choosing reads each way in the document's words ("Only if more than two nodes
    # fail: the on-call lead decides"), not only its slug.
    titles = draft.way_titles.setdefault(var, {})
    found: dict[int, str] = {}
    for option in options:
        title = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", option.title)
        title = title.replace("*", "").replace("_", " ").strip().rstrip(":")
        value = slugify(title)[:40].strip("-") or f"way-{len(values) + 1}"
        while value in values:
            value += "-2"
        values.append(value)
        titles[value] = rules.one_line(option.title, 120)
        found[id(option)] = f"vars.{var} == '{value}'"
    draft.vars[var] = {
        "env": var,
        "default": "",
        "description": "the way to roll back, chosen when the rollback comes: "
        + " | ".join(f"{v} ({titles[v]})" if titles.get(v) else v for v in values),
    }
    draft.note(
        "decisions",
        line=options[0].line,
        phase=phase.id if phase is not None else "plan",
        variable=var,
        choices=list(values),
        on="rollback",
    )
    return found


@dataclass
class Lead:
    """An option named by a line of text (a lead-in paragraph, a list item, a comment)."""

    title: str
    line: int


_Lead = Lead


class ChoiceLeads:
    """Options and optional parts introduced by a lead-in paragraph, not a heading:
    "**Option A: In-Place Upgrade**" … "**Option B: Backup → Restore**", "Optional
    per-namespace commands:" (issue 11 §1). Options become one decision (decisions.py) and
    what follows each lead-in runs only when it was chosen, to the end of the section; an
    optional part is a decision of its own, up to the next lead-in."""

    def __init__(self, mapper: BlockMapper) -> None:
        self.mapper = mapper
        self.outer = mapper.when
        self.options: list[Paragraph | Item] = []
        self.conditions: dict[int, str] = {}
        self.optional_open = False
        self.optional_list = False  # the optional part's list has begun (it ends with it)
        self.item_option = False  # the option open is a list item's (its fence only)
        if mapper.phase is None or mapper.rollback:
            return
        paragraphs = [b for b in mapper.section.blocks if isinstance(b, Paragraph)]
        self.options = [b for b in paragraphs if _short(b) and rules.is_alternative_title(b.text)]
        if len(self.options) < 2:  # "**In-place upgrade method**" … "**Blue-green … method**"
            self.options = [b for b in paragraphs if _short(b) and rules.is_way_title(b.text)]
        if len(self.options) < 2:  # "**On macOS:**" … "**On Windows:**"
            self.options = [
                b
                for b in paragraphs
                if _short(b) and rules.is_lead_in(b.text) and rules.is_platform_title(b.text)
            ]
        if len(self.options) < 2:
            self.options = _situations(mapper.section.blocks)
        if len(self.options) < 2:  # "## Run it (pick A or B)" … "**A. With screen**"
            self.options = _lettered_ways(mapper.section.title, paragraphs)
        # "**Alternatively**, rotate it through the API:" after a fence: that fence or this one
        self.sole: tuple[Block, Paragraph, Fence] | None = None
        if len(self.options) < 2:
            self.options = []
            self.sole = _sole_alternative(mapper.section.blocks)
        # the same command shown twice, with and without an option: two ways, never both
        self.variants = _variants(mapper.section.blocks) if self.sole is None else None
        self.variant_when: dict[int, str] = {}

    def _ids(self) -> set[int]:
        return {id(o) for o in self.options}

    def enter(self, block: Block) -> None:
        mapper = self.mapper
        if mapper.phase is None or mapper.section_rollback:
            return
        if self.sole is not None and block in self.sole[:2]:
            self._enter_sole(block)
            return
        if self.variants is not None and self._enter_variant(block):
            return
        if isinstance(block, Item) and self.options and id(block) not in self._ids():
            if self.item_option:  # an item's situation lasts for its own fence only
                mapper.when, self.item_option = self.outer, False
            return
        if not isinstance(block, (Paragraph, Item)):
            return
        if isinstance(block, Paragraph) and self.item_option:
            mapper.when, self.item_option = self.outer, False
        text = block.text.strip()
        if self.optional_open and self._ends_optional(block, text):
            mapper._flush_procedure()
            mapper.when, self.optional_open = self.outer, False
            self.optional_list = False
            return
        if self.optional_open and isinstance(block, Item):
            self.optional_list = True
        if self.options and id(block) in self._ids():
            self.item_option = isinstance(block, Item)
            if not self.conditions:
                leads = [_Lead(o.text.strip(), o.line) for o in self.options]
                found = decide(mapper.draft, mapper.phase, mapper.section, leads)
                self.conditions = {
                    id(o): found[id(lead)] for o, lead in zip(self.options, leads, strict=True)
                }
            mapper._flush_procedure()
            mapper.when = combine(self.outer, self.conditions[id(block)])
            self.optional_open = False
        elif isinstance(block, Item):
            return
        elif (
            (
                (_short(block) and rules.is_optional_part(text))
                or (
                    _ends_with_lead(block)
                    and rules.is_optional_part(rules.last_sentence(" ".join(text.split())))
                )
            )
            and not self.conditions
            # "**Rollback (if needed):**" is the way back, asked by the failure, not a choice
            and not rules.is_rollback_title(text)
            # "If the plan destroys anything, stop and check with the team.": a person's
            # judgement before what follows (a pause, blocks.py), not a part to skip
            and not rules.stops_to_ask(text)
        ):
            mapper._flush_procedure()
            lead = _Lead(text, block.line)
            found = decide(mapper.draft, mapper.phase, mapper.section, [lead])
            mapper.when = combine(self.outer, found[id(lead)])
            self.optional_open = True

    def _ends_optional(self, block: Paragraph | Item, text: str) -> bool:
        """An optional part ("Optionally:") ends at the next lead-in, at the end of the list
        that follows it, or at a list item naming the way back ("- **Rollback** after
        switchover:"): a rollback is no optional forward action and keeps its role."""
        if isinstance(block, Item):
            return rules.is_lead_in(text) and rules.is_rollback_title(text)
        return self.optional_list or rules.is_lead_in(text)

    def _enter_variant(self, block: Block) -> bool:
        """The first variant's fence runs when chosen, the second's when it is chosen; what
        follows the second is the section's path again."""
        mapper = self.mapper
        assert self.variants is not None and mapper.phase is not None
        first, second = self.variants
        if block is first:
            one, two = (set(_one_command(f.text) or []) for f in (first, second))
            extra = " ".join(sorted(one ^ two))
            with_first = len(one) > len(two)
            leads = [
                _Lead(f"{'with' if with_first else 'without'} {extra}", first.line),
                _Lead(f"{'without' if with_first else 'with'} {extra}", second.line),
            ]
            found = decide(mapper.draft, mapper.phase, mapper.section, leads)
            self.variant_when = {id(first): found[id(leads[0])], id(second): found[id(leads[1])]}
        if id(block) in self.variant_when:
            mapper._flush_procedure()
            mapper.when = combine(self.outer, self.variant_when[id(block)])
            return True
        if self.variant_when and _after(mapper.section.blocks, block, second):
            mapper.when = self.outer
        return False

    def _enter_sole(self, block: Block) -> None:
        """The way written first, then the alternative a lead-in offers after it: one decision
        between the two, asked where the first way starts (never both one after the other)."""
        mapper = self.mapper
        assert self.sole is not None and mapper.phase is not None
        start, lead_in, fence = self.sole
        if block is start:
            first = next(
                (
                    ln.strip()
                    for ln in fence.text.splitlines()
                    if ln.strip() and ln.strip()[0] != "#"
                ),
                "as written first",
            )
            title = start.text.strip() if isinstance(start, Paragraph) else first
            leads = [
                _Lead(rules.one_line(title, 60), start.line),
                _Lead(lead_in.text, lead_in.line),
            ]
            found = decide(mapper.draft, mapper.phase, mapper.section, leads)
            self.conditions = {id(start): found[id(leads[0])], id(lead_in): found[id(leads[1])]}
        mapper._flush_procedure()
        mapper.when = combine(self.outer, self.conditions[id(block)])


# "**Alternatively**, …", "Or, using the API:", "Instead, you can …", "Alternativamente": one
# other way to do what the fence before it does
_SOLE_ALTERNATIVE = re.compile(
    r"^[\W_]*(?:alternative(?:ly)?\b|or\b\s*(?:,|you can|use|run|with|via|using|through)|"
    r"instead,? you (?:can|may)|otherwise,? you (?:can|may)|o bien\b|alternativamente\b|"
    r"alternativ(?:ement)?\b|ou bien\b|或者|也可以)",
    re.I,
)


def _after(blocks: Sequence[Block], block: Block, mark: Block) -> bool:
    ids = [id(b) for b in blocks]
    return id(block) in ids and id(mark) in ids and ids.index(id(block)) > ids.index(id(mark))


def _variants(blocks: Sequence[Block]) -> tuple[Fence, Fence] | None:
    """Two fences of one command each, close together (only prose between), the same
    command but for options one adds (``New-MigrationBatch -Name B -AutoStart`` / the same
    without ``-AutoStart``): examples of two ways, of which one is done."""
    fences = [(i, b) for i, b in enumerate(blocks) if isinstance(b, Fence)]
    for (i, first), (j, second) in itertools.pairwise(fences):
        if not all(isinstance(b, Paragraph) for b in blocks[i + 1 : j]):
            continue
        one, two = _one_command(first.text), _one_command(second.text)
        if one is None or two is None or one == two or one[0] != two[0]:
            continue
        plain_one = [t for t in one if not t.startswith("-")]
        plain_two = [t for t in two if not t.startswith("-")]
        flags_one = {t for t in one if t.startswith("-")}
        flags_two = {t for t in two if t.startswith("-")}
        extra = " ".join(flags_one ^ flags_two)
        if _PREVIEW_FLAG.search(extra):
            continue  # `--dry-run` first, then the real thing: a sequence, not two ways
        if plain_one == plain_two and (flags_one < flags_two or flags_two < flags_one):
            return first, second
    return None


_PREVIEW_FLAG = re.compile(
    r"(?:^|\s)(?:--?dry[-_]?run\S*|-WhatIf|--what-if|--check|--diff|--plan|--preview|"
    r"--validate\S*|--no-?op|--simulate|-n)(?:\s|=|$)",
    re.I,
)


def _one_command(text: str) -> list[str] | None:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip()[0] != "#"]
    if len(lines) != 1 or lines[0].endswith("\\"):
        return None
    words = lines[0].split()
    return words if len(words) >= 2 else None


def _sole_alternative(blocks: Sequence[Block]) -> tuple[Block, Paragraph, Fence] | None:
    """(where the first way starts, the lead-in of the alternative, the first way's fence) when
    a short lead-in paragraph offers another way right after a fence and a fence follows it."""
    for index, block in enumerate(blocks):
        if not (
            isinstance(block, Paragraph)
            and _short(block)
            and _SOLE_ALTERNATIVE.match(block.text.strip())
            and any(isinstance(b, Fence) for b in blocks[index + 1 :])
        ):
            continue
        before = [i for i in range(index) if isinstance(blocks[i], Fence)]
        if not before:
            return None
        fence_at = before[-1]
        fence = blocks[fence_at]
        assert isinstance(fence, Fence)
        start: Block = fence
        if fence_at > 0 and isinstance(blocks[fence_at - 1], Paragraph):
            start = blocks[fence_at - 1]  # "Run the rotation script:" over the first way
        return start, block, fence
    return None


_SITUATION = re.compile(r"^[\W_]*(?:when|if|for|si|cuando|wenn|falls)\b", re.I)


def _situations(blocks: Sequence[Block]) -> list[Paragraph | Item]:
    """ "When using a charm from charmhub:" ``fence`` … "When deploying from a local charm
    file, … then run" ``fence``: two or more situations, each introducing its own commands, are
    options the operator picks between (a failure condition is recovery instead)."""
    found: list[Paragraph | Item] = []
    for block, after in itertools.pairwise(blocks):
        if (
            # "* If your origin is a static website: add a CNAME record." over its fence too
            isinstance(block, (Paragraph, Item))
            and isinstance(after, Fence)
            and len(block.text.strip()) <= 240
            and _SITUATION.match(block.text.strip())
            and not rules.is_conditional_text(block.text)
        ):
            found.append(block)
    return found if len(found) >= 2 else []


def _lettered_ways(title: str, paragraphs: list[Paragraph]) -> list[Paragraph | Item]:
    """ "## 2. Run the backfill (pick A or B)" … "**A. With screen**" … "**B. With nohup**":
    when the heading or a sentence before the first way asks the reader to choose, short
    lead-ins labelled by letters or numbers are the options (blind round 11)."""
    ways = [b for b in paragraphs if _short(b) and rules.is_lettered_way(b.text)]
    if len(ways) < 2:
        return []
    before = [b.text for b in paragraphs if b.line < ways[0].line]
    if rules.asks_to_choose(title) or any(rules.asks_to_choose(t) for t in before[-2:]):
        return list(ways)
    return []


def _short(block: Paragraph) -> bool:
    return len(block.text.strip()) <= 160 and "\n" not in block.text.strip()


def _ends_with_lead(block: Paragraph) -> bool:
    """ "Compare the latency on the dashboard. If the new ones are worse by more than 20%,
    cancel:" wrapped over lines: the paragraph's last sentence is a short lead-in (round 11)."""
    if "\n" not in block.text.strip():
        return False  # a one-line paragraph is read whole (_short)
    joined = " ".join(block.text.split())
    last = rules.last_sentence(joined)
    return last != joined and len(last) <= 160 and last.rstrip(" *_").endswith((":", "："))


_OR_CHUNK = re.compile(r"^(?:or|o|oder|ou|或者?|alternatively|alternativ(?:e|ement)?)\b", re.I)


def _option_label(chunk: Chunk, index: int) -> str:
    """An option's name: its comment, or its first command when the comment is a bare "or"."""
    name = (chunk.name or "").strip()
    if name and not _OR_CHUNK.fullmatch(name.rstrip(":,. ")):
        return str(name)
    first = next((ln.strip() for ln in chunk.text.splitlines() if ln.strip()), "")
    return first[:60] or f"option {index + 1}"


def _or_chunk(chunk: Chunk) -> bool:
    return bool(chunk.name and _OR_CHUNK.match(chunk.name.strip()))


_RECOVERY_CHUNK = re.compile(
    r"^(?:on|upon|after|for|en caso de|si)\s+(?:a\s+)?(?:rollback|failure|error|revert|fallo)",
    re.I,
)


_WAY_BACK_CHUNK = re.compile(
    r"^[\W_]*(?:to\s+)?(?:roll[\s-]?back|revert|undo|back[\s-]?out|rollback plan|"
    r"r[uü]ckg[aä]ngig|zur[uü]ckrollen|revertir|deshacer|annuler|回滚|回退|ロールバック|롤백)\b",
    re.I,
)


def chunk_choices(mapper: FenceContext, chunks: Sequence[Chunk], line: int) -> dict[int, str]:
    """Comment-headed paragraphs of one fence that are options or conditions: ``# Option A:
    …`` / ``# Opción B: …`` (one decision, a ``when:`` per paragraph), ``# Or restart it``
    (an alternative to the paragraph before), ``# On rollback`` / ``# If it fails`` ("recovery").
    Keys are ``id(chunk)``."""
    out: dict[int, str] = {}
    if mapper.phase is None or mapper.rollback:
        return out
    for chunk in chunks:
        name = (chunk.name or "").strip()
        if name and (
            _RECOVERY_CHUNK.match(name)
            or rules.is_conditional_text(name)
            # "# rollback (if needed)", "# To undo:": the way back, not the next step
            or (_WAY_BACK_CHUNK.match(name) and not mapper.draft.rollback_purpose)
        ):
            out[id(chunk)] = "recovery"
    named = [c for c in chunks if c.name and rules.is_alternative_title(c.name)]
    if len(named) < 2:  # "# MacOS, Linux…" / "# Windows": one platform's commands each
        named = [c for c in chunks if c.name and rules.is_platform_title(c.name)]
    if len(named) < 2:  # "# For the first RC" / "# For later RCs": one case each
        named = [c for c in chunks if c.name and rules.is_case_title(c.name)]
    if len(named) < 2:
        named = []
        for index, (before, after) in enumerate(itertools.pairwise(chunks)):
            if _or_chunk(after) and id(before) not in out:
                # "a / # or / b / # or / c": every "or" after the first option is one more
                named = [before, after]
                for more in chunks[index + 2 :]:
                    if not _or_chunk(more):
                        break
                    named.append(more)
                break
    for chunk in chunks:  # "# Optionally, tail the logs": a decision of one option
        name = (chunk.name or "").strip()
        if name and id(chunk) not in out and chunk not in named and rules.is_optional_title(name):
            lead = _Lead(name, line + 1 + chunk.offset)
            out[id(chunk)] = decide(mapper.draft, mapper.phase, mapper.section, [lead])[id(lead)]
    if len(named) >= 2:
        leads = [_Lead(_option_label(c, i), line + 1 + c.offset) for i, c in enumerate(named)]
        found = decide(mapper.draft, mapper.phase, mapper.section, leads)
        for chunk, lead in zip(named, leads, strict=True):
            out[id(chunk)] = found[id(lead)]
    return out


# Sections that answer a situation rather than advance a rollout (issue 11 §1): an alert or
# incident runbook's "High error rate alert — What happened: … What to do: …". Their commands are
# remedies the on-call engineer picks for the situation at hand, never a forward path.
_SYMPTOM = re.compile(
    r"^[\W_]*(?:what happened|what (?:you|you'll) see|symptoms?|signs?|root cause|cause|"
    r"problem|situation|alert(?: fired)?|when this (?:fires|happens)|meaning|what it means|"
    r"impact|s[ií]ntomas?|causa|significado|bedeutung|signification|含义|意味|"
    r"problema|symptome?|ursache|症状|现象|原因|告警)\s*(?:\*\*|__)?\s*[:：]",
    re.I,
)
_RESPONSE = re.compile(
    r"^[\W_]*(?:what to do|what you should do|resolution|remediation|response|mitigation|"
    r"fix(?:es)?|solution|actions?(?: to take)?|qu[eé] hacer|soluci[oó]n|ma[sß]nahmen?|"
    r"l[oö]sung|处理|解决)\b[^:：\n]{0,40}?(?:\*\*|__)?\s*[:：]",
    re.I,
)
# "High Error Rate Alert", "Alert: disk full" (not "Post-incident", "Configure alerts")
_ALERT_TITLE = re.compile(
    r"(?<![\w-])(?:alert|alarm)\s*$|^[\W_]*(?:alert|alarm|incident)\s*[:：—–-]", re.I
)


def is_situation(section: Section) -> bool:
    """A section responding to a situation: a symptom lead ("What happened:", "Symptoms:")
    with a response lead ("What to do:", "Resolution:"), or a heading naming an alert."""
    if rules.is_phase_title(section.title):
        return False
    if _ALERT_TITLE.search(section.title.strip()):
        return True
    texts = [b.text.strip() for b in section.blocks if isinstance(b, Paragraph)]
    lines = [ln.strip() for t in texts for ln in t.splitlines()]
    return any(_SYMPTOM.match(ln) for ln in lines) and any(_RESPONSE.match(ln) for ln in lines)


# "## HighErrorRate", "## PodCrashLooping": an alert's name as Prometheus rules write it
_ALERT_NAME = re.compile(r"^`?[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+`?$")


def _symptom(section: Section) -> bool:
    texts = [b.text.strip() for b in section.blocks if isinstance(b, Paragraph)]
    return any(_SYMPTOM.match(ln.strip()) for t in texts for ln in t.splitlines())


def situations(section: Section) -> list[Section]:
    """Child sections that each answer a situation: the operator says which one applies. Also
    siblings named as alerts are ("## HighErrorRate" / "## HighLatency"), or each stating what
    the alert means ("**Meaning:** …"): an on-call runbook, one section per alert."""
    found = [child for child in section.children if is_situation(child)]
    if len(found) >= 2:
        return found
    named = [c for c in section.children if _ALERT_NAME.match(c.title.strip())]
    if len(named) >= 2:
        return named
    meant = [c for c in section.children if _symptom(c) and not rules.is_phase_title(c.title)]
    return meant if len(meant) >= 2 else found
