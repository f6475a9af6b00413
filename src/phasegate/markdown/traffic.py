"""Traffic allocation tables and ``5% → 25% → 100%`` sequences -> ``set_weight`` steps.

A table with one percentage column ("Traffic %", "Canary", "Weight") gives the canary's share
per row; a table whose percentage columns add up to 100 on every row ("Sandbox | Canary |
Production") gives a weight per backend, and its columns become the plan's backends. The
router is never named by such documents, so the plan's ``traffic`` block carries
``needs_binding``. When a document states the same ramp twice (a summary sequence and a table),
the table wins.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from phasegate.durations import DurationError, from_words, parse_duration
from phasegate.markdown import rules
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.nodes import StepNode, TrafficNode
from phasegate.markdown.thresholds import plain
from phasegate.plan.model import slugify

_PERCENT = re.compile(r"^\s*[~≈]?\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$")
_SEQUENCE = re.compile(r"\d{1,3}\s*%(?:\s*(?:→|->|=>|⇒|➡️?|then)\s*\d{1,3}\s*%)+")
_NUMBER = re.compile(r"(\d{1,3})\s*%")
_TRAFFIC_COL = re.compile(r"traffic|weight|canary|percent|%|exposure|split|share|rollout", re.I)
_TRAFFIC_CONTEXT = re.compile(
    r"traffic|allocation|ramp|canary|rollout schedule|progressive|weight|exposure", re.I
)
_NOTE_COL = re.compile(r"note|action|purpose|description|goal|what|users|audience", re.I)
_DECISION_COL = re.compile(r"decision|proceed|gate|go/no|criteria|condition", re.I)
_DAY = re.compile(r"\b(day|week|d|w)\s*(\d{1,3})\b", re.I)
_PROCEED = re.compile(r"\bproceed\b|\bcontinue\b|\bgo\b|\bif\b|gate|criteria|<|>", re.I)
# A wait the run itself can hold; a longer one (days) is a person's "proceed".
MAX_SLEEP = 3600.0
_METADATA_KEY = re.compile(r"^\s*\*\*([^*\n]{1,40}?):?\*\*:?")
_RAMP_KEY = re.compile(r"ramp|traffic|rollout|canary|weight|stage|exposure|schedule", re.I)
_DAY_RAMP = re.compile(
    r"^[*_\s]*((?:day|week)\s*(\d{1,3})\b[^%\n]*?(\d{1,3}(?:\.\d+)?)\s*%[^\n]*?)[*_\s]*$",
    re.I,
)
_HOLD_COL = re.compile(r"duration|bake|hold|soak|wait|dwell|observe|time", re.I)


@dataclass
class Ramp:
    """One stated ramp: where its steps go and what they set."""

    phase: PhaseDraft
    index: int  # position among the phase's steps when it was read
    line: int
    weights: list[int | dict[str, int]]
    names: list[str]
    lines: list[int]
    source: str  # "table" | "sequence"
    backends: list[str] = field(default_factory=list)
    bakes: list[str | None] = field(default_factory=list)  # "how long at this weight"
    gates: list[str | None] = field(default_factory=list)  # "Proceed if …" before the next
    days: list[float | None] = field(default_factory=list)  # "Day 3": when this weight starts
    between: str | None = None  # "waiting 15 minutes between each": the hold before the next


def table(
    draft: Draft,
    phase: PhaseDraft | None,
    header: list[str],
    rows: list[list[str]],
    line: int,
    context: str,
) -> bool:
    """A traffic allocation table; True when it was read as one."""
    if phase is None or len(rows) < 2:
        return False
    columns = [
        i
        for i in range(len(header))
        if all(i < len(row) and _PERCENT.match(plain(row[i])) for row in rows)
    ]
    if not columns:
        return False
    if not (
        _TRAFFIC_CONTEXT.search(context) or any(_TRAFFIC_COL.search(header[i]) for i in columns)
    ):
        return False
    values = [[_value(plain(row[i])) for i in columns] for row in rows]
    backends: list[str] = []
    if len(columns) >= 2 and all(sum(v) == 100 for v in values):
        backends = [slugify(plain(header[i])) or f"backend-{n + 1}" for n, i in enumerate(columns)]
        if len(set(backends)) != len(backends):
            return False
        weights: list[int | dict[str, int]] = [dict(zip(backends, v, strict=True)) for v in values]
    else:
        pick = next((i for i in columns if _TRAFFIC_COL.search(header[i])), None)
        if pick is None:
            return False
        weights = [_value(plain(row[pick])) for row in rows]
    label = next((i for i in range(len(header)) if i not in columns), None)
    notes = next(
        (
            i
            for i in range(len(header))
            if i not in columns and i != label and _NOTE_COL.search(header[i])
        ),
        None,
    )
    decision = next(
        (i for i in range(len(header)) if i not in columns and _DECISION_COL.search(header[i])),
        None,
    )
    if notes == decision:
        notes = None
    names = []
    days: list[float | None] = []
    for row, weight in zip(rows, weights, strict=True):
        parts = []
        cell = plain(row[label]) if label is not None and label < len(row) else ""
        if cell:
            # "Day | Day 1" reads "Day 1", "Day | 1" reads "Day 1": never "Day Day 1"
            word = plain(header[label] if label is not None else "")
            starts = cell.lower().startswith(word.lower()) or not word
            parts.append(cell if starts or not cell[:1].isdigit() else f"{word} {cell}")
        days.append(_day(parts[0] if parts else ""))
        # a weight per backend is the step's `set_weight` itself; one canary share is named
        head = parts[0] if parts else ""
        if head and isinstance(weight, int):
            head = f"{head}: {weight}%"
        if notes is not None and notes < len(row) and plain(row[notes]):
            said = plain(row[notes])
            head = (f"{head} ({said})" if "%" in head else f"{head}: {said}") if head else said
        names.append(head)
    lines = [line + 2 + n for n in range(len(rows))]
    ramp = Ramp(phase, len(phase.steps), line, weights, names, lines, "table", backends)
    ramp.bakes = _bakes(header, rows, columns)
    ramp.days = days if all(d is not None for d in days) else []
    if decision is not None:
        ramp.gates = [plain(row[decision]) if decision < len(row) else None for row in rows]
    if not ramp.bakes:
        _held_by_hand(ramp, header, rows, columns)
    draft.ramps.append(ramp)
    return True


def _held_by_hand(ramp: Ramp, header: list[str], rows: list[list[str]], columns: list[int]) -> None:
    """A "Duration" column a run cannot sleep ("48+ hours", "1 week", "Ongoing"): the weight is
    held until a person says proceed, with the document's hold in the pause's name. Without it
    a ramp the document spreads over weeks would run in seconds (issue 11 §9)."""
    hold = next(
        (i for i, name in enumerate(header) if i not in columns and _HOLD_COL.search(plain(name))),
        None,
    )
    if hold is None:
        return
    gates = ramp.gates or [None] * len(rows)
    for n, row in enumerate(rows[:-1]):
        cell = plain(row[hold]) if hold < len(row) else ""
        if cell and ramp.weights[n] != 0:
            said = f"the document holds this weight {cell}"
            gates[n] = f"{gates[n]}; {said}" if gates[n] else said
    ramp.gates = gates


def _bakes(header: list[str], rows: list[list[str]], columns: list[int]) -> list[str | None]:
    """A "Duration" / "Bake" / "Hold" column whose every cell is a duration ("30 min", "2h"):
    how long each weight is held, which becomes the step's ``bake``."""
    for i, name in enumerate(header):
        if i in columns or not _HOLD_COL.search(plain(name)):
            continue
        found = [_duration(plain(row[i])) if i < len(row) else None for row in rows]
        if all(found):
            return found
    return []


