"""One section's blocks -> steps, checks and rollback actions of a draft phase."""

from __future__ import annotations

import re
from typing import Any

from phasegate.markdown import rules, shell
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.expect import ParsedCheck, described_output, parse_expectation
from phasegate.markdown.parse import Comment, Fence, Item, Paragraph, Section, Table

_COMMAND_COL = re.compile(r"\bcommands?\b|\bcmd\b|\bscripts?\b|how to (?:check|verify)|命令", re.I)
_STEP_COL = re.compile(r"\bsteps?\b|\baction\b|\border\b|^#$|^no\.?$|\btask\b|步骤", re.I)
_EXPECT_COL = re.compile(r"expect|result|output|pass|success|criteria|response|预期|结果", re.I)
_TRUE = ("1", "true", "yes", "on", "")
_DONE_MARK = re.compile(r"^(?:✅|✔️?|☑️?|✓)\s*")


class BlockMapper:
    def __init__(self, draft: Draft, phase: PhaseDraft | None, section: Section, rollback: bool):
        self.draft = draft
        self.phase = phase
        self.section = section
        self.rollback = rollback
        self.verify = rules.is_verify_text(section.title)
        self.checklist = rules.is_checklist_text(section.title)
        self.lead = ""  # the last paragraph: "**Success Criteria:**", "Verification:"

    @property
    def where(self) -> str:
        return self.phase.id if self.phase else "plan"

    def map_blocks(self) -> None:
        for block in self.section.blocks:
            if isinstance(block, Paragraph):
                self._paragraph(block)
            elif isinstance(block, Fence):
                self._fence(block)
            elif isinstance(block, Item):
                self._item(block)
            elif isinstance(block, Table):
                self._table(block)
            elif isinstance(block, Comment):
                self.draft.note("annotations", line=block.line, text=rules.one_line(block.text))

    # -- destinations -------------------------------------------------------------------

    def _add_action(self, run: str, name: str | None, line: int) -> None:
        data: dict[str, Any] = {"run": run}
        if name:
            data = {"name": name, "run": run}
        target = self.phase.rollback if self.phase else self.draft.plan_rollback
        target.append(Entry(data, line))
        self.draft.note("rollback", phase=self.where, line=line, name=name or _first(run))

    def _add_step(self, data: dict[str, Any], line: int) -> None:
        assert self.phase is not None
        self.phase.steps.append(Entry(data, line))
        self.draft.note(
            "steps", phase=self.phase.id, line=line, name=data.get("name") or _first(data["run"])
        )

    def _add_check(self, data: dict[str, Any], line: int, how: str, ambiguous: bool) -> None:
        kind = next(k for k in ("command", "file", "http", "manual") if k in data)
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
        self.lead = block.text
        for chain in rules.dependency_chains(block.text):
            self.draft.chains.append((chain, block.line))
        if self.phase is not None and self.phase.line == self.section.line:
            for key, value in rules.metadata_lines(block.text):
                slug = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
                if slug in ("owner", "owners", "responsible", "dri", "assignee"):
                    self.phase.owner = value
                elif slug and slug not in self.phase.metadata:
                    self.phase.metadata[slug] = value

    def _fence(self, block: Fence) -> None:
        attrs = block.attrs
        if any(attrs.get(flag, "false").lower() in _TRUE for flag in ("skip", "ignore")):
            self.draft.note("data", line=block.line, lang=block.lang, why="marked skip")
            return
        if not shell.is_shell_fence(block.lang, block.text):
            self.draft.note("data", line=block.line, lang=block.lang or "text", why="not shell")
            return
        script = shell.strip_prompts(block.text, block.lang)
        if attrs.get("name"):  # an author-named fence is one step
            chunks = [shell.Chunk(attrs["name"], script, 0)] if script.strip() else []
        else:
            chunks = shell.split_commands(script)
        as_check = "check" in attrs or self.verify or rules.is_verify_text(block.context)
        if self.rollback:  # only a verify heading makes rollback code a check
            as_check = "check" in attrs or self.verify
        for chunk in chunks:
            line = block.line + 1 + chunk.offset
            expected = shell.expected_comment(chunk.text)
            named_check = bool(chunk.name and rules.is_verify_text(chunk.name))
            if (self.rollback or self.phase is None) and not as_check:
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
                if attrs.get("undo"):
                    step["undo"] = attrs["undo"]
                self._add_step(step, line)

    def _fence_check(
        self,
        chunk: shell.Chunk,
        attrs: dict[str, str],
        expected: tuple[str, bool] | None,
        line: int,
    ) -> None:
        exit_code = attrs.get("expect.exit")
        if exit_code is not None and exit_code.lstrip("-").isdigit():
            expect = {"exit": int(exit_code)}
            parsed = ParsedCheck({"command": chunk.text, "expect": expect}, "fence attribute")
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
        for chain in rules.dependency_chains(block.text):
            self.draft.chains.append((chain, block.line))
        command = next((c for c in block.code if _is_command(c)), None)
        if self.rollback:
            if command is not None:
                self._add_action(command, text, block.line)
            elif rules.is_trigger_text(self.section.title):  # triggers: not imported yet
                self.draft.note("unmapped", line=block.line, section=self.section.title, what=text)
            else:  # a manual rollback task: kept in the plan for the operator
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
        else:
            self.draft.note("unmapped", line=block.line, section=self.section.title, what=text)

    def _table(self, block: Table) -> None:
        header = [h.lower() for h in block.header]
        cmd = next((i for i, h in enumerate(header) if _COMMAND_COL.search(h)), None)
        if cmd is None:
            self.draft.note("unmapped", line=block.line, section=self.section.title, what="table")
            return
        exp = next((i for i, h in enumerate(header) if i != cmd and _EXPECT_COL.search(h)), None)
        label = next((i for i in range(len(header)) if i not in (cmd, exp)), None)
        ordered = any(_STEP_COL.search(h) for h in header)
        if exp is None and not (self.verify or self.rollback or ordered):
            # "Command | Purpose" is a reference card, not a procedure: running every row
            # would be a surprise. Only tables that read as ordered steps become steps.
            what = "command reference table"
            self.draft.note("unmapped", line=block.line, section=self.section.title, what=what)
            return
        for offset, row in enumerate(block.rows):
            line = block.line + 2 + offset
            cell = row[cmd] if cmd < len(row) else ""
            command = _cell_command(cell)
            if command is None:
                what = f"table row: {rules.one_line(' | '.join(row), 80)}"
                self.draft.note("unmapped", line=line, section=self.section.title, what=what)
                continue
            name = row[label] if label is not None and label < len(row) else None
            if self.rollback or self.phase is None:
                self._add_action(command, name, line)
            elif exp is not None or self.verify:
                expected = row[exp] if exp is not None and exp < len(row) else ""
                parsed = parse_expectation(command, expected)
                data = {"name": name, **parsed.check} if name else parsed.check
                self._add_check(data, line, parsed.how, parsed.ambiguous)
            else:
                self._add_step({"name": name, "run": command} if name else {"run": command}, line)


def _is_command(code: str) -> bool:
    return (" " in code.strip() or code.startswith("./")) and shell.looks_like_shell(code)


def _cell_command(cell: str) -> str | None:
    spans = re.findall(r"`([^`]+)`", cell)
    text = " && ".join(spans) if spans else cell.strip()
    text = text.replace("\\|", "|").strip()
    return text if text and shell.looks_like_shell(text) else None


def _first(run: Any) -> str:
    text = run if isinstance(run, str) else " ".join(run)
    lines = text.strip().splitlines()
    return lines[0][:80] if lines else ""
