"""A runbook that is a rollout of rollouts: propose a program (docs/programs.md), never apply it.

Some documents do not hold the work; they order other runbooks: "1. Roll out the events model
([events.md](events.md)) 2. then the shadow mode ([shadow.md](shadow.md))", sections that each
send the reader to another runbook, or a stated chain of child slices (seed 004:
"`events-model -> shadow-mode -> cutover`"). A program runs each of them as a child run of its
own, in that order, with dependency-aware rollback. The importer cannot build it alone: each
child runbook must be imported first (its plan file must exist for the program to validate),
and which evidence says a child is ready is the team's. So this module only **proposes**: the
report's ``programs`` list holds each proposal (its lines, the children in order, a program
YAML to review, and the commands that import the children), and the imported plan is what it
would have been without it.

Conservative on purpose (a wrong proposal costs a reader's minute, a missed one nothing):

- a numbered list: at least two items that each link exactly one Markdown runbook and say a
  rollout verb (roll out, deploy, release, migrate, cut over, upgrade, ship, launch, run);
  items linking a reference page (troubleshooting, FAQ, glossary, contacts, README) are not
  children;
- sibling sections (one heading level): at least two in a row whose body links exactly one
  runbook and holds no code of its own;
- a chain ``a -> b -> c`` of at least three names on a line that speaks of children, slices,
  rollouts or an order;
- a "score >= N" sentence (``dor.score >= 8``, "a score of at least 8") gives each child a
  proposed ``ready:`` gate with ``min_score: N`` (the evidence file is for the reader to name).

Text in code fences is never read.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import yaml

from phasegate.markdown.errors import MarkdownImportError
from phasegate.plan.model import slugify

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft
    from phasegate.markdown.entries import ReportEntry
    from phasegate.markdown.nodes import ProgramPhase, Readiness

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,3})[.)]\s+(.*)$")
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+?\.(?:md|markdown))(?:#[^)\s>]*)?>?\s*\)", re.I)
_BARE = re.compile(r"(?<![\w/(.-])((?:[\w.-]+/)*[\w-]+\.(?:md|markdown))\b", re.I)
_ROLLOUT = re.compile(
    r"\b(roll(?:s|ing|ed)?[ -]?out|rollout|deploy\w*|release\w*|migrat\w*|cut ?over|"
    r"upgrad\w*|ship\w*|launch\w*|run\b|follow\w*)",
    re.I,
)
_REFERENCE = re.compile(r"troubleshoot|faq|glossary|contact|readme|changelog|license", re.I)
_REFERENCE_TITLE = re.compile(r"reference|see also|links|resources|related|background", re.I)
_CHAIN = re.compile(r"`?([\w.-]+)`?(?:\s*(?:->|→|=>)\s*`?([\w.-]+)`?){2,}")
_CHAIN_LINK = re.compile(r"(?:->|→|=>)")


def _has_arrow(line: str) -> bool:
    return "->" in line or "→" in line or "=>" in line


_CHAIN_WORDS = re.compile(r"\b(child|children|slices?|sub-?rollouts?|rollouts)\b", re.I)
_SCORE = re.compile(
    r"score\s*(?:>=|≥|=>|of at least|at least|no less than)\s*(\d+(?:\.\d+)?)", re.I
)
_SCORE_FIELD = re.compile(r"(\w+\.ya?ml)\.((?:\w+\.)*score)\b", re.I)


def _lines(text: str) -> list[tuple[int, str]]:
    """The document's lines outside code fences, numbered from 1."""
    out: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened is not None and opened.group(1)[0] == fence[0]:
                fence = None
            continue
        if opened is not None:
            fence = opened.group(1)
            continue
        out.append((number, line))
    return out


def _runbooks(text: str, *, bare: bool = True) -> list[str]:
    """The distinct Markdown files a piece of text links (in order; by file name), reference
    pages left out; ``bare``: also files named without a link ("see a.md")."""
    found = [m.group(1) for m in _LINK.finditer(text)]
    if bare:
        found += [m.group(1) for m in _BARE.finditer(_LINK.sub(" ", text))]
    out: list[str] = []
    names: set[str] = set()
    for target in found:
        name = PurePosixPath(target).name.lower()
        if "://" in target or _REFERENCE.search(name) or name in names:
            continue
        names.add(name)
        out.append(target)
    return out


