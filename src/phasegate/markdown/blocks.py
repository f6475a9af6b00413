"""One section's blocks -> steps, checks and rollback actions of a draft phase."""

from __future__ import annotations

import re

from phasegate.markdown import (
    admonitions,
    carry,
    checkpoints,
    decisions,
    deps,
    directives,
    disowned,
    foreach,
    human,
    interactive_forms,
    placeholders,
    polarity,
    prompts,
    prose_actions,
    rollback_people,
    rules,
    shell,
    shellparse,
    shellsyntax,
    thresholds,
    traffic,
    triggers,
    words9,
    words10_safety,
)
from phasegate.markdown.block_fences import FenceMapping
from phasegate.markdown.block_items import ItemMapping
from phasegate.markdown.block_tables import TableMapping
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.entries import ReportEntry
from phasegate.markdown.expect import exit_code_says, parse_expectation
from phasegate.markdown.nodes import CheckNode, Expectation, StepNode
from phasegate.markdown.parse import Block, Comment, Fence, Item, Paragraph, Section, Table

# "… if lag is above 5 s and investigate": a stop for a person to look, wherever it is said
# "A.1 ", "B.2 ", "3.4 ", "Step 5: ": a paragraph numbered as a step of the procedure
_CODED_STEP = re.compile(
    r"^(?:[A-Z]\.\d{1,2}|\d{1,2}\.\d{1,2}|(?:step|schritt|paso|krok)\s+\d{1,2}[.:])\s+\S", re.I
)
# "On each host", "Auf jedem Knoten", "En cada servidor", "Na každém uzlu", "各ホストで": a section
# done on every host of several
_EACH_HOST = re.compile(
    r"\b(?:on|for|per)\s+(?:each|every|all)\s+(?:\w+\s+)?(?:hosts?|nodes?|servers?|machines?|"
    r"brokers?|instances?|vms?)\b|\b(?:auf|für)\s+jede[mn]?\s+(?:\w+\s+)?(?:host|knoten|server|"
    r"rechner|maschine)\b|\ben\s+cada\s+(?:host|nodo|servidor|máquina)\b|\bem\s+cada\s+"
    r"(?:host|nó|servidor|máquina)\b|\bna\s+(?:každém|każdym)\s+\w+|"
    r"各(?:ホスト|ノード|サーバー?)|每(?:台|个)(?:主机|节点|服务器)|각\s*(?:호스트|노드|서버)",
    re.I,
)
_TO_LOOK = re.compile(
    r"\b(?:investigat\w*|diagnos\w*|consult|look\s+(?:at|into)|read|escalat\w*|ask)\b", re.I
)
_LEAD_IN = rules.LEAD_IN
# admonitions that warn: the operator acknowledges them (note, tip, info are prose)
_WARNINGS = frozenset({"warning", "warn", "danger", "caution", "important", "attention", "error"})
# Katacoda / Killercoda: `` `kubectl apply -f x.yaml`{{execute}} `` is a command the reader
# clicks to run in the terminal (`{{exec}}`, `{{execute T2}}` for a second terminal);
# `{{copy}}` only copies text, which is no order to run it.
_CLICK_TO_RUN = re.compile(r"`([^`\n]+)`\s*\{\{\s*exec(?:ute)?\b[^}]*\}\}")


# "**Rollback:** …", "To roll back:", "Revert with:" at the start of a paragraph
_ROLLBACK_LABEL = re.compile(
    r"^[\W_]*(?:\*\*|__)?(?:to\s+)?(?:roll[\s-]?back|revert|undo|back[\s-]?out)\b[^:\n]{0,40}?"
    r"(?:\*\*|__)?\s*[:：]",
    re.I,
)
# "The following are **not** rollback reasons (expected during warm-up):", "Normal after a
# deploy:": what follows describes a healthy state, never a trigger (issue 11 §6)
_NOT_A_REASON = re.compile(
    r"\b(?:not|no|never|aren['’]t|isn['’]t|nicht|kein\w*|no son|ne sont pas)\b[*_\s]*"
    r"[^.\n]{0,30}?\b(?:reasons?|triggers?|cause for|concern|alarm|motivos?|raisons?|gr[uü]nde?)\b|"
    r"\b(?:do not|don['’]t|never)\s+roll[\s-]?back\s+(?:for|on|when|if|because)\b|"
    r"\bexpected (?:during|while|after|at|in)\b|"
    r"\bnormal (?:during|while|after|at|in)\b|\b(?:harmless|benign|safe to ignore)\b|"
    r"\bfalse (?:alarms?|positives?)\b|\bknown (?:noise|flaps?)\b|\bignore (?:these|them)\b"
    # blind round 9: the same in more languages (words9.py)
    "|" + words9.NOT_A_REASON,
    re.I,
)
# "Halting:", "To halt the rollout:", "Pause the rollout with:": the action the conditions
# before it call for, never a forward step
# "Expected: `STAT uptime` under 300.", "The output must be empty.", "Should return 0 rows."
_PROSE_EXPECT = re.compile(
    r"^[\W_]*(?:\*\*|__)?(?:expected(?:\s+(?:output|result|response|value))?|r[ée]sultat attendu|"
    r"resultado esperado|erwartet(?:e ausgabe)?|预期(?:结果|输出)?|期待(?:される)?(?:結果|出力)?)"
    r"(?:\*\*|__)?\s*[:：]\s*(?P<exp>\S.*)$|"
    r"^[\W_]*(?:the\s+)?(?:output|result|response)\s+(?:must|should)\s+(?:be\s+)?(?P<exp2>\S.*)$|"
    r"^[\W_]*(?:it\s+)?should\s+(?:return|print|show|output)\s+(?P<exp3>\S.*)$",
    re.I,
)
# "Trigger: logins failing for more than 5 minutes", "**Backout trigger:** …", "Déclencheur : …"
_TRIGGER_LINE = re.compile(
    r"^[\W_]*(?:\*\*|__)?(?:(?:back[\s-]?out|roll[\s-]?back|abort|halt|kill[\s-]?switch)\s+)?"
    r"(?:triggers?|trigger conditions?|d[ée]clencheurs?|ausl[öo]ser|disparadores?|gatilhos?)"
    r"(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*(?P<cond>\S.+)$",
    re.I,
)
# "At any time, if search errors exceed 1% or zero-result rate doubles:" (a lead-in: a colon)
_IF_LEAD = re.compile(
    r"^[\W_]*(?:[^,:]{0,30},\s*)?(?:if|when|whenever|si|cuando|wenn|falls|se|quando|"
    + words9.IF_WORDS
    + "|"
    + words10_safety.IF_WORDS
    + r"|agar|yadi|अगर|यदि)\s*"
    r"(?P<cond>[^:：]+?)\s*[:：]\s*$"
    # Japanese: the condition first, "…場合は、<action>：", "…たら、<action>："
    r"|^[\W_]*(?P<jcond>[^:：]{3,200}?)(?:場合は?|ときは?|時は?)[、,]\s*[^:：]*[:：]\s*$",
    re.I,
)
# "If checkout success rate is below 97 %, turn the flag off:": a condition, then an undo
_IF_THEN_UNDO = re.compile(
    r"^[\W_]*(?:if|when|should)\s+(?P<cond>[^,:]{3,160}?)\s*,\s*(?:then\s+)?(?:immediately\s+)?"
    r"(?:turn (?:the |it )?(?:\w+ )?off|switch (?:the |it )?(?:\w+ )?off|disable|"
    r"roll(?:\s|-)?back|revert|kill (?:the )?(?:switch|flag)|"
    r"flip (?:the )?(?:\w+ )?(?:flag )?(?:back|off))\b[^:]*[:：]\s*$",
    re.I,
)


