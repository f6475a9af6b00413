"""One section's blocks -> steps, checks and rollback actions of a draft phase."""

from __future__ import annotations

import re
from typing import Any

from phasegate.markdown import (
    action_tables,
    decisions,
    deps,
    directives,
    human,
    listings,
    monitors,
    placeholders,
    polarity,
    queries,
    rules,
    shell,
    shellparse,
    thresholds,
    traffic,
    triggers,
)
from phasegate.markdown.block_tables import TableMapping
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.expect import ParsedCheck, described_output, parse_expectation
from phasegate.markdown.parse import Block, Comment, Fence, Item, Paragraph, Section, Table

_NOT_BASH = frozenset({"powershell", "ps1", "pwsh", "bat", "cmd"})
_LEAD_IN = rules.LEAD_IN
# "Notes:" over a numbered list: remarks, not steps
_NOTES = re.compile(r"^[\W_]*(?:notes?|nota[s]?|hinweise?|remarques?|备注|注意)\s*[:：]", re.I)
_PROCEDURE = re.compile(
    r"steps?\b|procedure|runbook|playbook|how[\s-]to|instructions|schritte|ablauf|anleitung|"
    r"pasos|procedimiento|[ée]tapes|proc[ée]dure|passos|步骤|流程|roll[\s-]?back|revert",
    re.I,
)
_DONE_MARK = re.compile(r"^(?:✅|✔️?|☑️?|✓)\s*")


