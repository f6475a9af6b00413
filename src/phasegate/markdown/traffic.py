"""Traffic allocation tables and ``5% → 25% → 100%`` sequences -> ``set_weight`` steps.

A table with one percentage column ("Traffic %", "Canary", "Weight") gives the canary's share
per row; a table whose percentage columns add up to 100 on every row ("Sandbox | Canary |
Production") gives a weight per backend, and its columns become the plan's backends. The
router is never named by such documents, so the plan's ``traffic`` block carries
``needs_binding``. When a document states the same ramp twice (a summary sequence and a table),
the table wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from phasegate.durations import DurationError, from_words, parse_duration
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
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
    names = []
    for row in rows:
        parts = []
        if label is not None and label < len(row) and plain(row[label]):
            parts.append(f"{plain(header[label])} {plain(row[label])}".strip())
        if notes is not None and notes < len(row) and plain(row[notes]):
            parts.append(plain(row[notes]))
        names.append(": ".join(parts))
    lines = [line + 2 + n for n in range(len(rows))]
    ramp = Ramp(phase, len(phase.steps), line, weights, names, lines, "table", backends)
    ramp.bakes = _bakes(header, rows, columns)
    draft.ramps.append(ramp)
    return True


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
    found = False
    for match in _SEQUENCE.finditer(text):
        numbers = [int(n) for n in _NUMBER.findall(match.group(0))]
        if numbers and numbers[0] == 0:
            numbers = numbers[1:]  # "0% → 100%": 0 is where the run starts
        if not numbers or any(n > 100 for n in numbers):
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


def _value(text: str) -> int:
    match = _PERCENT.match(text)
    return round(float(match.group(1))) if match else 0


def _canary(weight: int | dict[str, int], backends: list[str]) -> int:
    if isinstance(weight, int):
        return weight
    return sum(v for k, v in weight.items() if k != backends[0])


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
    # Later ramps first, so the recorded positions of earlier ones in a phase stay right.
    for ramp in sorted(kept, key=lambda r: r.index, reverse=True):
        entries = []
        bakes = ramp.bakes or [None] * len(ramp.weights)
        rows = zip(ramp.weights, ramp.names, ramp.lines, bakes, strict=True)
        for weight, name, row_line, bake in rows:
            data: dict[str, Any] = {"set_weight": weight}
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
    block: dict[str, Any] = {}
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