def _duration(text: str) -> str | None:
    cleaned = text.strip().lower()
    try:
        parse_duration(cleaned)
    except DurationError:
        words = from_words(cleaned)
        return words
    return cleaned.replace(" ", "")


def sequence(draft: Draft, phase: PhaseDraft | None, text: str, line: int) -> bool:
    """``5% → 25% → 50% → 100%`` in prose; True when one was found."""
    if phase is None:
        return False
    if day_ramp(draft, phase, text, line):
        return True
    found = False
    for match in _SEQUENCE.finditer(_ramp_text(text)):
        numbers = [int(n) for n in _NUMBER.findall(match.group(0))]
        if numbers and numbers[0] == 0:
            numbers = numbers[1:]  # "0% → 100%": 0 is where the run starts
        if not numbers or any(n > 100 for n in numbers):
            continue
        if numbers == [100]:  # "from 0% → 100%" states a span, not a ramp to run
            draft.note("traffic", line=line, weights=[100], applied=False, why="a span, not a ramp")
            continue
        weights: list[int | dict[str, int]] = list(numbers)
        draft.ramps.append(
            Ramp(
                phase,
                len(phase.steps),
                line,
                weights,
                [""] * len(numbers),
                [line] * len(numbers),
                "sequence",
            )
        )
        found = True
    return found