class BlockMapper(TableMapping):
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
        self.when = when  # an alternative's condition: runs only when the operator chose it
        self.procedure: list[tuple[str, int]] = []  # numbered prose items done by hand
        self.confirmed = False  # this section already asks a human to confirm
        self.verify = rules.is_verify_text(section.title)
        self.checklist = rules.is_checklist_text(section.title)
        self.lead = ""  # the last paragraph: "**Success Criteria:**", "Verification:"
        self._after: list[tuple[str, int]] = []  # manual steps that follow the current step
        self.described = False  # after "CI executes:": a description of automation, not run

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
                if not (isinstance(block, Item) and (block.ordered or self._detail(block))):
                    self._flush_procedure()
                self._block(block)
        self._flush_procedure()

    def confirm(self, text: str, line: int) -> None:
        """A human must confirm here: a step that pauses the run (human.py)."""
        if self.confirmed or self.rollback or self.phase is None:
            return
        self.confirmed = True
        self._add_step(human.confirmation(text), line, rule="human decision")

    def _by_hand(self) -> bool:
        """Numbered prose is done by hand, unless the commands follow in sub-sections (then
        it summarises them: "1. Archive templates" over "### Commands")."""
        if self.phase is None or self.rollback:
            return False
        return not any(isinstance(b, Fence) for c in self.section.children for b in c.blocks)

    def _detail(self, block: Item) -> bool:
        """A bullet nested under the numbered item of a procedure ("Rollback Runbook", "Steps"):
        not under a numbered list of things ("Dashboards": 1. System Health — Error rates)."""
        return (
            bool(self.procedure)
            and not block.ordered
            and block.depth > 1
            and bool(_PROCEDURE.search(f"{self.section.title} {self.draft.title}"))
        )

    def _flush_procedure(self) -> None:
        # one numbered item is a heading of what follows it ("1. **Tag release**" over a
        # fence); questions ("What went well?") are a retrospective, not a procedure
        done = [t for t, _ in self.procedure if not t.rstrip().endswith("?")]
        if len(done) >= 2 and self.phase is not None:
            step = human.procedure(done)
            self._add_step(step, self.procedure[0][1], rule="numbered prose procedure")
        self.procedure = []

    def _block(self, block: Block) -> None:
        if self.described and not isinstance(block, Paragraph):
            self.draft.note("reference", line=block.line, section=self.section.title)
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

    def _add_action(self, run: str, name: str | None, line: int) -> None:
        run = placeholders.bind(self.draft, run, line)
        data: dict[str, Any] = {"run": run}
        if name:
            data = {"name": name, "run": run}
        target = self.phase.rollback if self.phase else self.draft.plan_rollback
        target.append(Entry(data, line))
        self.draft.note("rollback", phase=self.where, line=line, name=name or _first(run))

    def _add_step(self, data: dict[str, Any], line: int, rule: str = "shell fence") -> None:
        assert self.phase is not None
        if isinstance(data.get("run"), str):
            data = {**data, "run": placeholders.bind(self.draft, data["run"], line)}
        if self.when is not None:
            data = {**data, "when": self.when}
        self.phase.steps.append(Entry(data, line))
        name = data.get("name") or _first(data.get("run", ""))
        self.draft.note("steps", phase=self.phase.id, line=line, name=name, rule=rule)

    def _add_check(self, data: dict[str, Any], line: int, how: str, ambiguous: bool) -> None:
        kind = next(k for k in ("command", "file", "http", "manual", "sql", "metric") if k in data)
        if kind == "command" and isinstance(data["command"], str):
            data = {**data, "command": placeholders.bind(self.draft, data["command"], line)}
        if self.when is not None and not self.rollback and self.phase is not None:
            # a check of one alternative is verified only when that alternative ran
            if kind == "command":
                step = {"name": data.get("name") or f"check: {_first(data['command'])}"}
                self._add_step({**step, "run": data["command"]}, line, rule=f"check ({how})")
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
        self.draft.note("checks", phase=where, line=line, kind=kind, how=how)
        if ambiguous:
            self.draft.note("ambiguous", line=line, what=f"expectation read as {how}")

    # -- blocks -------------------------------------------------------------------------

    def _paragraph(self, block: Paragraph) -> None:
        if block.closes:  # `</details>`: the section's own role again
            self.rollback, self.lead = self.section_rollback, ""
            return
        self._lead_in(block)
        self.lead = block.text
        if not self.rollback:
            traffic.sequence(self.draft, self.phase, block.text, block.line)
        deps.Collector(self.draft).text(block.text, block.line, self.phase, self.section.title)
        self._rollback_time(block)
        if self.phase is not None and self.phase.line == self.section.line:
            for key, value in rules.metadata_lines(block.text):
                slug = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
                if slug in ("owner", "owners", "responsible", "dri", "assignee"):
                    self.phase.owner = value
                elif slug and slug not in self.phase.metadata:
                    self.phase.metadata[slug] = value

    def _lead_in(self, block: Paragraph) -> None:
        """ "**If the deployment fails:**", "**Rollback procedure:**", a `<summary>Rollback`:
        what follows is recovery, never a forward step, until the next lead-in (issue 11 §1,
        §5). A paragraph asking a human to confirm pauses the run here (§7)."""
        text = block.text.strip()
        lead_in = rules.is_lead_in(text)
        if lead_in or self.described:  # "CI executes:" lasts until the next lead-in
            self.described = rules.describes_automation(text)
        conditional = rules.is_conditional_text(text)
        if (conditional and (lead_in or len(text) <= 160)) or (
            lead_in and rules.is_rollback_title(text) and not self.draft.rollback_purpose
        ):
            if not self.rollback:
                why = "conditional" if conditional else "rollback lead-in"
                self.draft.note("recovery", line=block.line, what=rules.one_line(text, 80), why=why)
            self.rollback = True
        elif lead_in:
            self.rollback = self.section_rollback
        if not self.rollback and rules.asks_human(text):
            self.confirm(text, block.line)

    def _fence(self, block: Fence, note: directives.Annotation | None = None) -> None:
        attrs = directives.from_fence_attrs(block.attrs).merged(note)
        if attrs.skip:
            self.draft.note("data", line=block.line, lang=block.lang, why="marked skip")
            return
        if block.lang == "mermaid":
            deps.Collector(self.draft).mermaid(block.text, block.line)
        if polarity.failure_context(self._context()):  # "if error_rate > 5%:" pseudo-code
            maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
            action_tables.fence(maker, block.text, block.line, self._context())
        if not shell.is_shell_fence(block.lang, block.text):
            if not self._query_fence(block, attrs):
                self.draft.note("data", line=block.line, lang=block.lang or "text", why="not shell")
            return
        listed = listings.listing(block.text, self.lead) if not attrs.name else None
        if listed is not None:  # saved as a file by a person, never run inline
            self.draft.note("data", line=block.line, lang=block.lang or "text", why=listed)
            self.draft.note("review", line=block.line, what="script listing", why=listed)
            return
        script = shell.strip_prompts(block.text, block.lang)
        if attrs.name:  # an author-named fence is one step
            chunks = [shell.Chunk(attrs.name, script, 0)] if script.strip() else []
        else:
            chunks = shell.split_commands(script)
        as_check = attrs.check or self.verify or rules.is_verify_text(block.context)
        if self.rollback:  # only a verify heading makes rollback code a check
            as_check = attrs.check or self.verify
        item_role = self._item_lead_role(block)
        rollback = self.rollback or attrs.rollback or item_role == "recovery"
        as_check = as_check and not attrs.step
        bash_like = block.lang not in _NOT_BASH
        saved_when = self.when  # an item's optional part lasts for its own fence
        if item_role == "optional" and self.phase is not None and not rollback:
            lead = decisions.Lead(block.context.strip(), block.line)
            found = decisions.decide(self.draft, self.phase, self.section, [lead])
            self.when = decisions.combine(self.when, found[id(lead)])
        outer, per_chunk = self.when, decisions.chunk_choices(self, chunks, block.line)
        for chunk in chunks:
            line = block.line + 1 + chunk.offset
            choice = per_chunk.get(id(chunk))
            if choice == "recovery" and not rollback and not as_check:
                # "# On rollback" / "# If it fails": the paragraph is recovery (issue 11 §1)
                self.draft.note("recovery", line=line, what=chunk.name or "", why="conditional")
                self._add_action(chunk.text, chunk.name, line)
                continue
            self.when = outer if choice is None else decisions.combine(outer, choice)
            if bash_like:
                kept = self._clean_chunk(chunk, line, rollback and not as_check, as_check)
                if kept is None:
                    continue
                chunk = kept  # noqa: PLW2901  (the same chunk, text lines taken out)
            expected = shell.expected_comment(chunk.text)
            named_check = bool(chunk.name and rules.is_verify_text(chunk.name)) and not attrs.step
            if (rollback or self.phase is None) and not as_check:
                self._add_action(chunk.text, chunk.name, line)
            elif as_check or named_check:
                self._fence_check(chunk, attrs, expected, line)
            else:
                if expected is not None:
                    what = (
                        f"`# Expected: {rules.one_line(expected[0], 60)}` on a step is not checked"
                    )
                    self.draft.note("ambiguous", line=line, what=what)
                step: dict[str, Any] = {"run": chunk.text}
                if chunk.name:
                    step = {"name": chunk.name, **step}
                if attrs.undo:
                    step["undo"] = attrs.undo
                self._add_step(step, line)
            self._flush_manual()
        self.when = saved_when

    def _item_lead_role(self, block: Fence) -> str | None:
        """A list item introducing its own fence ("- Restore:", "- If it fails:", "-
        Optionally, check:") gives that fence a role, as a lead-in paragraph would (§1, §5)."""
        text = block.context.strip()
        if not text or text == self.lead.strip() or not rules.is_lead_in(text):
            return None
        if rules.is_conditional_text(text) or (
            rules.is_rollback_title(text) and not self.draft.rollback_purpose
        ):
            if not self.rollback:
                what = rules.one_line(text, 80)
                self.draft.note("recovery", line=block.line, what=what, why="list lead-in")
            return "recovery"
        if rules.is_optional_title(text):
            return "optional"
        return None

    def _clean_chunk(
        self, chunk: shell.Chunk, line: int, rollback: bool, check: bool
    ) -> shell.Chunk | None:
        """The chunk with text and never-ending lines taken out (shellparse.py): text a human
        must act on becomes a manual step (or check), the rest a review note with its line;
        None when nothing is left to run."""
        cleaned = shellparse.clean(chunk.text)
        if not cleaned.changed:
            return chunk
        if not rollback and self.phase is not None:  # observation: a monitor of the phase
            cleaned = monitors.take(self.draft, self.phase, chunk.text, cleaned, line, chunk.name)
        for unit in cleaned.texts:
            what = rules.one_line(unit.text, 100)
            self.draft.note(
                "review", line=line + unit.start, what=what, why=f"{unit.kind}, not run"
            )
        for unit in cleaned.forever:
            what = rules.one_line(unit.text, 100)
            self.draft.note("review", line=line + unit.start, what=what, why=unit.forever)
        if not rollback and self.phase is not None:
            self._manual_for(chunk, cleaned, line, check)
        if cleaned.commands == 0:
            self._flush_manual()
            return None
        return shell.Chunk(chunk.name, cleaned.script, chunk.offset)

    def _manual_for(
        self, chunk: shell.Chunk, cleaned: shellparse.Cleaned, line: int, check: bool
    ) -> None:
        """A person does what the fence describes (add a DNS record) or watches what never
        ends (`kubectl get pods -w`): the run waits for them instead of running it."""
        lead = (chunk.name or rules.one_line(self.lead, 80)).rstrip(": ")
        first = next(
            (
                u.start
                for u in shellparse.analyse(chunk.text)
                if u.kind == "command" and not u.forever
            ),
            None,
        )
        asks: list[tuple[int, str]] = []
        acts = [
            u
            for u in cleaned.texts
            # "Optionally, check the logs:" offers what follows (an aside): nothing to do
            if not (u.kind == shellparse.PROSE and listings.aside(u.text))
            and not (u.kind == shellparse.CONFIG and rules.is_optional_title(u.text))
            and u.kind
            in (
                shellparse.CONFIG,
                shellparse.ZONE,
                shellparse.PROSE,
                shellparse.SQL,  # typed in a database client
                shellparse.REQUEST,  # sent from an API console
            )
        ]
        if acts:
            body = "; ".join(rules.one_line(u.text, 80) for u in acts)
            asks.append((acts[0].start, f"{lead}: {body}" if lead else body))
        for unit in cleaned.forever:
            text = rules.one_line(unit.text, 100)
            # what is left here waits for a person (an editor, a prompt, a shell): done by hand
            what = f"by hand, in another terminal: `{text}` ({unit.forever})"
            asks.append((unit.start, f"{lead}: {what}" if lead else what))
        for offset, what in sorted(asks):
            if check:
                self._add_check({"manual": what}, line + offset, "manual (not runnable)", False)
            elif first is None or offset < first:
                self._manual_step(what, line + offset)
            else:  # after the commands before it: added once the step is (_flush_manual)
                self._after.append((what, line + offset))

    def _flush_manual(self) -> None:
        for what, line in self._after:
            self._manual_step(what, line)
        self._after = []

    def _manual_step(self, what: str, line: int) -> None:
        """A step the operator does and acknowledges: the run pauses (exit 4) until
        `phasegate approve`."""
        assert self.phase is not None
        self.phase.steps.append(Entry({"name": f"manual: {what}", "pause": "approve"}, line))
        self.draft.note("manual", phase=self.phase.id, line=line, what=what)

    def _fence_check(
        self,
        chunk: shell.Chunk,
        attrs: directives.Annotation,
        expected: tuple[str, bool] | None,
        line: int,
    ) -> None:
        if attrs.expect:
            expect = dict(attrs.expect)
            parsed = ParsedCheck({"command": chunk.text, "expect": expect}, "author annotation")
        elif expected is not None and expected[1]:
            parsed = parse_expectation(chunk.text, expected[0])
        elif expected is not None:
            parsed = described_output(chunk.text)
        else:
            parsed = ParsedCheck({"command": chunk.text}, "exit 0 (fence)")
        data = {"name": chunk.name, **parsed.check} if chunk.name else parsed.check
        self._add_check(data, line, parsed.how, parsed.ambiguous)

    def _item(self, block: Item) -> None:
        text = rules.one_line(block.text)
        deps.Collector(self.draft).text(block.text, block.line, self.phase, self.section.title)
        command = next((c for c in block.code if _is_command(c)), None)
        if command is None:  # `watch -n 5 ls` reads as no known command, yet it is one
            command = next((c for c in block.code if monitors.watches(c)), None)
        if command is not None and shellparse.never_ending_text(command):
            why = shellparse.never_ending_text(command) or ""
            phase = None if self.rollback else self.phase
            if monitors.adopt(self.draft, phase, command, block.line, why):
                return
            self.draft.note("review", line=block.line, what=rules.one_line(command, 100), why=why)
            command = None  # a person watches it: a manual check or step, never a hung gate
        # A task box is a gate whatever it says; other items may state a trigger or a ramp.
        if block.checked is None and command is None and self._trigger(block.text, block.line):
            return
        if (
            block.checked is None
            and not self.rollback
            and traffic.sequence(self.draft, self.phase, block.text, block.line)
        ):
            return
        if self.rollback:
            if command is not None:
                self._add_action(command, text, block.line)
            else:  # a manual rollback task or decision: kept in the plan for the operator
                target = self.phase.metadata if self.phase else self.draft.metadata
                target.setdefault("rollback_checklist", []).append(text)
                self.draft.note("rollback_checklist", phase=self.where, line=block.line, what=text)
            return
        lead = rules.last_line(self.lead)
        checklist = self.checklist or rules.is_checklist_text(lead)
        verify = self.verify or rules.is_verify_text(lead)
        if block.checked is not None or checklist or (verify and command is not None):
            if command is not None and (verify or checklist or block.checked is not None):
                self._add_check({"name": text, "command": command}, block.line, "exit 0", False)
            else:
                mark = _DONE_MARK.match(text)  # "✅ Backups verified" reads as a ticked box
                data: dict[str, Any] = {"manual": text[mark.end() :] if mark else text}
                if block.checked or mark:
                    data["checked"] = True
                self._add_check(data, block.line, "manual", ambiguous=False)
        elif command is not None and block.text.strip() == f"`{command}`":
            self._add_step({"run": command}, block.line)
        elif traffic.gate(self.draft, self.phase, block.text, block.line):
            return  # "Health gate: …" under a day's weight: the proceed before the next one
        elif (
            block.ordered
            and command is None
            and not any(" " in c.strip() for c in block.code)
            and not _NOTES.match(rules.last_line(self.lead))
            and self._by_hand()
        ):
            # inline code that is no command (`scripts/deploy.sh`, `logs/ci/`) names what the
            # person works on: still a step done by hand
            self.procedure.append((block.text, block.line))
        elif command is None and self._detail(block):
            # "2. Technische Schritte" over "- App stoppen": the details of that numbered step
            text, line = self.procedure[-1]
            self.procedure[-1] = (f"{text} — {rules.one_line(block.text, 100)}", line)
        else:
            self.draft.note("unmapped", line=block.line, section=self.section.title, what=text)

    def _query_fence(self, block: Fence, attrs: directives.Annotation) -> bool:
        """A ``sql`` / ``promql`` fence that verifies something: a check (queries.py)."""
        lang = block.lang.lower()
        if lang not in ("sql", "postgresql", "mysql", "sqlite", "promql") or self.phase is None:
            return False
        context = f"{block.context}\n{rules.last_line(self.lead)}"
        if not (attrs.check or self.verify or rules.is_verify_text(context)):
            return False
        if lang == "promql":
            check = queries.promql_check(self.draft, block.text, context)
            if check is None:
                return False
            how = f"metric {check['success']}"
        else:  # one check per statement: a driver runs one statement at a time
            for statement, offset in queries.statements(block.text):
                check = queries.sql_check(self.draft, statement, context, block.line)
                how = "no rows" if check.get("expect") == {"empty": True} else "query runs"
                name = attrs.name or shell._leading_comment(statement.replace("--", "#", 1))
                if name:
                    check = {"name": name, **check}
                self._add_check(check, block.line + 1 + offset, how, ambiguous=False)
            return True
        if attrs.name:
            check = {"name": attrs.name, **check}
        self._add_check(check, block.line, how, ambiguous=False)
        return True

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
        own = triggers.stated(text)  # "Rollback if error rate > 1%" names its own action
        if own is not None:
            maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
            limited = triggers.limited(own[0], context)
            return maker.from_text(own[1], line, limited, rules.last_line(self.lead))
        if rules.is_checklist_text(context) and not self.rollback:
            return False
        # only lists stated as failure conditions (issue 11 §6): not "Selection criteria"
        stated = polarity.failure_context(context)
        number = thresholds.parse(text) is not None
        soft = polarity.soft_context(context) and (number or bool(polarity.text_is_failure(text)))
        if not stated and not soft and not (self.rollback and number):
            return False
        if stated and not self.rollback and triggers.recovery_document(self.draft):
            return triggers.entry_condition(self.draft, self.phase, text, line)
        action = triggers.action_for(context, number)
        if action is None:  # a human decides: not a trigger
            return False
        maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
        return maker.from_text(text, line, action, rules.last_line(self.lead))

    def _scoped(self) -> bool:
        return self.phase is not None and self.phase.named


def _is_command(code: str) -> bool:
    return (" " in code.strip() or code.startswith("./")) and shell.looks_like_shell(code)


def _first(run: Any) -> str:
    text = run if isinstance(run, str) else " ".join(run)
    lines = text.strip().splitlines()
    return lines[0][:80] if lines else ""
