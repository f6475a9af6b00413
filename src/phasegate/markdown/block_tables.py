"""Tables in a section (part of blocks.BlockMapper): command tables, task tables, rollback
budgets, traffic and threshold tables. A mixin so the mapper's state is one object; split out
of blocks.py to keep modules small."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phasegate.markdown import (
    action_tables,
    decisions,
    done_items,
    holds,
    human,
    monitors,
    mutation,
    polarity,
    rollback_cases,
    rules,
    shell,
    shellparse,
    thresholds,
    traffic,
    triggers,
    words9,
)
from phasegate.markdown.expect import parse_expectation
from phasegate.markdown.nodes import StepNode
from phasegate.markdown.parse import Table

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft, PhaseDraft
    from phasegate.markdown.nodes import CheckNode, StepNode
    from phasegate.markdown.parse import Section

_COMMAND_COL = re.compile(
    r"\bcommands?\b|\bcmd\b|\bscripts?\b|how to (?:check|verify)|命令|^\W*(?:then )?run\W*$", re.I
)
_STEP_COL = re.compile(r"\bsteps?\b|\baction\b|\border\b|^#$|^no\.?$|\btask\b|步骤", re.I)
_EXPECT_COL = re.compile(r"expect|result|output|pass|success|criteria|response|预期|结果", re.I)
# "| If | Then run |", "| Symptom | Action |": the condition a row answers
_IF_COL = re.compile(
    r"^\W*(?:if|when|condition|symptom|situation|trigger|si|wenn|falls|se|quando|khi|如果|条件|"
    r"場合|条件)\W*$",
    re.I,
)
_BOX = re.compile(r"^\s*(?:\[[ xX✓]?\]|☐|☑️?|⬜|✅|✔️?)\s*$")
_BOX_DONE = re.compile(r"^\s*(?:\[[xX✓]\]|☑️?|✅|✔️?)\s*$")
# blind round 9: the same columns in more languages (words9.py)
_COMMAND_COL = re.compile(_COMMAND_COL.pattern + "|" + words9.COMMAND_COLUMN, re.I)
_STEP_COL = re.compile(_STEP_COL.pattern + "|" + words9.STEP_COLUMN, re.I)
_ACTION_COL = re.compile(
    r"\baction\b|\btask\b|\bactivity\b|acci[oó]n|tarea|操作|任务|"
    # round 11: the action column in more languages (Turkish, German, Italian, Portuguese,
    # Dutch, Russian, Polish, Czech, Hungarian, Romanian, Finnish, Vietnamese, Korean)
    r"\beylem|\bi[sş]lem\b|\baktion\b|\bazione\b|\ba[cç][aã]o\b|\bactie\b|действие|"
    r"dzia[lł]anie|czynno[sś][cć]|\bakce\b|teend[oő]|ac[tț]iune|toimenpide|h[aà]nh [dđ][oộ]ng|작업",
    re.I,
)


class TableMapping:
    """The table half of BlockMapper (which defines everything declared here)."""

    draft: Draft
    phase: PhaseDraft | None
    section: Section
    rollback: bool
    verify: bool
    when: str | None

    def _add_action(self, run: str, name: str | None, line: int) -> None:
        raise NotImplementedError

    def _add_step(self, data: StepNode, line: int, rule: str = "shell fence") -> None:
        raise NotImplementedError

    def _add_check(self, data: CheckNode, line: int, how: str, ambiguous: bool) -> None:
        raise NotImplementedError

    def _context(self) -> str:
        raise NotImplementedError

    def _scoped(self) -> bool:
        raise NotImplementedError

    def _budget_table(self, block: Table) -> bool:
        """ "Stage | Rollback Time" rows: each named phase's rollback budget."""
        column = next(
            (i for i, h in enumerate(block.header) if rules.ROLLBACK_TIME.search(h)), None
        )
        if column is None:
            return False
        label = 0 if column != 0 else 1
        found = False
        for offset, row in enumerate(block.rows):
            seconds = thresholds.duration(row[column]) if column < len(row) else None
            if seconds is not None and label < len(row) and thresholds.plain(row[label]):
                self.draft.budgets.append(
                    (thresholds.plain(row[label]), seconds, block.row_line(offset))
                )
                found = True
        return found

    def _task_table(self, block: Table) -> bool:
        """Tables of human work (issue 11 §7): a "Task | Owner | Status" table whose status
        cells are boxes (`[ ]`, ☐) is a checklist, one manual check per row; a "Step | Action |
        Owner" table without commands is a procedure done by hand, acknowledged in place."""
        if self.phase is None or self.rollback or not block.rows:
            return False
        header = [h.lower() for h in block.header]
        width = len(header)
        status = next(
            (
                i
                for i in range(width)
                if sum(1 for r in block.rows if i < len(r) and _BOX.match(r[i]))
                >= max(1, len(block.rows) // 2)
            ),
            None,
        )
        action = next((i for i, h in enumerate(header) if _ACTION_COL.search(h)), None)
        if status is not None:
            label = action if action is not None else (0 if status != 0 else 1)
            for offset, row in enumerate(block.rows):
                text = row[label].strip() if label < len(row) else ""
                if not text:
                    continue
                if action is None and len(text) <= 3:
                    # "Hour | Type | Check | Pass/Fail": a row named "1" says nothing; the
                    # operator reads the row's other cells ("Hour 1: Intensive, System health")
                    said = [
                        c.strip()
                        for i, c in enumerate(row)
                        if i not in (label, status) and c.strip().strip("_.- ")
                    ]
                    head = block.header[label].strip() if label < len(block.header) else ""
                    text = f"{head} {text}".strip() + (f": {', '.join(said)}" if said else "")
                done = status < len(row) and _BOX_DONE.match(row[status]) is not None
                check: CheckNode = {"manual": text}
                if done:
                    check["checked"] = True
                self._add_check(check, block.row_line(offset), "task table", False)
            return True
        if action is not None and len(block.rows) >= 2 and any(_STEP_COL.search(h) for h in header):
            items = [r[action].strip() for r in block.rows if action < len(r) and r[action].strip()]
            if len(items) >= 2:
                self._add_step(human.procedure(items), block.line, rule="procedure table")
                return True
        return False

    def _rollback_table_cases(self, block: Table, header: list[str], cmd: int) -> dict[int, str]:
        """ "| If | Then run |" under a rollback, with two or more rows whose conditions state
        cases a person tells apart ("the schema migration already ran" / "only the application
        was deployed"): one way back chosen when the rollback comes, each row's command bound
        to its choice (rollback_cases.py), never all of them run on every rollback. Rows that
        each name a failure stay the rollback's actions (and triggers), as before.
        {row offset: its `when`}"""
        column = next((i for i, h in enumerate(header) if _IF_COL.match(h)), None)
        if not self.rollback or column is None:
            return {}
        rows = {
            offset: row[column].strip()
            for offset, row in enumerate(block.rows)
            if column < len(row)
            and row[column].strip()
            and cmd < len(row)
            and _cell_command(row[cmd], in_command_column=True) is not None
        }
        cases = [f"If {thresholds.plain(text)}" for text in rows.values()]
        if not rollback_cases.one_or_the_other(cases):
            return {}
        leads = {
            offset: decisions.Lead(
                rules.one_line(f"{block.header[column]} {text}", 120), block.row_line(offset)
            )
            for offset, text in rows.items()
        }
        chosen = decisions.decide_rollback(
            self.draft, self.phase, self.section, list(leads.values())
        )
        return {offset: chosen[id(lead)] for offset, lead in leads.items()}

    def _hold_table(self, block: Table) -> bool:
        """ "| Wave | PoPs | Soak before next wave |" without commands: the order and the holds
        a person keeps between the waves, acknowledged where the table stands (a table of
        waits dropped as prose would let the waves run back to back)."""
        if self.phase is None or self.rollback or len(block.rows) < 2:
            return False
        header = [h.lower() for h in block.header]
        column = next(
            (
                i
                for i, h in enumerate(header)
                if i and holds.HOLD_HEADER.search(thresholds.plain(h))
            ),
            None,
        )
        if column is None:
            return False
        said = []
        for row in block.rows:
            held = thresholds.plain(row[column]).strip() if column < len(row) else ""
            what = ", ".join(
                thresholds.plain(c) for i, c in enumerate(row) if i != column and c.strip()
            )
            # "overnight" is a hold too: the column says so; "—" holds nothing
            said.append(f"{what}: {held}" if not holds.no_hold(held) else what)
        if sum(1 for row in block.rows if column < len(row) and holds.cell_hold(row[column])) < 1:
            return False
        head = block.header[column].strip()
        name = f"In this order, each held as the table says ({head}): " + "; ".join(said)
        self._add_step(
            {"name": rules.one_line(name, 400), "pause": "approve"}, block.line, rule="hold table"
        )
        return True

    def _special_table(self, block: Table) -> bool:
        context = self._context()
        if self._budget_table(block):
            return True
        if not self.rollback and traffic.table(
            self.draft, self.phase, block.header, block.rows, block.line, context
        ):
            return True
        if action_tables.table(
            triggers.TriggerMaker(self.draft, self.phase, self._scoped()),
            block.header,
            block.rows,
            block.line,
            context,
        ):
            return True  # "| Error rate > 5% | Roll back |": each row's own action
        columns = triggers.threshold_columns(block.header)
        if columns is None or not (
            polarity.failure_context(context)
            or self.rollback
            or any(triggers.STATED_LIMIT.search(block.header[i]) for i in columns[1])
        ):
            return False
        if triggers.action_for(context) is None:
            return False
        metric, limits = columns
        maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
        made = 0
        for offset, row in enumerate(block.rows):
            line = block.row_line(offset)
            name = row[metric] if metric < len(row) else ""
            if not thresholds.plain(name):
                continue
            row_made = 0
            for column in limits:
                cell = row[column] if column < len(row) else ""
                action = triggers.column_action(block.header[column], context)
                if action is not None and maker.from_row(
                    name, cell, block.header[column], line, action
                ):
                    row_made += 1
            if row_made == 0 and polarity.failure_context(context):
                cells = " ".join(row[c] for c in limits if c < len(row))
                action = triggers.action_for(context)
                assert action is not None
                maker.from_text(f"{name}: {cells}".strip(": "), line, action)
                row_made = 1
            made += row_made
        return made > 0

    def _table(self, block: Table) -> None:
        header = [h.lower() for h in block.header]
        cmd = next((i for i, h in enumerate(header) if _COMMAND_COL.search(h)), None)
        if cmd is None and self._special_table(block):
            return
        if cmd is None and self._task_table(block):
            return
        if cmd is None and self._hold_table(block):
            return
        if cmd is None:
            self.draft.note("unmapped", line=block.line, section=self.section.title, what="table")
            return
        exp = next((i for i, h in enumerate(header) if i != cmd and _EXPECT_COL.search(h)), None)
        # "| Step | Command | Rollback |": each row's way back, run only if the row completed
        undo = next(
            (i for i, h in enumerate(header) if i not in (cmd, exp) and rules.is_rollback_title(h)),
            None,
        )
        taken = (cmd, exp, undo)
        label = next(
            (
                i
                for i, h in enumerate(header)
                if i not in taken and (_ACTION_COL.search(h) or _STEP_COL.search(h)) and h != "#"
            ),
            next((i for i in range(len(header)) if i not in taken), None),
        )
        ordered = any(_STEP_COL.search(h) for h in header)
        # "| Step | Command | Then: hold 24h |": the wait after each row (holds.py)
        hold = None
        if not self.rollback and self.phase is not None:
            hold = holds.hold_column(header, block.rows, {cmd, exp, undo, label} - {None})  # type: ignore[arg-type]
        if exp is None and not (self.verify or self.rollback or ordered):
            # "Command | Purpose" is a reference card, not a procedure: running every row
            # would be a surprise. Only tables that read as ordered steps become steps.
            what = "command reference table"
            self.draft.note("unmapped", line=block.line, section=self.section.title, what=what)
            return
        ways = self._rollback_table_cases(block, header, cmd)
        for offset, row in enumerate(block.rows):
            line = block.row_line(offset)
            cell = row[cmd] if cmd < len(row) else ""
            command = _cell_command(cell, in_command_column=True)
            if command is not None and shellparse.never_ending_text(command):
                why = shellparse.never_ending_text(command) or ""
                phase = None if self.rollback else self.phase
                if monitors.adopt(self.draft, phase, command, line, why):
                    continue
                self.draft.note("review", line=line, what=rules.one_line(command, 100), why=why)
                command = None
            name = row[label] if label is not None and label < len(row) else None
            if (
                command is not None
                and not self.rollback
                and self.phase is not None
                and done_items.row_done(row, (cmd, exp))
            ):
                # "| T-24h ✅ | SRE | Config deployed | `helm upgrade …` |": done earlier
                confirm = done_items.confirmation(name or "", command)
                self._add_check(confirm, line, "done earlier", False)
                continue
            if command is None:
                acts = label is not None and bool(_ACTION_COL.search(header[label]))
                if (
                    ordered
                    and (undo is not None or acts)
                    and name
                    and not self.rollback
                    and self.phase
                ):
                    # "| 2 | Wait for old TTL to expire (1 h) | @net | | |": a row of the
                    # procedure a person does, in its place (never skipped silently)
                    self._add_step(human.procedure([name]), line, rule="procedure table row")
                    continue
                what = f"table row: {rules.one_line(' | '.join(row), 80)}"
                self.draft.note("unmapped", line=line, section=self.section.title, what=what)
                continue
            if self.rollback or self.phase is None:
                saved = self.when
                if offset in ways:  # one case of the way back: runs only when chosen
                    self.when = decisions.combine(self.when, ways[offset])
                self._add_action(command, name, line)
                self.when = saved
                when = next((i for i, h in enumerate(header) if _IF_COL.match(h)), None)
                if self.rollback and when is not None and when < len(row) and row[when].strip():
                    # "| If | Then run |" under a rollback: the row's condition is what calls
                    # for it, a rollback trigger when it reads as a bad state
                    cond = row[when]
                    if not polarity.not_a_condition(cond) and (
                        thresholds.parse(cond) is not None or polarity.text_is_failure(cond)
                    ):
                        maker = triggers.TriggerMaker(self.draft, self.phase, self._scoped())
                        maker.from_text(cond, line, "rollback")
            elif (
                (exp is not None or self.verify)
                and undo is None
                # "| 1 | `aws s3api put-bucket-encryption …` | exit 0 |": a change is a step
                # at its place, never a check polled again and again (mutation.py)
                and mutation.mutates(command) is None
            ):
                expected = row[exp] if exp is not None and exp < len(row) else ""
                parsed = parse_expectation(command, expected)
                data = {"name": name, **parsed.check} if name else parsed.check
                self._add_check(data, line, parsed.how, parsed.ambiguous)
            else:
                step = StepNode(run=command)
                if name:
                    step = StepNode(name=name, run=command)
                back = _cell_command(row[undo]) if undo is not None and undo < len(row) else None
                if back is not None:
                    step["undo"] = back
                self._add_step(step, line)
                if hold is not None and hold < len(row):
                    after = rules.one_line(name or command, 60)
                    if len(after) <= 3:  # "| 2 | `flagctl …` | hold 24h |": the row's number
                        after = f"step {after}"
                    wait = holds.step(row[hold], after, block.header[hold].strip())
                    if wait is not None:
                        self._add_step(wait, line, rule="hold column")


def _cell_command(cell: str, in_command_column: bool = False) -> str | None:
    spans = re.findall(r"`([^`]+)`", cell)
    text = " && ".join(spans) if spans else cell.strip()
    text = text.replace("\\|", "|").strip()
    if text and shell.looks_like_shell(text):
        return text
    # "| Version | `indexer --version` | 4.0.1 |": the column says it is a command and the
    # cell is one code span of a program and its flags; a program the word lists do not know
    # is still one (round 6)
    one_span = len(spans) == 1 and cell.strip() == f"`{spans[0]}`"
    if in_command_column and one_span and _PROGRAM_AND_FLAGS.match(text):
        return text
    return None


_PROGRAM_AND_FLAGS = re.compile(
    r"^(?:\./)?[a-z][\w.+-]*(?:\s+(?:-{1,2}[A-Za-z][\w-]*(?:=[\w./:@-]+)?|[\w./:@=-]+))*"
    r"\s+-{1,2}[A-Za-z][\w-]*(?:=[\w./:@-]+)?(?:\s+[\w./:@=-]+)*$"
)