def _distinct(group: list[tuple[int, str, str]]) -> int:
    return len({PurePosixPath(r).name.lower() for _, _, r in group})


def _from_lists(lines: list[tuple[int, str]]) -> list[list[tuple[int, str, str]]]:
    """Numbered lists whose items link runbooks: each a list of (line, item text, runbook)."""
    groups: list[list[tuple[int, str, str]]] = []
    current: list[tuple[int, str, str]] = []
    indent: str | None = None
    for number, line in lines:
        item = _NUMBERED.match(line)
        if item is None:
            if line.strip() and not line.startswith((" ", "\t")):
                groups.append(current)  # a paragraph at the margin ends the list
                current, indent = [], None
            continue
        if indent is not None and item.group(1) != indent:
            continue  # a nested list's item
        indent = item.group(1)
        text = item.group(3)
        runbooks = _runbooks(text)
        if len(runbooks) == 1 and _ROLLOUT.search(text):
            current.append((number, text, runbooks[0]))
    groups.append(current)
    return [g for g in groups if _distinct(g) >= 2]


def _from_sections(lines: list[tuple[int, str]], text: str) -> list[list[tuple[int, str, str]]]:
    """Sibling sections in a row, each linking one runbook and holding no code of its own."""
    all_lines = text.splitlines()
    last = len(all_lines) + 1
    headings = [
        (n, len(m.group(1)), m.group(2)) for n, line in lines if (m := _HEADING.match(line))
    ]
    groups: list[list[tuple[int, str, str]]] = []
    current: list[tuple[int, str, str]] = []
    level: int | None = None
    for index, (number, depth, title) in enumerate(headings):
        if level is not None and depth > level:
            continue  # a subsection of the child section before it
        later = headings[index + 1 :]
        own_end = later[0][0] if later else last
        subtree_end = next((n for n, d, _ in later if d <= depth), last)
        own = title + "\n" + "\n".join(all_lines[number : own_end - 1])
        runbooks = _runbooks(own, bare=False)  # a section sends the reader on with a link
        has_code = any(_FENCE.match(line) for line in all_lines[number : subtree_end - 1])
        child = (
            len(runbooks) == 1
            and not has_code
            and _ROLLOUT.search(own) is not None
            and _REFERENCE_TITLE.search(title) is None
        )
        if child and (level is None or depth == level):
            current.append((number, title, runbooks[0]))
            level = depth
            continue
        groups.append(current)
        current, level = ([(number, title, runbooks[0])], depth) if child else ([], None)
    groups.append(current)
    return [g for g in groups if _distinct(g) >= 2]


def _from_chains(lines: list[tuple[int, str]]) -> list[list[tuple[int, str, str]]]:
    """A stated order of child rollouts: ``a -> b -> c`` beside "child", "slice", "order"."""
    groups = []
    previous = ""
    for number, line in lines:
        # two arrows at least, or no chain: the pattern's `[\w.-]+` backtracks over every
        # long word of every line, so the lines without an arrow are not searched at all
        chain = _CHAIN.search(line) if _has_arrow(line) else None
        if chain is not None and (_CHAIN_WORDS.search(line) or _CHAIN_WORDS.search(previous)):
            names = [n.strip("`") for n in _CHAIN_LINK.split(chain.group(0))]
            names = [n.strip().strip("`").strip() for n in names]
            if len(set(names)) == len(names) >= 3:
                groups.append([(number, name, "") for name in names])
        previous = line
    return groups


def _score(lines: list[tuple[int, str]]) -> tuple[int, float, str | None, str | None] | None:
    """The first "score >= N" sentence: (line, N, evidence file, field path) when it says."""
    for number, line in lines:
        found = _SCORE.search(line)
        if found is not None:
            named = _SCORE_FIELD.search(line)
            file, field = (named.group(1), named.group(2)) if named else (None, None)
            return number, float(found.group(1)), file, field
    return None


