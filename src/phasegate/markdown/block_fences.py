"""Fences in a section (part of blocks.BlockMapper): shell fences cut into commands, cleaned of
text and never-ending lines (shellparse.py), with the options, asides and recovery the text
around them gives; SQL and PromQL fences that verify something. A mixin so the mapper's state
is one object; split out of blocks.py to keep modules small."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phasegate.markdown import (
    action_tables,
    byhand,
    carry,
    cmdexe,
    decisions,
    deps,
    devicecli,
    directives,
    fishshell,
    foreach,
    listings,
    monitors,
    mutation,
    optional_parts,
    placeholders,
    polarity,
    powershell,
    prompts,
    prose_actions,
    ps_transcript,
    queries,
    rollback_cases,
    rollback_people,
    rules,
    shell,
    shellparse,
    shelltext,
    sqlchange,
    sqlsession,
    triggers,
)
from phasegate.markdown.draft import Entry, add_to_checklist
from phasegate.markdown.expect import (
    ParsedCheck,
    described_output,
    parse_expectation,
    stated_value,
)
from phasegate.markdown.parse import Block, Fence, Item, Paragraph

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft, PhaseDraft
    from phasegate.markdown.nodes import CheckNode, StepNode
    from phasegate.markdown.parse import Section

_NOT_BASH = frozenset({"powershell", "ps1", "pwsh", "bat", "cmd"})
# code a person types into another program (a console, a REPL, an admin UI's script box)
_CODE_LANGS = frozenset(
    {
        "ruby", "rb", "irb", "python", "py", "pycon", "javascript", "js", "node", "typescript",
        "ts", "groovy", "elixir", "iex", "erlang", "scala", "clojure", "php", "perl", "lua",
        "java", "kotlin", "csharp", "cs", "go", "rust", "r", "julia", "mongo", "mongodb",
        "mongosh", "redis", "cypher", "cql", "painless", "kql", "splunk", "spl",
    }
)  # fmt: skip
# listings a person writes into a file (block_fences._edit_by_hand)
_CONFIG_LANGS = frozenset(
    {
        "json",
        "jsonc",
        "json5",
        "yaml",
        "yml",
        "toml",
        "ini",
        "conf",
        "cfg",
        "xml",
        "properties",
        "hcl",
        "tf",
        "nginx",
        "apache",
        "env",
        "dotenv",
        "caddyfile",
    }
)
# "change the `TargetOriginId` …:", "set `max_connections` in postgresql.conf:", "add to
# values.yaml:", "in `dist.json`, replace …:", "Ändern Sie …:", "modifiez …:", "cambia …:"
_EDIT = re.compile(
    r"(?:^|[,;]\s*|\b(?:then|and|now)\s+)(?:change|set|edit|update|replace|add|append|insert|"
    r"modify|adjust|put|paste|ändern sie|ändere|setzen sie|ersetzen sie|fügen sie|modifiez|"
    r"changez|remplacez|ajoutez|cambia|cambie|reemplaza|añade|agrega|altere|substitua|adicione|"
    r"modifica|sostituisci|aggiungi|wijzig|vervang|voeg)\b",
    re.I,
)
# "Save them as `rollback.json` and `reassign.json`:" over the output shown: files a person
# writes from what a command printed (an untagged listing)
_SAVE_AS = re.compile(
    r"\b(?:save|store|copy|paste|write|keep)\b[^:\n]{0,60}?\b(?:as|into|to|in)\s+`[^`\s]+\.\w{2,5}`",
    re.I,
)
# A notebook cell exported to Markdown: IPython's `%env X=…`, `%%time`, `!psql …` lines are no
# Python and no shell a plan can run; the cell is run by a person in the notebook (round 8)
_NOTEBOOK_CELL = re.compile(r"^\s*(?:%%?[A-Za-z]\w*\b|![\w./~$-])", re.M)
# `%%bash` / `%%sh` / `%%script bash` atop a fence: the cell magic, not a command
_CELL_MAGIC = re.compile(r"\A\s*%%(?:bash|sh|script\s+(?:ba)?sh)\b[^\n]*\n")
_RUNS_CODE = re.compile(
    r"\b(?:run|execute|paste|type|enter|evaluate|invoke|call|submit)\b|\bconsole\b|\brepl\b|"
    r"\bshell\b|\birb\b|\biex\b|ejecut|ex[ée]cut|ausf[uü]hr|执行|运行|実行|실행",
    re.I,
)


def byhand_said(sentence: str, why: str) -> bool:
    """Whether this sentence of a lead-in is the one leaving the way back to a person."""
    return rollback_people.persons_part(sentence) is not None or (
        "decides" in why and rules.person_decides(sentence)
    )


class FenceMapping:
    """The fence half of BlockMapper (which defines everything declared here)."""

    draft: Draft
    phase: PhaseDraft | None
    section: Section
    rollback: bool
    section_rollback: bool
    verify: bool
    when: str | None
    lead: str
    _after: list[tuple[str, int]]
    before: Block | None
    shown_only: str | None  # why the last fence was not run (a lead-in may go on from it)
    confirmed: StepNode | None  # the pause this section already asks a human to confirm in
    repeat: foreach.Repeat | None  # "Repeat for each region: a, b, c" over the next fence

    def _add_action(self, run: str, name: str | None, line: int, rule: str = "") -> None:
        raise NotImplementedError

    def _add_step(self, data: StepNode, line: int, rule: str = "shell fence") -> None:
        raise NotImplementedError

    def _add_check(self, data: CheckNode, line: int, how: str, ambiguous: bool) -> None:
        raise NotImplementedError

    def _context(self) -> str:
        raise NotImplementedError

    def _scoped(self) -> bool:
        raise NotImplementedError

    def _fence(self, block: Fence, note: directives.Annotation | None = None) -> None:
        repeat = self.repeat
        if repeat is not None:
            self.repeat = None  # the lead-in's list applies to the fence right after it
            if self._repeated(block, repeat, note):
                return
        way = self._rollback_case(block)
        if way is None:
            self._fence_as_written(block, note)
            return
        # "If the schema migration already ran:" / "If only the application was deployed:"
        # over two fences of one rollback: one or the other, a person tells them apart
        # (rollback_cases.py); the fence is read as any, its actions bound to that choice
        saved, self.when = self.when, decisions.combine(self.when, way)
        try:
            self._fence_as_written(block, note)
        finally:
            self.when = saved

    def _repeated(
        self, block: Fence, repeat: foreach.Repeat, note: directives.Annotation | None
    ) -> bool:
        """The fence once per value of "Repeat for each region: a, b, c" (foreach.py), a
        person's confirmation between two values when the lead-in asks for one; False when
        the fence has no variable taking those values (it is then read as written)."""
        if self.rollback or self.phase is None or block.lang.lower() not in shell.SHELL_LANGS:
            return False
        name = foreach.variable(block.text, repeat.values)
        if name is None:
            return False
        asks = bool(repeat.lead) and rules.asks_human(repeat.lead)
        why = f"once per value of ${name}: {', '.join(repeat.values)}"
        self.draft.note("review", line=block.line, what="repeated fence", why=why)
        for index, value in enumerate(repeat.values):
            if index and asks:
                said = rules.one_line(repeat.lead, 160)
                self._manual_step(f"before {name}={value}: {said}", block.line + 1)
            text = foreach.instance(block.text, name, value)
            self._fence(Fence(block.line, block.lang, block.attrs, text, block.context), note)
        return True

    def _rollback_case(self, block: Fence) -> str | None:
        """The ``when`` of a fence whose lead-in states one of two or more cases of this
        rollback section (a way of its rollback decision), or None."""
        lead = self.before if isinstance(self.before, (Paragraph, Item)) else None
        if (
            not self.rollback
            or lead is None
            or not rollback_cases.states_case(lead.text)
            or byhand.person_runs(lead.text) is not None
            or byhand.chosen(lead.text, block.text)  # a person's way: asked as such below
            or not rollback_cases.one_or_the_other(
                [found.text for found in rollback_cases.case_leads(self.section.blocks)]
            )
        ):
            return None
        way = decisions.Lead(rules.one_line(lead.text, 120), lead.line)
        return decisions.decide_rollback(self.draft, self.phase, self.section, [way])[id(way)]

    def _fence_as_written(self, block: Fence, note: directives.Annotation | None) -> None:
        attrs = directives.from_fence_attrs(block.attrs).merged(note)
        if attrs.skip:
            self.draft.note("data", line=block.line, lang=block.lang, why="marked skip")
            return
        if block.lang == "mermaid":
            deps.Collector(self.draft).mermaid(block.text, block.line)
        if polarity.failure_context(self._context()):  # "if error_rate > 5%:" pseudo-code
            maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
            action_tables.fence(maker, block.text, block.line, self._context())
        if block.lang.lower() in cmdexe.TAGS or (
            block.lang in ("", "text", "txt", "plain", "plaintext", "none")
            and cmdexe.is_transcript(block.text)
        ):
            self._cmd_exe(block, attrs)
            return
        if block.lang.lower() in fishshell.TAGS:
            self._fish(block, attrs)
            return
        if block.lang in ("", "text", "txt", "plain", "plaintext", "none"):
            read_as = powershell.classify(block.text)
            if read_as == "pwsh":  # every line plainly PowerShell: run by pwsh
                block = Fence(block.line, "powershell", block.attrs, block.text, block.context)
            elif read_as == "ambiguous" and self.phase is not None and not self.rollback:
                why = "looks like PowerShell, not sure it is safe to run as written"
                self.draft.note("review", line=block.line, what="untagged PowerShell", why=why)
                self._manual_step(powershell.person_label(block.text), block.line)
                return
        if block.lang in powershell.TAGS:
            self._powershell(block, attrs)
            return
        if self._device_session(block):  # `spine-2(config)# …`: typed at the switch
            return
        prompted = shell.normalize_prompts(block.text, block.lang)
        if prompted != block.text:  # `# systemctl …`, `(postgres)# initdb …`: prompts
            block = Fence(block.line, block.lang, block.attrs, prompted, block.context)
        if not shell.is_shell_fence(block.lang, block.text):
            if self._query_fence(block, attrs):
                return
            if (
                self._code_by_hand(block)
                or self._sql_in_session(block)
                or self._edit_by_hand(block)
                or self._sql_change_by_hand(block)
            ):
                return
            self.draft.note("data", line=block.line, lang=block.lang or "text", why="not shell")
            return
        # "For instance, to throttle during peak:" … "and to resume:": a lead-in that goes on
        # with the sentence of a fence not run is not run either (blind round 7)
        shown: str | None = getattr(self, "shown_only", None)
        continued = (
            shown is not None
            and isinstance(self.before, Paragraph)
            and listings.continues(self.before.text)
        )
        if (
            not attrs.name
            and isinstance(self.before, Paragraph)
            and (
                listings.forbids_fence(self.before.text, block.text)
                or listings.illustrates(self.before.text)
                or continued
                or listings.quoted_chat(self.before.text)
                or (listings.asks(self.before.text) and mutation.mutates(block.text) is not None)
            )
        ):
            # "**Do not run this on the primary**:", "For example, …:": what not to run, or an
            # illustration; never run, on either path (issue 11 §1), listed for review
            why = (
                "the text before it says not to run it"
                if listings.forbids_fence(self.before.text, block.text)
                else "an example the text before it shows"
                if listings.illustrates(self.before.text)
                else "quoted from a conversation, not an order"
                if listings.quoted_chat(self.before.text)
                else "a change the text before it only asks about, never orders"
                if listings.asks(self.before.text) and not continued
                else f"goes on from a lead-in whose fence is not run ({shown})"
            )
            self.shown_only = why
            self.draft.note("review", line=block.line, what=rules.one_line(block.text, 80), why=why)
            self.draft.note("data", line=block.line, lang=block.lang or "text", why=why)
            return
        lead_block = self.before if isinstance(self.before, (Paragraph, Item)) else None
        by_hand = (
            byhand.person_runs(lead_block.text)
            if not attrs.name
            and lead_block is not None
            and (self.phase is not None or self.rollback)
            else None
        )
        if (
            self.rollback
            and by_hand is None
            and lead_block is not None
            and not attrs.name
            and byhand.chosen(lead_block.text, block.text)
        ):
            by_hand = "a person decides whether to run it"
        if self.rollback and by_hand is None and lead_block is not None and not attrs.name:
            # "Only if the numbers look wrong to finance:", "select the old kernel through
            # the iDRAC console (by hand), then:": the way back waits for that person
            by_hand = rollback_people.persons_part(lead_block.text)
        if by_hand is not None and lead_block is not None:
            # "The DBA on call runs (and answers the prompt):", "the DBA may force a failover:":
            # the person's to run; never run unasked, never by an automatic rollback (byhand.py)
            script = shell.strip_prompts(block.text, block.lang)
            if self.rollback and "prompt" in by_hand:
                self._optional_recovery(block, script)  # nobody answers it on a rollback
            elif self.rollback:
                # a way back the person chooses when the rollback comes: `when:` bound to
                # that choice (unchosen, it does not run)
                # the person asked reads the lead-in (who, what by hand: up to 120 characters)
                # (the sentences that leave it to the person, when the lead-in is longer)
                said = [
                    s for s in prose_actions.sentences(lead_block.text) if byhand_said(s, by_hand)
                ] or [lead_block.text]
                way = decisions.Lead(rules.one_line(" ".join(said), 120), lead_block.line)
                chosen = decisions.decide_rollback(self.draft, self.phase, self.section, [way])
                saved, self.when = self.when, decisions.combine(self.when, chosen[id(way)])
                self._add_action(script, None, block.line + 1)
                self.when = saved
            else:
                what = byhand.label(lead_block.text, script, by_hand)
                self._manual_step(what, block.line + 1)
                if "prompt" in by_hand:
                    self.draft.note("prompts", line=block.line + 1, what=what, why=by_hand)
            return
        if (
            not attrs.name
            and not self.rollback
            and isinstance(self.before, Paragraph)
            and listings.offers(self.before.text)
        ):
            # "You can also use the curl command to verify the setting:" over its fence: an
            # offer, not an order (as prose inside a fence is): listed for review, never run
            why = "offered by the text before it, not ordered"
            self.draft.note("review", line=block.line, what="fence after an aside", why=why)
            self.draft.note("data", line=block.line, lang=block.lang or "text", why=why)
            return
        if not attrs.name and shelltext.output_lead(block.context, block.text):
            # "You should see one of the three messages:" over a log excerpt: what a person
            # reads, never a command (issue 11 §2)
            why = "sample output the text before it announces"
            self.draft.note("data", line=block.line, lang=block.lang or "text", why=why)
            return
        listed = listings.listing(block.text, self.lead) if not attrs.name else None
        if listed is not None:  # saved as a file by a person, never run inline
            self.draft.note("data", line=block.line, lang=block.lang or "text", why=listed)
            self.draft.note("review", line=block.line, what="script listing", why=listed)
            return
        script = shell.strip_prompts(block.text, block.lang)
        magic = _CELL_MAGIC.match(script)
        if magic is not None:  # `%%bash` atop an exported notebook cell: the rest is shell
            script = "\n" + script[magic.end() :]
        if attrs.name:  # an author-named fence is one step
            chunks = [shell.Chunk(attrs.name, script, 0)] if script.strip() else []
        else:
            chunks = shell.split_commands(script)
            if not self.rollback and self.phase is not None:
                # `# --- optional: … ---` … `# --- end ---` inside a script (blind round 12)
                chunks = optional_parts.split(chunks)
        as_check = attrs.check or self.verify or rules.is_verify_text(block.context)
        if as_check and not attrs.check and block.lang not in _NOT_BASH:
            # "## Verify": `curl …/health` + `sed -i …` + `systemctl reload` in one paragraph:
            # the reads stay checks around the change, which is a step (mutation.py)
            chunks = [part for chunk in chunks for part in _split_changes(chunk)]
        if self.rollback:  # only a verify heading makes rollback code a check
            # ... unless a nearer lead-in made it rollback ("## Step 4 — Verify" over
            # `<summary>Rollback</summary>`): the way back, not a check of it (round 6)
            led_back = not self.section_rollback and not rules.is_verify_text(
                rules.last_line(self.lead)
            )
            as_check = attrs.check or (self.verify and not led_back)
        item_role = self._item_lead_role(block)
        rollback = self.rollback or attrs.rollback or item_role == "recovery"
        if item_role == "recovery" and not self.rollback:
            # "- If it fails:" under "## Verify": the remedy, never a check that runs forward
            as_check = attrs.check
        as_check = as_check and not attrs.step
        bash_like = block.lang not in _NOT_BASH
        if item_role == "optional" and rollback and not as_check:
            self._optional_recovery(block, script)
            return
        if (
            item_role is None
            and not rollback
            and self.when is None
            and lead_block is not None
            and not attrs.name
            and byhand.chosen(lead_block.text, block.text)
        ):
            # a lead-in of any length that leaves the fence to a person's choice: a decision
            item_role = "optional"
        saved_when = self.when  # an item's optional part lasts for its own fence
        if item_role == "optional" and self.phase is not None and not rollback:
            lead = decisions.Lead(block.context.strip(), block.line)
            found = decisions.decide(self.draft, self.phase, self.section, [lead])
            self.when = decisions.combine(self.when, found[id(lead)])
        outer, per_chunk = (
            self.when,
            decisions.chunk_choices(self, chunks, block.line),
        )
        # "# edit values.local.yaml, then:" between commands: the run waits for the person
        edits = shell.edit_instructions(script) if not rollback and self.phase else []
        script_lines = script.splitlines()
        # the shell an earlier fence (or line) opened, before each line: `sudo -i -u app`
        # and no `exit` yet, the reader types these commands there (shellparse.sessions). A
        # way back is read when things went wrong, from a terminal of its own: it starts
        # with no shell open, and what it opens stays its own.
        carried = None if rollback else self.draft.session
        opened_at, left_open = shellparse.sessions(script, carried) if bash_like else ([], carried)
        for chunk in chunks:
            line = block.line + 1 + chunk.offset
            first = chunk.offset
            while first < len(script_lines) and (
                not script_lines[first].strip() or script_lines[first].lstrip().startswith("#")
            ):
                first += 1
            while edits and edits[0][0] < first:
                offset, text = edits.pop(0)
                self._manual_step(shell.person_label(text), block.line + 1 + offset)
            # a heading's "Verify" makes checks of what only looks; `sed -i`, `kubectl
            # apply`, a write with `>` under it stay steps at their place (mutation.py)
            changes = None if attrs.check or not bash_like else mutation.mutates(chunk.text)
            chunk_check = as_check and changes is None
            if changes is not None and as_check:
                self.draft.note(
                    "review",
                    line=line,
                    what=rules.one_line(chunk.text, 80),
                    why=f"under a check's heading but {changes}: a step, not a check",
                )
            choice = per_chunk.get(id(chunk))
            if choice == "recovery" and not rollback and not chunk_check:
                # "# On rollback" / "# If it fails": the paragraph is recovery (issue 11 §1)
                self.draft.note("recovery", line=line, what=chunk.name or "", why="conditional")
                self._add_action(chunk.text, chunk.name, line)
                continue
            self.when = outer if choice is None else decisions.combine(outer, choice)
            if bash_like:
                opened = opened_at[chunk.offset] if chunk.offset < len(opened_at) else None
                kept = self._clean_chunk(
                    chunk, line, rollback and not chunk_check, chunk_check, opened
                )
                if kept is None:
                    continue
                chunk = kept  # noqa: PLW2901  (the same chunk, text lines taken out)
            expected = shell.expected_comment(chunk.text)
            named_check = (
                bool(chunk.name and rules.is_verify_text(chunk.name))
                and not attrs.step
                and changes is None
            )
            if (rollback or self.phase is None) and not chunk_check:
                self._add_action(chunk.text, chunk.name, line)
            elif chunk_check or named_check:
                self._fence_check(chunk, attrs, expected, line)
            else:
                if expected is not None:
                    what = (
                        f"`# Expected: {rules.one_line(expected[0], 60)}` on a step is not checked"
                    )
                    self.draft.note("ambiguous", line=line, what=what)
                step: StepNode = {"run": chunk.text}
                if chunk.name:
                    step = {"name": chunk.name, **step}
                if attrs.undo:
                    step["undo"] = attrs.undo
                self._add_step(step, line)
            self._flush_manual()
        for offset, text in edits:  # after the last command: the fence ends with the edit
            self._manual_step(shell.person_label(text), block.line + 1 + offset)
        self.when = saved_when
        if bash_like:  # its functions and arrays, for the fences after it (carry.py)
            carry.remember(self.draft, script, block.line + 1)
            if not rollback:
                self.draft.session = left_open

    def _powershell(self, block: Fence, attrs: directives.Annotation) -> None:
        """A PowerShell block is one pwsh step (bash's parser does not read it); rollback
        code one rollback action run by pwsh; a check a person makes (a pwsh check has no
        expectation we could read)."""
        pasted = ps_transcript.strip(block.text)  # `PS C:\>` lines and what they printed
        script = pasted.script if pasted is not None else shell.strip_prompts(block.text, "")
        script, forever = ps_transcript.split_forever(script)
        for offset, text, why in forever:  # `Get-Content app.log -Wait`: never a hung step
            line = block.line + 1 + offset
            self.draft.note("review", line=line, what=rules.one_line(text, 100), why=why)
            if not self.rollback and self.phase is not None:
                self._manual_step(f"by hand, in another window: `{text}` ({why})", line)
        if not script.strip():
            return
        if not self.rollback:
            self.draft.pwsh_defs.update(powershell.defines(script, self.draft.pwsh_defs))
        # `$pilot` set by an earlier block's query: set again before this block (one session)
        script = powershell.carried(script, self.draft.pwsh_defs)
        run = powershell.STRICT + script.strip()
        as_check = (attrs.check or self.verify or rules.is_verify_text(block.context)) and not (
            attrs.step or self.rollback
        )
        line = block.line + 1
        unsure = [f"${name}" for name in powershell.unset_reads(script)]
        unsure += [f.text for _, _, f in placeholders.find(script)]
        if unsure and self.phase is not None:
            # `$credentials` from an earlier block (another pwsh process), `<email address>`:
            # run alone it would act on empty values; a person runs it in their session
            said = ", ".join(f"`{u}`" for u in unsure[:4])
            why = f"reads {said}, set in no earlier part of this block"
            self.draft.note("review", line=line, what="PowerShell block", why=why)
            self._manual_step(powershell.person_label(script), line)
            return
        # not through carry.py: a bash function or array of an earlier fence means nothing here
        data: StepNode = {"run": placeholders.bind(self.draft, run, line)}
        data["shell"] = powershell.SHELL
        if attrs.name:
            data = {"name": attrs.name, **data}
        if self.when is not None:
            data["when"] = self.when
        if self.rollback or self.phase is None or self._item_lead_role(block) == "recovery":
            target = self.phase.rollback if self.phase else self.draft.plan_rollback
            target.append(Entry(data, line))
            what = attrs.name or script.strip().splitlines()[0]
            self.draft.note(
                "rollback", phase=self.phase.id if self.phase else "plan", line=line, name=what
            )
        elif as_check:
            # `(Invoke-WebRequest …).StatusCode` + "Expected: `200`", `Test-NetConnection h
            # -Port 443`: a check a machine makes when it only reads and says what passing is
            later = [b for b in self.section.blocks if b.line > block.line]
            after = next((b for b in later if isinstance(b, Paragraph)), None)
            found = powershell.check(script, after.text if after is not None else "")
            if found is None:
                self._manual_step(powershell.person_label(script), line)
            else:
                how = "powershell check" + (" (tcp)" if "tcp" in found else "")
                self._add_check(found, line, how, ambiguous=False)
        else:
            self.phase.steps.append(Entry(data, line))
            what = attrs.name or script.strip().splitlines()[0]
            self.draft.note(
                "steps", phase=self.phase.id, line=line, name=what, rule="powershell fence"
            )

    def _cmd_exe(self, block: Fence, attrs: directives.Annotation) -> None:
        """A cmd.exe block (cmdexe.py) is one step run by cmd.exe, as a PowerShell block is
        run by pwsh: a rollback action on the way back, a manual step when it waits for a
        person, never ends or reads a value nobody set; a transcript's output is never run."""
        cmds = cmdexe.commands(block.text)
        printed = cmdexe.output_lines(block.text)
        if printed:  # what the commands printed: never run
            why = f"output the commands printed ({len(printed)} lines), not commands"
            self.draft.note("data", line=block.line + 1 + printed[0], lang="cmd output", why=why)
        if not cmds:
            return
        line = block.line + 1 + cmds[0][0]
        carried = dict(self.draft.cmd_defs)
        if not self.rollback:
            self.draft.cmd_defs.update(cmdexe.defines(cmds))
        if not self.rollback and all(cmdexe.defines([c]) for c in cmds):
            # only `set NAME=value`: a process of its own would set them for nothing; they are
            # set again in each later block that reads them
            self.draft.note("data", line=line, lang="cmd", why="values carried to later blocks")
            return
        unsure = [f"%{n}%" for n in cmdexe.unset_reads(cmds, carried)]
        unsure += [f.text for _, _, f in placeholders.find(" ".join(c for _, c in cmds))]
        waits = cmdexe.waits(cmds)
        if (unsure or waits) and self.phase is not None:
            why = (
                f"`{waits}` waits for a person or never ends"
                if waits
                else f"reads {', '.join(f'`{u}`' for u in unsure[:4])}, set nowhere before it"
            )
            self.draft.note("review", line=line, what="cmd.exe block", why=why)
            self._manual_step(cmdexe.person_label(cmds), line)
            return
        run = cmdexe.script(cmds, carried)
        self._other_shell(block, attrs, run, cmdexe.SHELL, cmdexe.RULE, cmds[0][1], line)

    def _fish(self, block: Fence, attrs: directives.Annotation) -> None:
        """A fish block (fishshell.py) is one step run by fish: a rollback action on the way
        back; a manual step when a line is not understood, never ends, waits for a person or
        reads a value nobody set (never guessed into execution)."""
        cmds = fishshell.commands(block.text)
        if not cmds:
            return
        line = block.line + 1 + cmds[0][0]
        carried = dict(self.draft.fish_defs)
        unknown = fishshell.not_understood(cmds)
        endless = fishshell.forever(cmds)
        unsure = [f"${n}" for n in fishshell.unset_reads(cmds, carried)]
        unsure += [f.text for _, _, f in placeholders.find(fishshell.scanned(cmds))]
        why = (
            f"`{endless}` never ends or waits for a person"
            if endless
            else f"fish the importer does not read: `{rules.one_line(unknown[0][1], 60)}`"
            if unknown
            else f"reads {', '.join(f'`{u}`' for u in unsure[:4])}, set nowhere before it"
            if unsure
            else None
        )
        if why is not None:
            self.draft.note("review", line=line, what="fish block", why=why)
            if self.phase is not None and not self.rollback:
                self._manual_step(fishshell.person_label(cmds, why), line)
            elif self.rollback:
                self._optional_recovery(block, block.text.strip())
            return
        if not self.rollback:
            self.draft.fish_defs.update(fishshell.defines(cmds))
        run = fishshell.script(cmds, carried)
        what = cmds[0][1].strip()
        self._other_shell(block, attrs, run, fishshell.SHELL, fishshell.RULE, what, line)

    def _other_shell(
        self,
        block: Fence,
        attrs: directives.Annotation,
        run: str,
        shell: str,
        rule: str,
        what: str,
        line: int,
    ) -> None:
        """A block run by another shell (cmd.exe, fish) at its place: a rollback action on the
        way back (or a recovery the item's lead-in names), else a step of the phase."""
        data: StepNode = {"run": run, "shell": shell}
        if attrs.name:
            data = {"name": attrs.name, **data}
        if self.when is not None:
            data["when"] = self.when
        what = attrs.name or what
        if self.rollback or self.phase is None or self._item_lead_role(block) == "recovery":
            target = self.phase.rollback if self.phase else self.draft.plan_rollback
            target.append(Entry(data, line))
            where = self.phase.id if self.phase else "plan"
            self.draft.note("rollback", phase=where, line=line, name=what)
        else:
            self.phase.steps.append(Entry(data, line))
            self.draft.note("steps", phase=self.phase.id, line=line, name=what, rule=rule)

    def _code_by_hand(self, block: Fence) -> bool:
        """ "Open a Rails console on one pod and run:" over a ``ruby`` fence: code a person
        types into another program's console. The run cannot type it there; dropping it would
        let the run pass without the step (issue 11 §1, §7): a manual step with the code, or,
        in a rollback, an item of the rollback checklist."""
        lang = block.lang.lower()
        if lang not in _CODE_LANGS or not block.text.strip():
            return False
        lead = block.context.strip() or rules.last_line(self.lead)
        notebook = lang in ("python", "py", "ipython", "ipython3") and bool(
            _NOTEBOOK_CELL.search(block.text)
        )
        if self.rollback and lead and rollback_people.persons_part(lead) is not None:
            # "Only if the numbers look wrong to finance:" over a cell in the way back: that
            # person is asked when the rollback comes; the code is theirs to run (round 11)
            self._optional_recovery(block, block.text.strip())
            return True
        if not (_RUNS_CODE.search(lead) or notebook) or rules.is_reference_title(
            self.section.title
        ):
            return False
        if listings.illustrates(lead) or listings.offers(lead) or rules.is_optional_part(lead):
            return False  # "For example, call it from Python:": nothing a person must do
        if notebook:
            lead = "run the notebook cell"
            why = "IPython magics or shell escapes: a notebook cell, not Python the plan runs"
            self.draft.note(
                "notebook", line=block.line, what=rules.one_line(block.text, 80), why=why
            )
        code = rules.one_line(block.text.strip(), 160)
        what = f"{rules.one_line(lead, 100).rstrip(': ')}: `{code}` ({lang})"
        if self.phase is None and not self.rollback:
            return False
        if self.rollback or self._item_lead_role(block) == "recovery":
            self._optional_recovery(block, block.text.strip())
            return True
        self._manual_step(f"by hand, in its console: {what}", block.line)
        return True

    def _edit_by_hand(self, block: Fence) -> bool:
        """ "In `dist.json`, under `…Items`, change the `TargetOriginId` of the `/assets/*`
        behaviour:" over a ``json`` listing: an edit a person makes in a file before the next
        command reads it. Left as data, the run would go on to apply the file unedited; a step
        done by hand at its place, with the listing's line (forward path only)."""
        lead = block.context.strip() or rules.last_line(self.lead)
        saved = block.lang.lower() in ("", "text", "txt", "plain", "json") and bool(
            _SAVE_AS.search(lead)
        )
        if (
            (block.lang.lower() not in _CONFIG_LANGS and not saved)
            or self.phase is None
            or self.rollback
            or not block.text.strip()
            or rules.is_reference_title(self.section.title)
        ):
            return False
        said = prose_actions.sentences(lead)
        last = said[-1] if said else ""
        if not last.endswith((":", "：")) or not (_EDIT.search(last) or saved):
            return False
        if listings.illustrates(lead) or listings.offers(lead) or rules.is_optional_part(lead):
            return False  # "For example, a config could look like:": nothing to do
        if rules.is_conditional_text(last):
            return False  # "If you use TLS, set:": the reader's case, decided elsewhere
        listing = f"write what the {block.lang or 'text'} listing at line {block.line} shows"
        asked = self.confirmed
        plain = rules.one_line(last, 160).rstrip(": ").replace("`", "")
        if asked is not None and plain in str(asked.get("name", "")).replace("`", ""):
            asked["name"] = f"{str(asked['name']).rstrip(': ')} — {listing}"  # asked already
            return True
        what = f"{rules.one_line(last, 160).rstrip(': ')} — {listing}"
        self._manual_step(f"by hand, edit: {what}", block.line)
        return True

    def _sql_in_session(self, block: Fence) -> bool:
        """A ``sql`` fence typed into the client session the document opened: run through
        that client (sqlsession.py); by hand when its lead-in puts it under a condition."""
        if block.lang.lower() not in sqlsession.SQL_LANGS or not block.text.strip():
            return False
        if any(ln.lstrip().startswith("\\") for ln in block.text.splitlines()):
            return False  # `\q`, `\c db`: the client's own commands, typed by a person
        found = sqlsession.client_for(self.draft.sql_sessions, block.line)
        if found is None or (self.phase is None and not self.rollback):
            return False
        client, program = found
        lead = block.context.strip() or rules.last_line(self.lead)
        line = block.line + 1
        if not self.rollback and sqlsession.conditional(lead):
            what = f"{rules.one_line(lead, 100).rstrip(': ')}: in the `{program}` session: "
            self._manual_step(what + f"`{rules.one_line(block.text.strip(), 120)}`", line)
            return True
        run = sqlsession.script(client, program, block.text)
        name = f"{program}: {rules.one_line(block.text.strip(), 60)}"
        if self.rollback:
            self._add_action(run, name, line, rule=sqlsession.RULE)
        else:
            self._add_step({"name": name, "run": run}, line, rule=sqlsession.RULE)
        return True

    def _sql_change_by_hand(self, block: Fence) -> bool:
        """A ``sql`` fence that changes the database and that no client session runs: the
        person runs it in their client (sqlchange.py); never dropped as documentation while
        the plan claims to be executable as written."""
        if self.phase is None or not sqlchange.changes(block.lang, block.text):
            return False
        if self.rollback or self._item_lead_role(block) == "recovery":
            self._optional_recovery(block, block.text.strip())
            return True
        lead = block.context.strip() or rules.last_line(self.lead)
        code = rules.one_line(block.text.strip(), 160)
        what = f"by hand, in the SQL client: {rules.one_line(lead, 100).rstrip(': ')}: `{code}`"
        self._manual_step(what, block.line + 1)
        why = "SQL no client session of the plan runs"
        what = rules.one_line(block.text, 80)
        self.draft.note("by_hand", line=block.line + 1, what=what, why=why)
        return True

    def _device_session(self, block: Fence) -> bool:
        """A fence typed at a network device's prompt (devicecli.py): a person's, never the
        local shell's; the plan is not executable as written."""
        typed = (
            devicecli.device_session(block.text) if block.lang in ("", "text", "console") else None
        )
        if not typed or (self.phase is None and not self.rollback):
            return False
        what = "typed at the device's CLI by a person: " + "; ".join(typed)
        if len(what) > 400:
            what = what[:399] + "…"
        if self.rollback:
            self._optional_recovery(block, "; ".join(typed))
        else:
            self._manual_step(what, block.line + 1)
        self.draft.note("by_hand", line=block.line + 1, what=rules.one_line(what, 160))
        return True

    def _optional_recovery(self, block: Fence, script: str) -> None:
        """ "- Restore from backup if needed:" over its fence in a rollback: the operator decides
        during the rollback whether it is needed; an automatic rollback never runs it (a
        restore over a database the rollback script already fixed loses what came after the
        backup). Kept in the rollback checklist with its command, for the person."""
        text = f"{rules.one_line(block.context, 100)} `{rules.one_line(script, 120)}`"
        lead = block.context.strip() or rules.last_line(self.lead)
        if self.rollback and lead and rollback_people.persons_part(lead) is not None:
            # "Only if the numbers look wrong to finance:" over a notebook cell: the rollback
            # asks that person when it comes, before anything of it (round 11)
            way = decisions.Lead(rules.one_line(lead, 120), block.line)
            decisions.decide_rollback(self.draft, self.phase, self.section, [way])
        add_to_checklist(self.phase.metadata if self.phase else self.draft.metadata, text)
        where = self.phase.id if self.phase else "plan"
        self.draft.note("rollback_checklist", phase=where, line=block.line, what=text)
        self.draft.note("review", line=block.line, what=text, why="optional part of a rollback")

    def _item_lead_role(self, block: Fence) -> str | None:
        """A list item introducing its own fence ("- Restore:", "- If it fails:", "-
        Optionally, check:") gives that fence a role, as a lead-in paragraph would (§1, §5)."""
        text = block.context.strip()
        if not text or text == self.lead.strip() or not rules.is_lead_in(text):
            return None
        if self.rollback and (rules.is_optional_part(text) or rules.IF_NEEDED.search(text)):
            return "optional"  # "- Restore from backup if needed:" inside a rollback
        if rules.is_conditional_text(text) or (
            rules.rollback_lead_in(text) and not self.draft.rollback_purpose
        ):
            if not self.rollback:
                what = rules.one_line(text, 80)
                self.draft.note("recovery", line=block.line, what=what, why="list lead-in")
            return "recovery"
        if rules.is_optional_part(text):
            return "optional"
        return None

    def _clean_chunk(
        self, chunk: shell.Chunk, line: int, rollback: bool, check: bool, opened: str | None
    ) -> shell.Chunk | None:
        """The chunk with text and never-ending lines taken out (shellparse.py): text a human
        must act on becomes a manual step (or check), the rest a review note with its line;
        None when nothing is left to run."""
        cleaned = shellparse.clean(chunk.text, opened)
        if not cleaned.changed:
            return chunk
        if (
            rollback
            and cleaned.forever
            and not cleaned.texts
            and all(prompts.is_answer(u.forever) for u in cleaned.forever)
        ):
            # `terraform apply -var …` in a rollback: the way back as written (run, it stops
            # at its prompt and the rollback fails loudly; a person then answers it)
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
            self.draft.note("review", line=line + unit.start, what=what, why=unit.forever or "")
            if not rollback and self.when is None and prompts.is_answer(unit.forever):
                # a person types the answer at a terminal: not executable as written
                self.draft.note(
                    "prompts", line=line + unit.start, what=what, why=unit.forever or ""
                )
        typed = [u for u in cleaned.forever if shellparse.typed_elsewhere(u)]
        if rollback and typed:
            # the way back typed into another user's or host's shell (`sudo -i -u app`, `cd
            # ~/live`, `git checkout v1`): a person does it, and the rollback pauses and asks
            # them — never a rollback that "succeeds" having restarted the old services only
            said = "; ".join(
                f"`{rules.one_line(u.text, 60)}`" for u in typed if not shellparse.opens_shell(u)
            )
            shell_of = opened or next(
                (u.lines[0].strip() for u in typed if shellparse.opens_shell(u)), "another"
            )
            way = decisions.Lead(
                f"by hand, in the shell `{shell_of}` opens: {said or typed[0].text.strip()}",
                line + typed[0].start,
            )
            decisions.decide_rollback(self.draft, self.phase, self.section, [way])
        if not rollback and self.phase is not None:
            self._manual_for(chunk, cleaned, line, check, opened)
        if cleaned.commands == 0:
            self._flush_manual()
            return None
        return shell.Chunk(chunk.name, cleaned.script, chunk.offset)

    def _manual_for(
        self,
        chunk: shell.Chunk,
        cleaned: shellparse.Cleaned,
        line: int,
        check: bool,
        opened: str | None,
    ) -> None:
        """A person does what the fence describes (add a DNS record) or watches what never
        ends (`kubectl get pods -w`): the run waits for them instead of running it."""
        lead = (chunk.name or rules.one_line(self.lead, 80)).rstrip(": ")
        first = next(
            (
                u.start
                for u in shellparse.analyse(chunk.text, opened)
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
                shellparse.AGENT,  # typed to a chat assistant
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
        data: StepNode = {"name": f"manual: {what}", "pause": "approve"}
        if self.when is not None:  # a person's part of an option: asked only when chosen
            data["when"] = self.when
        self.phase.steps.append(Entry(data, line))
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
            stated = stated_value(self.lead, chunk.text) if self.lead else None
            parsed = stated or ParsedCheck({"command": chunk.text}, "exit 0 (fence)")
        data = {"name": chunk.name, **parsed.check} if chunk.name else parsed.check
        self._add_check(data, line, parsed.how, parsed.ambiguous)

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


def _split_changes(chunk: shell.Chunk) -> list[shell.Chunk]:
    """A paragraph of commands cut where it goes from reading to changing things and back:
    each run of reading commands, and each run of changing ones, a chunk of its own (comment
    lines go with the command after them). A paragraph that only reads, or only changes, or
    that is not plain commands (a loop, text, output) is left whole."""
    units = shellparse.analyse(chunk.text)
    if any(u.is_text for u in units) or sum(u.kind == "command" for u in units) < 2:
        return [chunk]
    if chunk.text.lstrip().startswith("#!") or not all(
        mutation.plain_command(u.text) for u in units if u.kind == "command"
    ):
        return [chunk]  # a script (variables, loops, conditions): one thing, kept whole
    groups: list[tuple[bool, int, list[str]]] = []  # (changes, first line, lines)
    pending: list[str] = []
    pending_start: int | None = None
    for unit in units:
        if unit.kind != "command":
            if pending_start is None:
                pending_start = unit.start
            pending += unit.lines
            continue
        changes = mutation.mutates(unit.text) is not None
        start = unit.start if pending_start is None else pending_start
        if groups and groups[-1][0] == changes:
            groups[-1][2].extend([*pending, *unit.lines])
        else:
            groups.append((changes, start, [*pending, *unit.lines]))
        pending, pending_start = [], None
    if len(groups) < 2 or not any(g[0] for g in groups):
        return [chunk]
    if pending:
        groups[-1][2].extend(pending)
    out = []
    for index, (_, start, lines) in enumerate(groups):
        text = "\n".join(lines).strip("\n")
        out.append(shell.Chunk(chunk.name if index == 0 else None, text, chunk.offset + start))
    return out
