"""List items in a section (part of blocks.BlockMapper): a command, a task box, a trigger or
ramp stated in a list, rollback tasks, and numbered prose done by hand (a procedure step). A
mixin so the mapper's state is one object; split out of blocks.py to keep modules small."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phasegate.markdown import (
    deps,
    done_items,
    human,
    monitors,
    placeholders,
    polarity,
    rules,
    shell,
    shellparse,
    thresholds,
    traffic,
)
from phasegate.markdown.draft import add_to_checklist
from phasegate.markdown.parse import Block, Fence, Item

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft, PhaseDraft
    from phasegate.markdown.nodes import CheckNode, StepNode
    from phasegate.markdown.parse import Section

# "Notes:" over a numbered list: remarks, not steps
_NOTES = re.compile(r"^[\W_]*(?:notes?|nota[s]?|hinweise?|remarques?|备注|注意)\s*[:：]", re.I)
_PROCEDURE = re.compile(
    r"steps?\b|procedure|runbook|playbook|how[\s-]to|instructions|schritte|ablauf|anleitung|"
    r"pasos|procedimiento|[ée]tapes|proc[ée]dure|passos|步骤|流程|roll[\s-]?back|revert",
    re.I,
)
# "Run `npm run migrate` to apply …", "Create a tag by running `git tag …`", "执行 `x`": inline code
# the item orders to run (the text just before it is a run verb), or an item that starts with it
_RUN_VERB = re.compile(
    r"(?:\b(?:run|running|execute|executing|type|typing|issue|invoke|then|ejecut[ae]r?|ejecute|"
    r"ex[ée]cutez|lancez|lance|f[uü]hren sie|führe|execute|rode|rodar)|执行|运行)"
    r"(?:\s+(?:the\s+)?(?:following\s+)?(?:command|script|commande|comando|befehl))?\s*[:：]?\s*$",
    re.I,
)
# a bulleted list under "Release Process", "Upgrade steps": its items are done in order
_PROCESS = re.compile(r"\bprocess\b|\bprozess|\bproceso\b|\bprocessus\b|\bprocesso\b|过程", re.I)
_ENSURE = re.compile(
    r"\b(?:ensure|make sure|verify|check|confirm|look correct|looks correct)\b", re.I
)
# "- [ ] **High Error Rate alert**" over "  - Threshold: >1% for 5+ min", or a list under "Test
# at least one alert per category": the threshold defines an alert whose firing a person
# verifies, a manual check of that alert, not a condition the run watches (issue 11 §6, §7).
_ALERT_NAMED = re.compile(r"\balert(?:s|ing)?\b", re.I)
_ALERT_TESTED = re.compile(
    r"\b(?:test|verify|validate|confirm|trigger|fire)\w*\b[^.\n]{0,40}?\balerts?\b|"
    r"\balert(?:ing)?\s+(?:rules?\s+)?(?:tests?|testing|drills?|verification)\b|"
    r"\balerts?\s+(?:fires?|fired|firing)\b",
    re.I,
)
_DONE_MARK = re.compile(r"^(?:✅|✔️?|☑️?|✓)\s*")
# "✅ All pods healthy (0 crashes in 12h)": a criterion observed over a period still to come
# cannot have been ticked when the document was written; the mark is the author's bullet
_OVER_A_PERIOD = re.compile(
    r"\b(?:in|for|over|during|after|within|past|last|next|first)\s+(?:the\s+)?(?:first\s+|"
    r"last\s+|next\s+)?\d+(?:\.\d+)?\s*(?:h|hrs?|hours?|d|days?|w|wks?|weeks?|min|mins|minutes?)\b",
    re.I,
)


class ItemMapping:
    """The list-item half of BlockMapper (which defines everything declared here)."""

    draft: Draft
    phase: PhaseDraft | None
    section: Section
    rollback: bool
    verify: bool
    checklist: bool
    lead: str
    procedure: list[tuple[str, int]]
    listed_commands: bool
    fence_led: bool
    box: Item | None  # the last task box: its nested items are its details

    def _tested_alert(self, block: Item, box: Item | None) -> bool:
        """A threshold that defines an alert being verified: nested under a task box naming an
        alert, or listed where the lead-in says to test that alerts fire."""
        if self.rollback:
            return False
        if box is not None and _ALERT_NAMED.search(box.text):
            return True
        return bool(_ALERT_TESTED.search(f"{self.section.title}\n{self.lead}"))

    @property
    def where(self) -> str:
        raise NotImplementedError

    def _add_action(self, run: str, name: str | None, line: int) -> None:
        raise NotImplementedError

    def confirm(self, text: str, line: int) -> None:
        raise NotImplementedError

    def _add_step(self, data: StepNode, line: int, rule: str = "shell fence") -> None:
        raise NotImplementedError

    def _add_check(self, data: CheckNode, line: int, how: str, ambiguous: bool) -> None:
        raise NotImplementedError

    def _trigger(self, text: str, line: int) -> bool:
        raise NotImplementedError

    def _context(self) -> str:
        raise NotImplementedError

    def _marks_decorate(self, block: Item) -> bool:
        """ "#### Success Criteria" over "- ✅ No performance degradation" on every item: the
        mark is the author's bullet for criteria still to be met, not a box ticked; a person is
        asked (issue 11 §7: nothing passes silently). A list reporting status keeps its ticks."""
        context = f"{self.section.title}\n{rules.last_line(self.lead)}"
        if _STATUS.search(context):
            return False
        items = _list_around(self.section.blocks, block)
        marked = [i for i in items if _DONE_MARK.match(i.text.strip())]
        return len(items) >= 2 and len(marked) == len(items)

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
            and bool(
                _PROCEDURE.search(f"{self.section.title} {self.draft.title}")
                or _PROCESS.search(self.section.title)
            )
        )

    def in_procedure_list(self, block: Item) -> bool:
        """A top-level bullet of a section that names a process ("Release Process"): a step
        in order, as a numbered one would be."""
        return (
            not block.ordered
            and block.depth == 1
            and block.checked is None
            and not self.rollback
            and bool(_PROCESS.search(self.section.title) or _PROCEDURE.search(self.section.title))
        )

    def _commands_in_prose(self, block: Item) -> bool:
        """A numbered (or process) item that orders commands in its prose ("Create a tag by
        running `git tag -am v1`"): each such command is a step at the item's place, after the
        prose items before it; "… and ensure the tag looks correct, then … `git push`" puts a
        person's check between them. An item that starts with a condition ("If there is a new
        release, …") is done by hand, never run forward."""
        if self.phase is None or not (block.ordered or self.in_procedure_list(block)):
            return False
        text = block.text
        ordered: list[tuple[int, str]] = []
        for code in block.code:
            at = text.find(f"`{code}`")
            if at < 0 or not _is_command(code) or shellparse.never_ending_text(code):
                continue
            before = text[:at].rstrip().rstrip("*_").rstrip()
            # "2. Pause the writer: `kubectl scale …`": the item names the action, then gives
            # its command after a colon
            if _RUN_VERB.search(text[:at]) or not before or before.endswith((":", "：")):
                ordered.append((at, code))
        for code in _prompted(text):  # a `$ ` line: typed at the prompt, in order
            if not shellparse.never_ending_text(code):
                ordered.append((text.find(f"$ {code}") - 1, code))
        if not ordered:
            if self._by_hand() and not _NOTES.match(rules.last_line(self.lead)):
                # "2. Build the new frontend (`npm run build` in `frontend/`)": the command is
                # named, not ordered (where to run it is in the prose): done by hand, in order
                self.procedure.append((block.text, block.line))
                return True
            return False
        if rules.is_conditional_text(text) or re.match(r"^[\W_]*(?:if|when|unless)\b", text, re.I):
            self.procedure.append((block.text, block.line))  # by hand, if it applies
            return True
        if _PERSONS_SECRET.search(text) and any(placeholders.find(code) for _, code in ordered):
            # "Unseal each node with your key share: `vault operator unseal <UNSEAL_KEY>`": a
            # secret each holder types themselves; never a plan variable (round 6)
            self._flush_procedure()
            step = human.procedure([block.text])
            self._add_step(step, block.line, rule="secret held by a person: done by hand")
            return True
        self.listed_commands = True
        self._flush_procedure()
        name = rules.one_line(re.sub(r"[*_]+", "", text), 80)
        last = 0
        for index, (at, code) in enumerate(sorted(ordered)):
            between = text[last:at]
            if index and _ENSURE.search(between):
                step = human.confirmation(rules.one_line(between.strip(" ,.;"), 120))
                self._add_step(step, block.line, rule="check in a list item")
            self._add_step({"name": name, "run": code}, block.line, rule="command in a list item")
            last = at + len(code) + 3
        return True

    def _flush_procedure(self) -> None:
        # one numbered item is a heading of what follows it ("1. **Tag release**" over a
        # fence), unless the list runs its commands itself (then it is a step between them);
        # questions ("What went well?") are a retrospective, not a procedure
        done = [t for t, _ in self.procedure if not t.rstrip().endswith("?")]
        # an item over a listing it writes ("3. Update the version in values.yaml" over its
        # `yaml`) is a step of its own: the edit the next command applies
        edits = any(" listing at line " in t for t in done)
        # "1. Backup erstellen:" over its fence, then "2. Wartungsfenster ankündigen.": a list
        # whose other items ran their fences; the one in prose is a step done by hand
        # "3. Ask the security team to approve … Wait for their approval.": one item, and
        # still a person's word the run waits for
        asks = any(rules.asks_human(t) or rules.stops_to_ask(t) for t in done)
        if (
            len(done) >= 2 or (done and (self.listed_commands or edits or self.fence_led or asks))
        ) and self.phase:
            step = human.procedure(done)
            self._add_step(step, self.procedure[0][1], rule="numbered prose procedure")
        self.procedure = []

    def _item(self, block: Item) -> None:
        text = rules.one_line(block.text)
        lines = [ln.strip() for ln in block.text.splitlines() if ln.strip()]
        if len(lines) > 1 and lines[-1].endswith((":", "：")) and not self.rollback and self.phase:
            # "1. Freeze the runners.\n a. Pause every runner in the admin UI.\n b. Make sure no
            # job is running:" over a fence: the sub-steps before the lead-in that a person does
            # are asked in their place, before the fence (round 11)
            asked = [ln for ln in lines[:-1] if rules.asks_human(ln)]
            if asked:
                self.confirm(" ".join(asked), block.line)
        deps.Collector(self.draft).text(block.text, block.line, self.phase, self.section.title)
        command = next((c for c in block.code if _is_command(c)), None)
        if command is None:  # "Disable allocation.\n$ curl -XPUT …": a prompted line in the item
            command = next(iter(_prompted(block.text)), None)
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
        # "### Rollback Criteria" / "Execute rollback if any of the following occur:" over task
        # boxes: failure conditions written as boxes, triggers all the same (§6)
        boxed_condition = (
            block.checked is False and self.rollback and polarity.failure_context(self._context())
        )
        box = self.box if self.box is not None and block.depth > self.box.depth else None
        if block.checked is not None:
            self.box = block
        elif box is None:
            self.box = None
        tested = block.checked is None and command is None and self._tested_alert(block, box)
        if tested and thresholds.parse(block.text) is not None:
            # a manual check of the alert it defines (never a trigger on the run)
            what = f"{rules.one_line(box.text, 100)} — {text}" if box is not None else text
            self._add_check({"manual": what}, block.line, "alert to verify", ambiguous=False)
            return
        if (
            (block.checked is None or boxed_condition)
            and not tested
            and command is None
            and self._trigger(block.text, block.line)
        ):
            return
        if (
            block.checked is None
            and not self.rollback
            and (
                traffic.sequence(self.draft, self.phase, block.text, block.line)
                or traffic.list_weight(
                    self.draft, self.phase, block.text, block.line, self._context()
                )
            )
        ):
            return
        if self.rollback:
            if command is not None:
                self._add_action(command, text, block.line)
            else:  # a manual rollback task or decision: kept in the plan for the operator
                add_to_checklist(self.phase.metadata if self.phase else self.draft.metadata, text)
                self.draft.note("rollback_checklist", phase=self.where, line=block.line, what=text)
            return
        if command is not None and rules.is_conditional_text(block.text):
            # "- If the publish went wrong, unpublish: `npm unpublish …`": the remedy, never a
            # check or step of the forward path (issue 11 §1)
            self.draft.note("recovery", line=block.line, what=rules.one_line(text, 80), why="item")
            self._add_action(command, text, block.line)
            return
        lead = rules.last_line(self.lead)
        checklist = (
            (self.checklist or rules.is_checklist_text(lead))
            and not _leads_fence(self.section.blocks, block)
            and not (block.checked is None and _NOTES.match(lead))  # "Notes:" over remarks
        )
        verify = self.verify or rules.is_verify_text(lead)
        if (
            block.checked
            and command is not None
            and done_items.ticked_done(command, f"{self.section.title}\n{lead}")
        ):
            # "- [x] Backfill for October (Friday, do not repeat): `./backfill …`": done before
            # this run; confirmed, never run again (done_items.py)
            self._add_check(
                done_items.confirmation(text, command), block.line, "done earlier", False
            )
        elif block.checked is not None or checklist or (verify and command is not None):
            if command is not None and (verify or checklist or block.checked is not None):
                shows = _SHOWS.search(block.text[block.text.find(f"`{command}`") :])
                if shows is not None:
                    # "`redis-cli … | grep redis_version` shows `7.2`": what it must print
                    check: CheckNode = {
                        "name": text,
                        "command": command,
                        "expect": {"exit": 0, "stdout_contains": shows.group(1)},
                    }
                    self._add_check(check, block.line, "output contains", False)
                else:
                    self._add_check({"name": text, "command": command}, block.line, "exit 0", False)
            else:
                mark = _DONE_MARK.match(text)  # "✅ Backups verified" reads as a ticked box
                data: CheckNode = {"manual": text[mark.end() :] if mark else text}
                if block.checked or (
                    mark and not _OVER_A_PERIOD.search(text) and not self._marks_decorate(block)
                ):
                    data["checked"] = True
                self._add_check(data, block.line, "manual", ambiguous=False)
        elif command is not None and block.text.strip() == f"`{command}`":
            self._add_step({"run": command}, block.line)
        elif command is not None and self._commands_in_prose(block):
            return
        elif traffic.gate(self.draft, self.phase, block.text, block.line):
            return  # "Health gate: …" under a day's weight: the proceed before the next one
        elif (
            (block.ordered or self.in_procedure_list(block))
            and command is None
            and not any(_is_command(c) for c in block.code)
            and not _NOTES.match(rules.last_line(self.lead))
            and self._by_hand()
        ):
            # inline code that is no command (`scripts/deploy.sh`, `logs/ci/`) names what the
            # person works on: still a step done by hand
            self.procedure.append((block.text, block.line))
        elif (
            command is None
            and self.phase is not None
            and block.checked is None
            and _REPEAT_STEPS.search(block.text)
        ):
            # "6. Repeat steps 1–5 for the other hosts": a loop a person does; dropped, the run
            # would pass after the first host (round 7)
            step: StepNode = {"name": f"manual: {text}", "pause": "approve"}
            self._add_step(step, block.line, rule="repeat of earlier steps, by hand")
        elif command is None and self._detail(block):
            # "2. Technische Schritte" over "- App stoppen": the details of that numbered step
            text, line = self.procedure[-1]
            self.procedure[-1] = (f"{text} — {rules.one_line(block.text, 100)}", line)
        elif (
            verify
            and command is None
            and self.phase is not None
            and not _NOTES.match(lead)
            and _CHECK_BY_HAND.search(block.text)
        ):
            # "## Test plan" / "- Log in on staging, check the session survives a reload.": a
            # check only a person can make, at its place (round 6: never dropped)
            self._add_check({"manual": text}, block.line, "manual", ambiguous=False)
        elif (
            command is None
            and self.phase is not None
            and not self.rollback
            and block.checked is None
            and block.depth == 1
            and not _NOTES.match(rules.last_line(self.lead))
            and not rules.is_reference_title(self.section.title)
            and _RECORD.match(text)
        ):
            # "- Write down the time to detect and the time to recover.": a person's act of the
            # procedure, asked where it stands (blind round 8); left as prose, nobody is asked
            step = {"name": f"Do by hand, then approve: {text}", "pause": "approve"}
            self._add_step(step, block.line, rule="a person's record-keeping item")
        else:
            self.draft.note("unmapped", line=block.line, section=self.section.title, what=text)


# "Write down the time to detect", "Record the duration", "Notieren Sie …", "Anote …": an
# item that asks a person to keep a record of the run (never a command, never dropped)
_RECORD = re.compile(
    r"^[\W_]*(?:write down|note down|jot down|record (?:the|how|when|what)|take note of|"
    r"notier(?:en|e)|schreib(?:en Sie)? (?:auf|nieder)|hal(?:ten|te) (?:Sie )?fest|anot(?:e|ar|a)|"
    r"registr(?:e|ar|a) (?:o|a|el|la|los|las|os|as) (?:tempo|tiempo|hora|duração|duración)|"
    r"zapisz|zanotuj|zapište|poznamenejte|not(?:ez|er) (?:le|la|les)|記録|记录|기록)\b",
    re.I,
)


# "Repeat steps 1–5 for …", "Wiederholen Sie die Schritte 2 bis 4", "Répétez les étapes 1 à 3",
# "Repita los pasos", "Powtórz kroki", "Повторите шаги", "Adımları tekrarlayın", "重复步骤":
# an order to do earlier steps again (for other hosts, shards, regions)
_REPEAT_STEPS = re.compile(
    r"\b(?:repeat|redo)\b[^.\n]{0,20}\b(?:steps?|stages?|the above|above steps|this procedure)\b|"
    r"\bwiederhol\w*\b[^.\n]{0,20}\bschritt|\br[ée]p[ée]t\w*\b[^.\n]{0,20}\b[ée]tapes?\b|"
    r"\brepit\w*\b[^.\n]{0,20}\bpasos?\b|\brepet\w*\b[^.\n]{0,20}\b(?:passos?|etapas?)\b|"
    r"\bpowt[óo]rz\w*\b[^.\n]{0,20}\bkrok|\bповтор\w*[^.\n]{0,20}шаг|"
    r"ad[ıi]mlar[ıi]?\b[^.\n]{0,30}tekrarla|重复(?:步骤|以上|上述)|単?手順[^。\n]{0,10}繰り返|"
    r"단계[^.\n]{0,10}반복",
    re.I,
)
# "`cmd` shows `7.2`", "`cmd` returns `OK`": the output the item expects of its command
_SHOWS = re.compile(
    r"^`[^`]+`\s*(?:shows?|returns?|prints?|outputs?|reports?|displays?|contains?|"
    r"(?:should|must)\s+(?:show|return|print|output|contain))\s+`([^`\n]+)`",
    re.I,
)
# "with your key share", "enter your password", "using your OTP": a secret a person holds
_PERSONS_SECRET = re.compile(
    r"\b(?:with|using|enter|type|provide|paste)\s+(?:in\s+)?your\s+(?:own\s+)?(?:key[\s-]?shares?|"
    r"unseal[\s-]?keys?|passwords?|passphrases?|otp|mfa|2fa|one[\s-]?time (?:code|password)|"
    r"pin|recovery (?:key|code)s?|yubikey|hardware (?:key|token))\b",
    re.I,
)


# a verify section's prose item that asks a person to look: "Log in …, check the session
# survives", "Make sure the dashboard is green", "Open the app and confirm …"
_CHECK_BY_HAND = re.compile(
    r"\b(?:check|verify|confirm|make sure|ensure|validate|log ?in|sign in|open|visit|browse|"
    r"observe|look at|compare|v[ée]rifi\w*|comprob\w*|verific\w*|pr[üu]f\w*)\b|确认|检查|確認",
    re.I,
)


def _leads_fence(blocks: list[Block], block: Item) -> bool:
    """ "1. Backup erstellen:" over its own fence: the heading of a step, not a box to tick."""
    index = next((i for i, b in enumerate(blocks) if b is block), None)
    if index is None or index + 1 >= len(blocks) or block.checked is not None:
        return False
    after = blocks[index + 1]
    return (
        isinstance(after, Fence)
        and bool(after.context.strip())
        and block.text.strip().startswith(after.context.strip())
    )


def _list_around(blocks: list[Block], block: Item) -> list[Item]:
    """The items of the list ``block`` belongs to: its neighbours of the same depth."""
    index = next((i for i, b in enumerate(blocks) if b is block), None)
    if index is None:
        return [block]
    start = index
    while start > 0 and _at_least(blocks[start - 1], block.depth):
        start -= 1
    end = index
    while end + 1 < len(blocks) and _at_least(blocks[end + 1], block.depth):
        end += 1
    return [b for b in blocks[start : end + 1] if isinstance(b, Item) and b.depth == block.depth]


def _at_least(block: Block, depth: int) -> bool:
    """A list item at ``depth`` or nested deeper."""
    return isinstance(block, Item) and block.depth >= depth


# "### Completed", "Status:", "Progress": a list of marks that report what is done
_STATUS = re.compile(
    r"\b(?:status|progress|completed?|done|finished|achieved|results?|log|tracker|summary|"
    r"erledigt|hecho|completado|完了|已完成)\b",
    re.I,
)


def _prompted(text: str) -> list[str]:
    """Lines of an item's or paragraph's text typed at a `$ ` prompt that parse as shell."""
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("$ ") and shell.looks_like_shell(stripped[2:]):
            found.append(stripped[2:].strip())
    return found


def _is_command(code: str) -> bool:
    return (" " in code.strip() or code.startswith("./")) and shell.looks_like_shell(code)