_VERDICT_FIELD = re.compile(r"\b((?:\w+\.)*status)`?\s*[:=]+\s*`?pass\b")


def _verdict(lines: list[tuple[int, str]]) -> str | None:
    """The field a "dor.status: pass" sentence names (the verdict a readiness gate reads)."""
    for _, line in lines:
        found = _VERDICT_FIELD.search(line)
        if found is not None:
            return "doc." + found.group(1)
    return None


def _child_plan(runbook: str) -> str:
    path = PurePosixPath(runbook)
    return str(path.with_name(path.stem + ".plan.yaml"))


def _proposal(
    children: list[tuple[int, str, str]],
    how: str,
    score: tuple[int, float, str | None, str | None] | None,
    verdict: str | None,
    name: str,
) -> ReportEntry:
    phases: list[ProgramPhase] = []
    taken: set[str] = set()
    for _, label, runbook in children:
        base = slugify(PurePosixPath(runbook).stem if runbook else label) or "child"
        phase_id, n = base, 1
        while phase_id in taken:
            n += 1
            phase_id = f"{base}-{n}"
        taken.add(phase_id)
        phase: ProgramPhase = {"id": phase_id}
        if phases:
            phase["needs"] = [phases[-1]["id"]]
        phase["run_plan"] = _child_plan(runbook) if runbook else f"children/{phase_id}.yaml"
        if score is not None:
            _, minimum, file, field = score
            ready: Readiness = {"evidence": {"file": f"{phase_id}/{file or 'state.yaml'}"}}
            if verdict is not None:
                ready["verdict"] = verdict
            ready["score"] = "doc." + (field or "score")
            ready["min_score"] = minimum if minimum != int(minimum) else int(minimum)
            phase["ready"] = ready
        phases.append(phase)
    text = yaml.safe_dump(
        {"version": 1, "name": name, "phases": phases}, sort_keys=False, width=100
    )
    steps = [f"phasegate import {r} -o {_child_plan(r)}" for _, _, r in children if r]
    return {
        "line": children[0][0],
        "how": how,
        "children": [
            {"line": line, "text": label.strip(), "runbook": runbook or None, "phase": p["id"]}
            for (line, label, runbook), p in zip(children, phases, strict=True)
        ],
        "ready_from_line": score[0] if score is not None else None,
        "import_children": steps,
        "yaml": text,
    }


def propose(draft: Draft, text: str) -> None:
    """Note in the report each program the document describes (none: nothing noted)."""
    lines = _lines(text)
    score = _score(lines)
    verdict = _verdict(lines) if score is not None else None
    name = (slugify(draft.title) or "imported") + "-program"
    found: list[tuple[list[tuple[int, str, str]], str]] = []
    found += [(g, "numbered list of runbooks") for g in _from_lists(lines)]
    found += [(g, "sections each linking a runbook") for g in _from_sections(lines, text)]
    found += [(g, "stated order of child rollouts") for g in _from_chains(lines)]
    seen: set[tuple[str, ...]] = set()
    for children, how in sorted(found, key=lambda f: f[0][0][0]):
        key = tuple(r or label for _, label, r in children)
        if key in seen:
            continue
        seen.add(key)
        draft.note("programs", **_proposal(children, how, score, verdict, name))


def instead(draft: Draft, error: MarkdownImportError) -> MarkdownImportError:
    """The import's error, or, when the document only orders other runbooks (nothing to run
    of its own) and a program is proposed, an error that says what to do instead."""
    proposals = draft.report.get("programs") or []
    if not proposals or "nothing to run" not in error.message:
        return error
    first = proposals[0]
    chain = " -> ".join(c["phase"] for c in first["children"])
    steps = "; ".join(first["import_children"]) or "import each child runbook"
    return MarkdownImportError(
        f"{draft.source}: nothing to run of its own: the document orders other runbooks "
        f"(line {first['line']}: {chain}), a program. Import each child ({steps}), then run "
        f"this program (review it first):\n{first['yaml']}",
        hint="docs/programs.md: each child runs as a run of its own, rolled back in reverse "
        "order if a later one fails",
    )