# "- 5%", "- 20% of traffic": one weight per item of a list a traffic lead-in introduces
_LIST_WEIGHT = re.compile(
    r"^[*_\s]*[~≈]?\s*(\d{1,3}(?:\.\d+)?)\s*%(?:\s*(?:of\s+)?(?:the\s+)?(?:traffic|users|"
    r"requests|hosts|nodes|instances|fleet|canary))?[*_.\s]*$",
    re.I,
)
# "waiting 15 minutes between each", "hold 10 min at each step"
_BETWEEN = re.compile(
    r"\b(?:wait(?:ing)?|hold(?:ing)?|paus(?:e|ing)|bak(?:e|ing)|soak(?:ing)?)\s+(?:for\s+)?"
    r"(\d+(?:\.\d+)?\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?))\b[^.\n]{0,30}?"
    r"\b(?:between|after each|at each|per step|each step|before each)",
    re.I,
)


def list_weight(draft: Draft, phase: PhaseDraft | None, text: str, line: int, context: str) -> bool:
    """``- 5%`` / ``- 20%`` / … under "Shift traffic in steps, waiting 15 minutes between
    each:": one ramp, its items the weights, the stated wait a hold at every weight but the
    last (issue 11 §9: ramps written as lists)."""
    match = _LIST_WEIGHT.match(text.strip())
    if phase is None or match is None or not _TRAFFIC_CONTEXT.search(context):
        return False
    if rules.is_checklist_text(context) or rules.TRIGGER.search(context):
        return False  # "Canary success criteria:" over "- 99.9%": thresholds, not weights
    weight = round(float(match.group(1)))
    if weight > 100:
        return False
    last = draft.ramps[-1] if draft.ramps else None
    if (
        last is not None
        and last.source == "list"
        and last.phase is phase
        and isinstance(last.weights[-1], int)
        and last.weights[-1] < weight  # a ramp only goes up
    ):
        last.weights.append(weight)
        last.names.append("")
        last.lines.append(line)
    else:
        wait = _BETWEEN.search(context)
        last = Ramp(phase, len(phase.steps), line, [weight], [""], [line], "list")
        last.between = _duration(wait.group(1)) if wait else None
        draft.ramps.append(last)
    if last.between:
        last.bakes = [last.between] * (len(last.weights) - 1) + [None]
    return True


def _ramp_text(text: str) -> str:
    """The lines of a paragraph that may state a ramp: not ``**Timeline:** 4 weeks from 0% →
    100%`` metadata (unless its key names the ramp: ``**Traffic:** 5% → 25%``)."""
    kept = []
    for ln in text.splitlines():
        key = _METADATA_KEY.match(ln)
        if key is None or _RAMP_KEY.search(key.group(1)):
            kept.append(ln)
    return "\n".join(kept)


def _day(text: str) -> float | None:
    match = _DAY.search(text)
    if match is None:
        return None
    return float(match.group(2)) * (7 if match.group(1).lower().startswith("w") else 1)