def _remedy_trigger(text: str) -> str | None:
    """The bad state of a lead-in whose last sentence undoes the change when a measured
    condition holds ("If checkout success rate is below 97 %, turn the flag off:"), or None:
    only a comparison on a measure whose bad side it is (polarity.py), never a good state."""
    last = (prose_actions.sentences(text) or [""])[-1]
    match = _IF_THEN_UNDO.match(last)
    if match is None:
        return None
    condition = match.group("cond").strip()
    found = thresholds.parse(condition)
    if (
        found is None
        and thresholds.is_health(condition)
        and not polarity.not_a_condition(condition)
    ):
        return condition  # "If `/up` does not return 200 within 2 minutes, roll back:"
    if found is None or polarity.describes_failure(found.metric or condition, found.op) is not True:
        return None
    return condition


# "Roll back the canary if its 5xx rate is more than 1 pp above stable:" (the action first)
_ACTION_IF_LEAD = re.compile(
    r"^[\W_]*(?:roll[\s-]?back|revert|back out|abort|halt|pause|stop|"
    # round 11: "Pare (halt) se …:", "Detenga …si", "Stoppen Sie …, wenn", "Arrêtez … si",
    # "Reverta se …:", "Revierta si …:", "Zatrzymaj, jeśli …:"
    r"pare|parar|pausar?|detenga|det[eé]n|stoppen(?:\s+sie)?|stoppe|halte|arr[eê]te[zr]?|"
    r"interromp\w*|zatrzymaj|wstrzymaj|reverta|reverter|revierta|revertir|zur[uü]ckrollen|"
    r"annulez|ripristina|sospendi|ferma)\b[^:,]{0,60}?,?\s*"
    r"(?:if|when|once|se|si|wenn|falls|quando|cuando|quand|je[sś]li|gdy)\s+"
    r"(?P<cond>[^:]+?)\s*:\s*$",
    re.I,
)
_MEASURED = re.compile(words9.MEASURED, re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_HALT_LEAD = re.compile(
    r"^[\W_]*(?:to\s+)?(?:halt(?:ing)?|paus(?:e|ing)|stop(?:ping)?|suspend(?:ing)?|"
    r"freez(?:e|ing))\b(?:\s+(?:the\s+)?(?:rollout|release|deploy(?:ment)?|ramp|canary))?"
    r"(?:\s+(?:with|by|using))?\s*(?:\*\*|__)?\s*[:：]",
    re.I,
)
# "Run `cmd` …" / "Execute `cmd` …" at the start of a sentence (an order, not "you can run")
_RUN_INLINE = re.compile(
    r"(?:^|(?<=[.!?]\s)|(?<=\n))\s*(?:\*\*|__)?(?:run|execute|type|ejecut[ae]|ex[ée]cutez|"
    r"f[uü]hren sie|execute)\s+`([^`\n]+)`([^.!?\n]*(?:`[^`\n]*`[^.!?\n]*)*)",
    re.I,
)
_QUALIFIED = re.compile(
    r"\b(?:if|unless|when(?:ever)?|in case|only|optionally|as needed|if needed|should you)\b",
    re.I,
)
# "… and make sure `master_link_status:up`", "… and check that it prints `ok`"
_MAKE_SURE = re.compile(
    r"\b(?:make sure|ensure|check that|verify that|confirm that)\b[^`\n]{0,40}`([^`\n]+)`",
    re.I,
)


class BlockMapper(FenceMapping, ItemMapping, TableMapping):
    """A section's blocks, in order: paragraphs (lead-ins), fences (block_fences.py), list
    items (block_items.py) and tables (block_tables.py) into the draft phase."""

    def __init__(
        self,
        draft: Draft,
        phase: PhaseDraft | None,
        section: Section,
        rollback: bool,
        when: str | None = None,
    ):
        self.draft = draft
        self.phase = phase
        self.section = section
        self.rollback = rollback
        self.section_rollback = rollback  # a lead-in ("If … fails:") changes it for a while
        # `<summary>If the switchover hangs or fails</summary>`: recovery up to `</details>`,
        # whatever lead-ins come inside ("Check the Patroni log first:") (blind round 9)
        self.details_rollback = False
        self.when = when  # an alternative's condition: runs only when the operator chose it
        self.procedure: list[tuple[str, int]] = []  # numbered prose items done by hand
        self.listed_commands = False  # a list item ran a command (block_items.py)
        self.fence_led = False  # a numbered item was the heading of its own fence
        # the pause this section already asks a human to confirm in (None: none yet)
        self.confirmed: StepNode | None = None
        self.repeat: foreach.Repeat | None = None  # "Repeat for each region: a, b, c" (foreach.py)
        self.prev: Block | None = None  # the block before the one being mapped
        # the last command mapped (its Markdown line and the step or check), for the prose
        # expectation after its fence ("Expected: `STAT uptime` under 300.")
        self.last_run: tuple[int, StepNode | CheckNode] | None = None
        self.verify = rules.is_verify_text(section.title)
        self.checklist = rules.is_checklist_text(section.title)
        self.lead = ""  # the last paragraph: "**Success Criteria:**", "Verification:"
        self.box: Item | None = None  # the last task box (block_items.py)
        self._after: list[tuple[str, int]] = []  # manual steps that follow the current step
        self.described = False  # after "CI executes:": a description of automation, not run
        self.warned: set[int] = set()  # admonitions already acknowledged (by aside_id)
        self.before: Block | None = None  # the block just before the one being mapped

    @property
    def where(self) -> str:
        return self.phase.id if self.phase else "plan"

    def map_blocks(self) -> None:
        pending: directives.Annotation | None = None  # a `<!-- phasegate: … -->` waiting
        choices = decisions.ChoiceLeads(self)
        for block in self.section.blocks:
            choices.enter(block)
            if isinstance(block, Comment):
                self.draft.note("annotations", line=block.line, text=rules.one_line(block.text))
                found = directives.read_comment(block.text, self.draft.source, block.line)
                if found is not None:
                    directives.apply_to_phase(self.draft, self.phase, found, block.line)
                    pending = found.block_only().merged(pending) if found.for_block else pending
            elif pending is not None:
                self._directed(block, pending)
                pending = None
            else:
                # a nested bullet under a numbered item is part of that item, not its end
                if self._listing_in_procedure(block):
                    pass  # noted on the procedure's step by _listing_in_procedure
                elif not (
                    isinstance(block, Item)
                    and (block.ordered or self._detail(block) or self.in_procedure_list(block))
                ):
                    if (
                        isinstance(block, Fence)
                        and self.procedure
                        and block.context.strip()
                        and self.procedure[-1][0].startswith(block.context.strip())
                    ):
                        # "2. **Seed priors**" over its own commands: their heading, not by hand
                        self.procedure.pop()
                        self.fence_led = True
                    self._flush_procedure()
                self._block(block)
                if (
                    isinstance(block, Paragraph)
                    and isinstance(self.before, Fence)
                    and prompts.asks_answer(block.text)
                ):
                    self._answered_by_hand(self.before, block)
                if (
                    isinstance(block, Paragraph)
                    and isinstance(self.before, Fence)
                    and disowned.disowns(block.text)
                ):
                    # "(the command above is what NOT to run)": shown, never ordered
                    fence = self.before
                    end = fence.line + fence.text.count("\n") + 2
                    said = rules.one_line(block.text, 100)
                    disowned.take_out(self.draft, self.phase, fence.line, end, said)
            self.before = block
        self._flush_procedure()
        self._on_each_host()

    def _on_each_host(self) -> None:
        """ "## On each host", "## Auf jedem Knoten", "## En cada servidor": the section is
        done on every host, but a run does its steps once, where it runs. After them, the
        person does the other hosts and approves (blind round 9): without it, the run would
        pass after one host of four."""
        if (
            self.phase is None
            or self.section_rollback
            or not _EACH_HOST.search(self.section.title)
            or not any("run" in e.data for e in self.phase.steps if e.line >= self.section.line)
        ):
            return
        name = (
            f"Do by hand, then approve: the steps of '{rules.one_line(self.section.title, 80)}' "
            "ran once, here; do them on each of the other hosts (or bind them to a host list)"
        )
        step: StepNode = {"name": name, "pause": "approve"}
        self.phase.steps.append(Entry(step, self.section.line))
        self.draft.note("manual", phase=self.phase.id, line=self.section.line, what=name)

    def _answered_by_hand(self, fence: Fence, block: Paragraph) -> None:
        """ "The script asks `Apply 3 migrations? [y/N]`. Answer `y`." after a fence: its
        command stops for a person's typed answer. Run unattended it hangs or reads no answer
        (and cancels or, worse, takes a default): the fence becomes a step done by hand in a
        terminal, and the plan is no longer executable as written (blind round 7)."""
        if self.phase is None or self.rollback:
            return
        end = fence.line + fence.text.count("\n") + 2
        said = rules.one_line(block.text, 100)
        for n, step in enumerate(self.phase.steps):
            run = step.data.get("run")
            if not (fence.line <= step.line <= end and isinstance(run, str) and run.strip()):
                continue
            what = f"by hand, in a terminal (it asks for an answer): `{rules.one_line(run, 120)}`"
            data: StepNode = {"name": f"manual: {what}", "pause": "approve"}
            if step.data.get("when") is not None:
                data["when"] = step.data["when"]
            self.phase.steps[n] = Entry(data, step.line, step.pre_gates)
            self.draft.note("manual", phase=self.phase.id, line=step.line, what=what)
            self.draft.note("prompts", line=step.line, what=rules.one_line(run, 100), why=said)
        for n, gate in enumerate(self.phase.gates):
            command = gate.data.get("command")
            if not (fence.line <= gate.line <= end and isinstance(command, str)):
                continue
            what = f"by hand, in a terminal (it asks for an answer): `{rules.one_line(command)}`"
            check: CheckNode = {"manual": what}
            self.phase.gates[n] = Entry(check, gate.line, gate.pre_gates)
            self.draft.note("manual", phase=self.phase.id, line=gate.line, what=what)
            self.draft.note("prompts", line=gate.line, what=rules.one_line(command, 100), why=said)

    def _listing_in_procedure(self, block: Block) -> bool:
        """A config or code listing inside a numbered step done by hand ("1. Declare the flag
        in config" over a ``yaml`` fence): what the person writes, part of that step."""
        if not (
            isinstance(block, Fence)
            and self.procedure
            and block.context.strip()
            and not shell.is_shell_fence(block.lang, block.text)
            and block.lang.lower() not in ("sql", "postgresql", "mysql", "sqlite", "promql")
        ):
            return False
        text, line = self.procedure[-1]
        kind = block.lang or "text"
        self.procedure[-1] = (f"{text} — write the {kind} listing at line {block.line}", line)
        return True

    def confirm(self, text: str, line: int) -> None:
        """A human must confirm here: a step that pauses the run (human.py)."""
        if self.rollback or self.phase is None:
            return
        if self.confirmed is not None:
            # "Wait until the broker is back …" then "Continue when the count is 0.": one
            # pause of the section, saying everything the person is asked (round 6)
            more = human.confirmation(text)["name"].removeprefix("Confirm: ")
            name = str(self.confirmed.get("name", ""))
            if more not in name and len(name) < 400:
                self.confirmed["name"] = f"{name}; then: {more}"
            return
        step = human.confirmation(text)
        self.confirmed = step
        self._add_step(step, line, rule="human decision")

    def _block(self, block: Block) -> None:
        self._block_inner(block)
        self.prev = block

    def _block_inner(self, block: Block) -> None:
        if isinstance(block, (Paragraph, Item)):
            kind = block.aside or (
                admonitions.bold_label(block.text) if isinstance(block, Paragraph) else ""
            )
            # a warning is acknowledged; a note only when it asks for something ("do it now")
            if kind in _WARNINGS or (kind and admonitions.instructs(block.text)):
                self._warning(block, kind)
        if self.described and not isinstance(block, Paragraph):
            self.draft.note("reference", line=block.line, section=self.section.title)
            return
        if isinstance(block, (Paragraph, Item)) and not self.rollback:
            values = foreach.values_of(block.text)
            if values is not None:
                said = foreach.rest(block.text)
                self.repeat = foreach.Repeat(values, said, block.line)
                later = [b for b in self.section.blocks if b.line > block.line]
                fence = next((b for b in later if isinstance(b, Fence)), None)
                expands = fence is not None and foreach.variable(fence.text, values) is not None
                if isinstance(block, Paragraph) and expands and not rules.asks_human(said):
                    # "Repeat for each region: a, b, c.": the plan repeats the fence after it;
                    # nothing else is asked of a person here
                    self.lead = block.text
                    return
        if isinstance(block, Paragraph):
            self._paragraph(block)
        elif isinstance(block, Fence):
            self._fence(block)
        elif isinstance(block, Item):
            self._item(block)
        elif isinstance(block, Table):
            deps.Collector(self.draft).table(block.header, block.rows, block.line)
            signoff = human.signoff(block.header, block.rows, self.section.title)
            if signoff is not None and self.phase is not None and not self.rollback:
                self._add_step(signoff, block.line, rule="sign-off table")
                return
            self._table(block)

    def _warning(self, block: Paragraph | Item, kind: str) -> None:
        """A `:::warning` / `> [!CAUTION]` / `!!! danger` admonition on the forward path: the
        operator reads and acknowledges it where it stands ("Make sure you back up the database
        before upgrading!"), once per admonition; the commands in it keep their roles."""
        key = block.aside_id if block.aside else -block.line  # a bold label: its paragraph
        if key in self.warned or self.rollback or self.phase is None:
            return
        self.warned.add(key)
        text = block.text
        if block.aside:
            text = " ".join(
                b.text
                for b in self.section.blocks
                if isinstance(b, (Paragraph, Item)) and b.aside_id == block.aside_id and b.aside
            )
        text = re.sub(r"^[^\w]*(?:\*\*|__)[^*_]{1,20}(?:\*\*|__)\s*[:：]?\s*", "", text.strip())
        step: StepNode = {
            "name": f"Confirm ({kind}): {rules.one_line(text, 200)}",
            "pause": "approve",
        }
        self._add_step(step, block.line, rule=f"{kind} admonition")

    def _directed(self, block: Block, note: directives.Annotation) -> None:
        """The block after a directive, read as the directive says."""
        if note.skip:
            self.draft.note("data", line=block.line, lang="", why="skipped by directive")
        elif isinstance(block, Fence):
            self._fence(block, note)
        else:
            saved = (self.verify, self.checklist, self.rollback)
            self.verify = (note.check or self.verify) and not note.step
            self.checklist = (note.check or self.checklist) and not note.step
            self.rollback = note.rollback or self.rollback
            try:
                self._block(block)
            finally:
                self.verify, self.checklist, self.rollback = saved

    # -- destinations -------------------------------------------------------------------

    def _add_action(self, run: str, name: str | None, line: int, rule: str = "") -> None:
        run, _ = carry.carry(self.draft, run, line)
        run = placeholders.bind(self.draft, run, line)
        data: StepNode = {"run": run}
        if name:
            data = {"name": name, "run": run}
        if self.when is not None:
            # written under one way (an option chosen forward, or a way back chosen on
            # rollback): it runs on rollback only when that way was chosen (issue 11 §1)
            data = {**data, "when": self.when}
        target = self.phase.rollback if self.phase else self.draft.plan_rollback
        target.append(Entry(data, line))
        said: ReportEntry = {"phase": self.where, "line": line, "name": name or _first(run)}
        if rule:  # an explicit rule id (provenance.py reads it)
            said["rule"] = rule
        if self.when is not None:
            said["when"] = self.when
        self.draft.note("rollback", **said)

    def add_step(self, data: StepNode, line: int, rule: str) -> None:
        """A step at the end of the section so far (mapping.py's prose-only sections)."""
        self._add_step(data, line, rule)

    def _add_step(self, data: StepNode, line: int, rule: str = "shell fence") -> None:
        assert self.phase is not None
        said = human.comments_only(data.get("run"))
        if said is not None:
            # "# Check error rates / # Sentry dashboard: error rate < 0.1%": a fence of comments
            # runs nothing and would pass by itself; a person does what it says (issue 11 §7)
            said = [s for s in said if not self._said_before(s)]
            if not said:  # the step before already asks it ("Wait 24-48 hours")
                return
            data = human.by_hand(said)
            rule = "fence of comments only: done by hand"
        settings = human.config_settings(data.get("run"), self.draft.referenced)
        if settings is not None:
            data = {
                "name": f"Set in the configuration, then approve: {'; '.join(settings)}",
                "pause": "approve",
            }
            rule = "settings nothing reads: done by hand"
        if isinstance(data.get("run"), str):
            run, unsure = carry.carry(self.draft, data["run"], line)
            data = {**data, "run": placeholders.bind(self.draft, run, line)}
            interactive_forms.bind_menu(self.draft, data["run"], line)  # `select ENV in …`
            if unsure is not None:
                data["needs_binding"] = unsure
        if self.when is not None:
            data = {**data, "when": self.when}
        self.phase.steps.append(Entry(data, line))
        if "run" in data:
            self.last_run = (line, data)
        name = data.get("name") or _first(data.get("run", ""))
        self.draft.note("steps", phase=self.phase.id, line=line, name=name, rule=rule)

    def _said_before(self, text: str) -> bool:
        """The phase's last step is a pause that already says ``text``."""
        assert self.phase is not None
        last = self.phase.steps[-1].data if self.phase.steps else {}
        return "pause" in last and text.lower() in str(last.get("name", "")).lower()

    def _add_check(self, data: CheckNode, line: int, how: str, ambiguous: bool) -> None:
        said = human.comments_only(data.get("command"))
        if said is not None:  # a check of comments only would pass without anyone looking
            data = {"name": data.get("name") or said[0], "manual": "; ".join(said)}
            how = "fence of comments only: checked by hand"
        kind = next(
            k for k in ("command", "file", "http", "tcp", "manual", "sql", "metric") if k in data
        )
        at = checkpoints.offset(str(data["manual"])) if kind == "manual" else None
        if at is not None and not data.get("checked") and not self.rollback and self.phase:
            # "Hour 4: stability" is checked at hour 4, not with the phase's gates at its end
            for step in checkpoints.steps(self.phase, str(data["manual"]), at):
                self._add_step(step, line, rule=f"timed checkpoint ({how})")
            return
        if kind == "command" and isinstance(data["command"], str) and "shell" not in data:
            command, _ = carry.carry(self.draft, data["command"], line)
            data = {**data, "command": placeholders.bind(self.draft, command, line)}
        if self.when is not None and not self.rollback and self.phase is not None:
            # a check of one alternative is verified only when that alternative ran
            if kind == "command":
                step = {"name": data.get("name") or f"check: {_first(data['command'])}"}
                run: StepNode = {**step, "run": data["command"]}
                if "shell" in data:  # a PowerShell check runs under pwsh as a step too
                    run["shell"] = data["shell"]
                self._add_step(run, line, rule=f"check ({how})")
            elif kind == "manual":
                step = {"name": f"Confirm: {data['manual']}", "pause": "approve"}
                self._add_step(step, line, rule="manual check of an alternative")
            else:
                self.draft.note("unmapped", line=line, section=self.section.title, what=kind)
            return
        if self.rollback or self.phase is None:  # verifies that a rollback restored things
            self.draft.verify_rollback.append(Entry(data, line))
            where = "verify_rollback"
        else:
            self.phase.gates.append(Entry(data, line))
            where = self.phase.id
            if kind == "command":
                self.last_run = (line, data)
        self.draft.note("checks", phase=where, line=line, kind=kind, how=how)
        if ambiguous:
            self.draft.note("ambiguous", line=line, what=f"expectation read as {how}")

    # -- blocks -------------------------------------------------------------------------

    def _paragraph(self, block: Paragraph) -> None:
        if block.closes:  # `</details>`: the section's own role again
            self.rollback, self.lead = self.section_rollback, ""
            self.details_rollback = False
            return
        if block.code and "{{" in block.text and self._click_to_run(block):
            return
        if self._prose_expected(block):
            if not self.rollback and rules.asks_human(block.text):
                # "All must be `Running`. Wait for the store manager to confirm a test sale.":
                # the expectation checks the command, and a person still has their word
                self.confirm(block.text, block.line)
            return
        if not block.aside and _bare_command(block.text):
            # a command pasted as a paragraph of its own (`$ curl -XPUT …` or `curl -XPUT …`):
            # a one-line fence at its place
            command = block.text.strip().removeprefix("$ ")
            context = rules.last_line(self.lead)
            self._fence(Fence(block.line - 1, "bash", {}, command + "\n", context))
            return
        if (
            self.section_rollback
            and rules.reverses_steps(block.text)
            and not any(isinstance(b, Fence) for b in self.section.blocks)
        ):
            # "Rollback: reverse the steps above." with no command: a person does the way back
            # (the rollback pauses and asks them), never an empty rollback that "succeeds"
            way = decisions.Lead(rules.one_line(block.text, 120), block.line)
            decisions.decide_rollback(self.draft, self.phase, self.section, [way])
            why = "a way back with no command: the rollback asks a person to do it"
            self.draft.note("review", line=block.line, what=rules.one_line(block.text, 80), why=why)
            self.lead = block.text
            return
        if self.rollback and rollback_people.bind_section(
            self.draft, self.phase, self.section, block.text, block.line
        ):
            # "Decide with the service owner before reverting." after the way back: the
            # rollback pauses for that person before its actions run
            self.lead = block.text
            return
        before = (len(self.phase.steps), len(self.phase.gates)) if self.phase else None
        self._lead_in(block)
        self._actions_before_lead_in(block)
        self._stated_trigger(block)
        self._inline_rollback(block)
        self._inline_runs(block)
        if (
            before is not None
            and self.phase
            and before
            == (
                len(self.phase.steps),
                len(self.phase.gates),
            )
        ):
            self._coded_step(block)
        self.lead = block.text
        if not self.rollback:
            traffic.sequence(self.draft, self.phase, block.text, block.line)
        deps.Collector(self.draft).text(block.text, block.line, self.phase, self.section.title)
        self._rollback_time(block)
        if (
            self.phase is not None
            and self.phase.line == self.section.line
            and not admonitions.bold_label(block.text)  # "**NOTE:** …" is no metadata
        ):
            for key, value in rules.metadata_lines(block.text):
                slug = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
                if slug in ("owner", "owners", "responsible", "dri", "assignee"):
                    self.phase.owner = value
                elif slug and slug not in self.phase.metadata:
                    self.phase.metadata[slug] = value

    def _coded_step(self, block: Paragraph) -> None:
        """ "C.3 **Go/no-go** by the migration lead, with the app owner, in the bridge call.",
        "B.2 Wait until DMS has applied everything …": a paragraph numbered as a step of the
        procedure ("A.1", "B.2", "3.4", "Step 5:") that runs nothing and introduces no fence is
        a step a person does, in its place (blind round 9); dropped, the run would switch DNS
        without the go/no-go."""
        if self.rollback or self.phase is None or self.described or block.aside:
            return
        text = " ".join(block.text.split())
        if not _CODED_STEP.match(text) or text.endswith((":", "：")) or len(text) > 400:
            return
        if rules.is_reference_title(self.section.title):
            return
        name = f"Do by hand, then approve: {rules.one_line(text.replace('**', ''), 300)}"
        self._add_step({"name": name, "pause": "approve"}, block.line, rule="numbered prose step")

    def _actions_before_lead_in(self, block: Paragraph) -> None:
        """ "Add the Smart Group `Pilot-IT` to the policy's scope in the Jamf Pro console.
        Then run on your own Mac:" over a fence: the fence does only what the last sentence
        introduces; what the sentences before it order is done by hand first, in a console
        (prose_actions.py). A step a person does and acknowledges before the fence, and the
        plan is not executable as written (report ``by_hand``)."""
        if self.phase is None or self.rollback or self.described or block.aside:
            return
        said = prose_actions.sentences(block.text)
        if len(said) < 2 or not said[-1].endswith((":", "：")):
            return
        at = next((n for n, b in enumerate(self.section.blocks) if b is block), None)
        following = (
            self.section.blocks[at + 1]
            if at is not None and at + 1 < len(self.section.blocks)
            else None
        )
        if following is None or isinstance(following, (Paragraph, Comment)):
            return  # a lead-in introduces the block after it: a fence, a table, a list
        done = [
            s
            for s in said[:-1]
            if prose_actions.is_action(s)
            and (not rules.is_conditional_text(s) or prose_actions.by_hand(s))
        ]
        if not done:
            return
        step: StepNode = {"name": prose_actions.step_name("", done), "pause": "approve"}
        self._add_step(step, block.line, rule="prose actions before a lead-in: done by hand")
        self.draft.note("by_hand", line=block.line, what=rules.one_line("; ".join(done), 100))

    def _prose_expected(self, block: Paragraph) -> bool:
        """ "Expected: `STAT uptime` under 300.", "The output must be empty." right after a
        fence: what its command must show. Read as an exact expectation it checks the command;
        otherwise the command runs unchecked, which the report says (low confidence: the plan
        is not executable as written while a check would pass without looking)."""
        fence = self.prev
        if not isinstance(fence, Fence) or self.last_run is None or self.rollback:
            return False
        line, data = self.last_run
        if not fence.line <= line <= fence.line + fence.text.count("\n") + 1:
            return False
        if "shell" in data:  # a PowerShell check read its expectation itself (powershell.check)
            return "expect" in data
        said = _PROSE_EXPECT.match(" ".join(block.text.split()))
        if said is None:
            return False
        command = data.get("command") if "command" in data else data.get("run")
        if not isinstance(command, str):
            return False
        expected = said.group("exp") or said.group("exp2") or said.group("exp3") or ""
        parsed = parse_expectation(command, expected.strip().rstrip("."))
        if "run" in data and exit_code_says(command, parsed):
            return True  # a step: "Expected: HTTP 200" after `curl -f`, its exit code says it
        if not parsed.ambiguous and "command" in data:
            # a check: it checks what the prose says (`curl -fsS URL` + "Expected: HTTP 200"
            # becomes an http check of the status)
            for key in ("command", "expect"):
                data.pop(key, None)  # type: ignore[misc]
            data.update(parsed.check)  # type: ignore[typeddict-item]
            return True
        self.draft.note(
            "ambiguous",
            line=line,
            what=f"expected output left unchecked (line {block.line}): "
            f"{rules.one_line(block.text, 80)}",
        )
        return True

    def _stated_trigger(self, block: Paragraph) -> None:
        """ "Trigger: logins failing for more than 5 minutes" under a backout plan, "At any
        time, if search errors exceed 1%:" over a kill switch's fence: the condition the
        document states for its rollback is a trigger, with the action its section names
        (issue 11 §6); the fence after it stays the rollback."""
        text = " ".join(block.text.split())
        labelled = _TRIGGER_LINE.match(text)
        title = self.section.title
        if labelled is not None:
            condition = labelled.group("cond")
        else:
            # "If the deploy is unhealthy, Helm's --atomic already rolled back. If the problem
            # shows up later (…), pin the old image:": the last sentence leads the fence
            lead = _IF_LEAD.match(rules.last_sentence(text)) or _IF_LEAD.match(text)
            named = _ACTION_IF_LEAD.match(text)
            remedy = _remedy_trigger(text)
            if named is not None:
                lead = named  # the lead-in names its own action: a trigger wherever it stands
            elif remedy is not None:
                # "Check the dashboard. If checkout success rate is below 97 %, turn the flag
                # off:": a bad state and its undo, stated anywhere (the fence stays an option)
                maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
                maker.from_text(remedy, block.line, "rollback")
                return
            elif lead is None:
                self._own_rules(block)  # "Abort if …" sentences: each its own trigger
                return
            elif not (polarity.failure_context(title) or rules.is_rollback_title(title)):
                return
            condition = lead.group("cond") or lead.groupdict().get("jcond") or ""
            if (
                thresholds.parse(condition) is None
                and not thresholds.is_health(condition)
                and not (rules.is_rollback_title(title) and _MEASURED.search(condition))
            ):
                # "If you are on the old cluster:" states no failure; "Αν τα σφάλματα 5xx
                # ξεπεράσουν το 2% για 5 λεπτά:" over a rollback does (a figure to watch)
                return
        if polarity.not_a_condition(condition):
            return
        action = triggers.action_for(f"{title}\n{text}", thresholds.parse(condition) is not None)
        if labelled is None and _ACTION_IF_LEAD.match(text) and action is None:
            rolls = (
                r"^[\W_]*(?:roll|revert|back|reverta|reverter|revierta|revertir|zur[uü]ck|annul)"
            )
            action = "rollback" if re.match(rolls, text, re.I) else "pause"
        if action is None:  # a human decides: not a trigger
            return
        maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
        maker.from_text(condition.rstrip(" .;:"), block.line, triggers.limited(action, text))

    def _own_rules(self, block: Paragraph) -> bool:
        """ "Abort if error rate > 2% for 5 minutes on `checkout-api`." then "Abort if p95 … is
        above 900 ms for 10 minutes." as lines of one paragraph: each sentence that names a
        failure condition and a rollback or abort for it is a trigger of its own (blind round
        9); a stop to investigate stays what the paragraph makes of it (a person's gate)."""
        if self.draft.rollback_purpose or (self.rollback and not self.section_rollback):
            # (under a rollback heading, "Roll back if the error rate is above 2% for 5
            # minutes." is the way back's own condition: a trigger too, round 11)
            return False
        made = False
        for offset, row in enumerate(block.text.splitlines()):
            for sentence in _SENTENCE_END.split(row.strip()):
                own = triggers.stated(sentence)
                if own is None or polarity.not_a_condition(own[1]):
                    continue
                # "Halt the rollout … if crash-free users drop below 99.0%": a pause (halting
                # undoes nothing); "If lag is above 5 s, stop and investigate": a person's gate
                halts = (
                    own[0] == "pause"
                    and not triggers.stops_to_look(sentence)
                    and not _TO_LOOK.search(sentence)
                )
                if own[0] != "rollback" and not halts:
                    continue
                maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
                action = triggers.limited(own[0], sentence)
                made = maker.from_text(own[1], block.line + offset, action) or made
        return made

    def _inline_rollback(self, block: Paragraph) -> None:
        """ "**Rollback:** at any point, `helm rollback payments 0` returns to the previous
        release.": the way back, said in one sentence: a rollback action (issue 11 §5)."""
        if self.draft.rollback_purpose or not _ROLLBACK_LABEL.match(block.text.strip()):
            return
        for code in block.code:
            if (
                " " in code
                and shell.looks_like_shell(code)
                and not shellparse.never_ending_text(code)
            ):
                self.draft.note(
                    "recovery", line=block.line, what=rules.one_line(code, 80), why="inline"
                )
                self._add_action(code, None, block.line)

    def _inline_runs(self, block: Paragraph) -> None:
        """ "Run `redis-cli info replication` and make sure `master_link_status:up`.": a
        sentence that orders a command in prose is that command at its place (a check when it
        says what to make sure of), never dropped; an offer ("you can run") is not an order."""
        if self.phase is None or self.described or rules.is_lead_in(block.text):
            return
        for match in _RUN_INLINE.finditer(block.text):
            command, rest = match.group(1).strip(), match.group(2)
            sentence = match.group(0)
            if not (" " in command and shell.looks_like_shell(command)):
                continue
            if rules.is_conditional_text(sentence) or shellparse.never_ending_text(command):
                continue
            if _QUALIFIED.search(rest):  # "Run `x` if the cache is cold": not an order as is
                continue
            sure = _MAKE_SURE.search(rest)
            if sure is not None and not self.rollback:
                check = CheckNode(
                    command=command, expect=Expectation(exit=0, stdout_contains=sure.group(1))
                )
                self._add_check(check, block.line, "output contains", ambiguous=False)
                continue
            context = rules.last_line(self.lead)
            self._fence(Fence(block.line - 1, "bash", {}, command + "\n", context))

    def _click_to_run(self, block: Paragraph) -> bool:
        """Each `` `cmd`{{execute}} `` of a tutorial platform is a one-line shell fence at its
        place, read like any other (never-ending, placeholders, verify and rollback roles)."""
        found = _CLICK_TO_RUN.findall(block.text)
        for command in found:
            context = rules.last_line(self.lead)
            self._fence(Fence(block.line - 1, "bash", {}, command.strip() + "\n", context))
        return bool(found)

    def _lead_in(self, block: Paragraph) -> None:
        """ "**If the deployment fails:**", "**Rollback procedure:**", a `<summary>Rollback`:
        what follows is recovery, never a forward step, until the next lead-in (issue 11 §1,
        §5). A paragraph asking a human to confirm pauses the run here (§7)."""
        text = block.text.strip()
        lead_in = rules.is_lead_in(text)
        if lead_in or self.described:  # "CI executes:" lasts until the next lead-in
            self.described = rules.describes_automation(text)
        if rules.is_deprecated(text):
            # "This page has moved … do not follow the old instructions below",
            # `<summary>Old instructions (2019, do not use)</summary>`: history, never run
            self.described = True
            self.draft.note(
                "review",
                line=block.line,
                what=rules.one_line(text, 80),
                why="what follows is kept for history only: not run",
            )
        if self.details_rollback and rules.stops_to_ask(text):
            # "If the switchover hangs: … stop here and page the DB team": inside a collapsed
            # recovery, a person is asked in the flow (a pause, never a command run)
            self.rollback = False
            self.confirm(text, block.line)
            self.rollback = True
            return
        if not self.rollback and rules.stops_to_ask(text):
            # "If the diff touches anything other than `app.conf`, stop and ask in #ops.": a
            # person judges the output just shown before the run goes on; not a rollback
            self.confirm(text, block.line)
            if not text.rstrip(" *_").endswith((":", "：")):
                return
            # "If it is not aligned, do not proceed and run:": the fence after it is still
            # the condition's remedy, never the forward path
        conditional = (
            rules.is_conditional_text(text)
            or (lead_in and bool(_HALT_LEAD.match(text)))
            or rules.conditional_remedy(text)
        ) and not (not lead_in and rules.says_no_rollback(text))
        if (conditional and (lead_in or len(text) <= 300)) or (
            lead_in and rules.rollback_lead_in(text) and not self.draft.rollback_purpose
        ):
            if not self.rollback:
                why = "conditional" if conditional else "rollback lead-in"
                self.draft.note("recovery", line=block.line, what=rules.one_line(text, 80), why=why)
            self.rollback = True
        elif lead_in:
            self.rollback = self.section_rollback or self.details_rollback
        if block.opens and self.rollback and not self.section_rollback:
            self.details_rollback = True
        if not self.rollback and rules.commands_assume(text):
            # "If green is live, swap the colours in every command": the run pauses here for a
            # person to confirm the case the commands were written for, and the plan is not
            # executable as written (provenance.verdict reads `assumptions`)
            self.draft.note("assumptions", line=block.line, what=rules.one_line(text, 160))
            self.confirm(text, block.line)
        elif not self.rollback and rules.asks_human(text):
            self.confirm(text, block.line)

    # -- triggers, traffic, rollback budgets (triggers.py, traffic.py) ------------------

    def _rollback_time(self, block: Paragraph) -> None:
        """``**Rollback Time from this stage**: <1 minute``: the phase's rollback budget (the
        plan's, outside a phase)."""
        for key, value in rules.metadata_lines(block.text):
            seconds = thresholds.duration(value)
            if not rules.ROLLBACK_TIME.search(key) or seconds is None:
                continue
            named = self.phase is not None and self.phase.named
            if named and self.phase is not None and self.phase.rollback_budget is None:
                self.phase.rollback_budget = seconds
            elif not named and self.draft.rollback_budget is None:
                self.draft.rollback_budget = seconds
            else:
                continue
            where = self.phase.id if named and self.phase else "plan"
            self.draft.note("budgets", line=block.line, where=where, seconds=seconds)

    def _context(self) -> str:
        return f"{self.section.title}\n{rules.last_line(self.lead)}"

    def _trigger(self, text: str, line: int) -> bool:
        """A rollback criterion or alert threshold in a list: a background trigger."""
        context = self._context()
        if _NOT_A_REASON.search(rules.last_line(self.lead)) or _NOT_A_REASON.search(
            self.section.title
        ):
            return False  # "The following are **not** rollback reasons (expected …):"
        own = triggers.stated(text)  # "Rollback if error rate > 1%" names its own action
        if own is not None:
            maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
            limited = triggers.limited(own[0], context)
            return maker.from_text(own[1], line, limited, rules.last_line(self.lead))
        if rules.is_checklist_text(context) and not self.rollback:
            return False
        if polarity.not_a_condition(text) or polarity.go_no_go(context):
            return False  # an order, an expected result, or one side of a go/no-go call
        # only lists stated as failure conditions (issue 11 §6): not "Selection criteria"
        # "อัตรา 5xx ของ v3 มากกว่า 1% ติดต่อกัน 5 นาที": a figure is a figure in any language
        number = thresholds.parse(text) is not None or (
            self.rollback and bool(_MEASURED.search(text))
        )
        stated = polarity.failure_context(context) or (
            polarity.action_heading(context) and (number or polarity.text_is_failure(text) is True)
        )
        soft = polarity.soft_context(context) and (number or bool(polarity.text_is_failure(text)))
        if not stated and not soft and not (self.rollback and number):
            return False
        if stated and not self.rollback and triggers.recovery_document(self.draft):
            return triggers.entry_condition(self.draft, self.phase, text, line)
        action = triggers.action_for(context, number)
        if action is None:  # a human decides: not a trigger
            return False
        if triggers.stops_to_look(self.lead):  # a lead-in over several lines: "stop and go read"
            action = "pause"
        # "Error Rate > 5%: Immediate investigation required": the item asks a person to look
        action = triggers.limited(action, text)
        if action == "rollback" and rules.person_decides(text):
            action = "alert"  # "→ alert #oncall and decide together": people decide, not the run
        maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
        return maker.from_text(text, line, action, rules.last_line(self.lead))

    def _scoped(self) -> bool:
        return self.phase is not None and self.phase.named


_FLAG_OR_TARGET = re.compile(r"\s(?:--?[A-Za-z][\w-]*|https?://\S+|\.{0,2}/\S+)")


def _bare_command(text: str) -> bool:
    """One line of a paragraph that is a command, not a sentence about one: typed at a `$ `
    prompt, or a program we know given a flag, URL or path (`curl -XPUT http://…`), not ending
    like a sentence ("git is a version control system." is prose), and parsing as shell."""
    line = text.strip()
    if "\n" in line or not line or line.endswith((".", ":", "?", "!")) or "`" in line:
        return False
    prompted = line.startswith("$ ")
    line = line.removeprefix("$ ")
    if not (prompted or shell.first_word(line) in shell.COMMAND_WORDS):
        return False
    if not prompted and not _FLAG_OR_TARGET.search(line):
        return False
    verdict, _ = shellsyntax.parse(line)
    return verdict == "ok" and shell.looks_like_shell(line)


def _first(run: str) -> str:
    text = run
    lines = text.strip().splitlines()
    return lines[0][:80] if lines else ""