def day_ramp(draft: Draft, phase: PhaseDraft, text: str, line: int) -> bool:
    """``**Day 5: 1% canary**`` (a bold lead-in or a list item naming a day or week and one
    percentage): one weight of a ramp the document spreads over its days."""
    match = _DAY_RAMP.match(text.strip())
    if match is None or len(_NUMBER.findall(match.group(1))) != 1 or "→" in text:
        return False
    weight = round(float(match.group(3)))
    if weight > 100:
        return False
    name = plain(match.group(1)).strip()
    ramp = Ramp(phase, len(phase.steps), line, [weight], [name], [line], "days")
    ramp.days = [_day(name)]
    draft.ramps.append(ramp)
    return True


def gate(draft: Draft, phase: PhaseDraft | None, text: str, line: int) -> bool:
    """ "Health gate: error rate < 0.5%" under a day's weight: the decision before the next
    weight of the ramp."""
    if phase is None or not draft.ramps or not _PROCEED.search(text):
        return False
    last = draft.ramps[-1]
    if (
        last.source != "days"
        or last.phase is not phase
        or not re.search(r"gate|proceed", text, re.I)
    ):
        return False
    last.gates = [plain(text)]
    draft.note("traffic_gates", line=line, phase=phase.id, gate=plain(text))
    return True


def _pauses(kept: list[Ramp]) -> dict[tuple[int, int], tuple[StepNode, int]]:
    """The wait before each weight (keyed by ramp index and row): the document's days, or the
    row's "Proceed if …", as a pause step."""
    rows: list[tuple[int, int, Ramp]] = [
        (k, n, ramp) for k, ramp in enumerate(kept) for n in range(len(ramp.weights))
    ]
    out: dict[tuple[int, int], tuple[StepNode, int]] = {}
    for (_, n0, r0), (k1, n1, r1) in itertools.pairwise(rows):
        if r0.source != r1.source or (r0 is not r1 and r0.source != "days"):
            continue
        day0 = r0.days[n0] if n0 < len(r0.days) else None
        day1 = r1.days[n1] if n1 < len(r1.days) else None
        gate_text = r0.gates[n0] if n0 < len(r0.gates) else None
        wait = (day1 - day0) * 86400 if day0 is not None and day1 is not None else None
        if wait is not None and (wait <= 0 or r0.bakes):
            wait = None  # no wait stated, or the row's own hold ("Duration: 2h") is the wait
        if wait is None and not gate_text:
            continue
        target = _target(r1, n1)
        if gate_text or wait is None or wait > MAX_SLEEP:
            # a run cannot sleep for days, and "Proceed if …" is a judgement: a person's
            # proceed, with the document's condition and wait in the step's name
            why = [f"proceed to {target}"]
            if gate_text:
                why.append(gate_text)
            if wait is not None:
                why.append(f"the document waits {_words(wait)} first")
            data: StepNode = {"name": " — ".join(why), "pause": "approve"}
        else:
            data = {"name": f"wait {_words(wait)} before {target}", "pause": f"{wait:g}s"}
        out[(k1, n1)] = (data, r0.lines[n0])
    return out


def _target(ramp: Ramp, n: int) -> str:
    """What the next row sets, as a reader names it: "Day 3: 25%", "25%", "Week 7: …"."""
    name = ramp.names[n]
    weight = ramp.weights[n]
    if isinstance(weight, int):
        return name if name and f"{weight}%" in name else f"{weight}%"
    return name or ", ".join(f"{k} {v}%" for k, v in weight.items())


def _words(seconds: float) -> str:
    days = seconds / 86400
    if days >= 1 and days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g}s"


def _value(text: str) -> int:
    match = _PERCENT.match(text)
    return round(float(match.group(1))) if match else 0


def _canary(weight: int | dict[str, int], backends: list[str]) -> int:
    if isinstance(weight, int):
        return weight
    return sum(v for k, v in weight.items() if k != backends[0])


def _restarts(kept: list[Ramp], ramp: Ramp) -> int | None:
    """The weight an earlier ramp reached when this one starts at or below it ("Complete
    rollout: 1% → 100%" then "Fast-track: 10% → 100%"), unless this ramp has a named phase of
    its own (a region's ramp in "Phase 2: EU" starts over on purpose)."""
    if not kept:
        return None
    first = next((c for c in (_canary(w, ramp.backends) for w in ramp.weights) if c), None)
    if first is None:
        return None
    own_phase = ramp.phase.named and all(k.phase is not ramp.phase for k in kept)
    if own_phase and rules.is_phase_title(ramp.phase.name):
        return None
    reached = max(_canary(w, k.backends) for k in kept for w in k.weights)
    return reached if first <= reached else None


def finish(draft: Draft) -> None:
    """Turn the ramps into steps (tables over repeated sequences) and the traffic block."""
    if not draft.ramps:
        return
    tables = [r for r in draft.ramps if r.source == "table"]
    stated = {tuple(_canary(w, r.backends) for w in r.weights) for r in tables}
    backends: list[str] | None = None
    kept: list[Ramp] = []
    for ramp in draft.ramps:
        canaries = tuple(_canary(w, ramp.backends) for w in ramp.weights)
        if ramp.source == "sequence" and (
            canaries in stated
            or any(canaries == tuple(_canary(w, k.backends) for w in k.weights) for k in kept)
        ):
            draft.note(
                "traffic",
                line=ramp.line,
                weights=list(canaries),
                applied=False,
                why="the same ramp is stated elsewhere in the document",
            )
            continue
        restarted = _restarts(kept, ramp)
        if restarted is not None:
            draft.note(
                "traffic",
                line=ramp.line,
                weights=list(canaries),
                applied=False,
                why=f"the ramp starts over below the {restarted}% an earlier ramp reached: "
                "another way to roll out (an alternative or a summary), never run after it",
            )
            continue
        if ramp.backends:
            if backends is not None and backends != ramp.backends:
                draft.note(
                    "traffic",
                    line=ramp.line,
                    weights=list(canaries),
                    applied=False,
                    why=f"a second set of backends ({', '.join(ramp.backends)})",
                )
                continue
            backends = ramp.backends
        kept.append(ramp)
    if not kept:
        return
    pauses = _pauses(kept)
    # Later ramps first, so the recorded positions of earlier ones in a phase stay right.
    order = sorted(enumerate(kept), key=lambda pair: (pair[1].index, pair[0]), reverse=True)
    for k, ramp in order:
        entries: list[Entry[StepNode]] = []
        bakes = ramp.bakes or [None] * len(ramp.weights)
        rows = zip(ramp.weights, ramp.names, ramp.lines, bakes, strict=True)
        for n, (weight, name, row_line, bake) in enumerate(rows):
            if (k, n) in pauses:
                pause, pause_line = pauses[(k, n)]
                entries.append(Entry(pause, pause_line))
            data: StepNode = {"set_weight": weight}
            if name:
                data = {"name": name, **data}
            if bake:
                data["bake"] = bake
            entries.append(Entry(data, row_line))
        ramp.phase.steps[ramp.index : ramp.index] = entries
    for ramp in kept:
        draft.note(
            "traffic",
            line=ramp.line,
            phase=ramp.phase.id,
            weights=[_canary(w, ramp.backends) for w in ramp.weights],
            applied=True,
            source=ramp.source,
        )
    block: TrafficNode = {}
    if backends is not None:
        block["backends"] = backends
        block["baseline"] = {backends[0]: 100}
    block["needs_binding"] = (
        "the router that shifts traffic"
        + (f" between {', '.join(backends)}" if backends else " between stable and canary")
        + ": `router: {command: ./set-weight.sh}` (or nginx / haproxy)"
    )
    draft.traffic = Entry(block, kept[0].line)
    draft.note("needs_binding", line=kept[0].line, what=f"traffic: {block['needs_binding']}")
