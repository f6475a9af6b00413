""" "Repeat for each region: us-east-1, eu-west-1, ap-south-1" over one fence (round 11).

A runbook writes the steps once, for a variable (``export REGION=us-east-1  # change per
region``, or ``--region $REGION`` alone), and says in prose that they run once per listed
value. Run once as written, the plan would update one region and claim it updated all three
(or run with ``$REGION`` unset). The fence after such a lead-in runs once per value, in the
listed order: a step per value, the variable set to that value (its assignment line, and every
``$NAME``/``${NAME}`` read, written with the value), a person's confirmation between two values
when the lead-in asks for one ("start the next region only after 30 minutes without errors").

Only a plain list (two to twenty values, each a token such as ``eu-west-1``, ``db-02`` or
``v2``) after a "repeat for each …" / "for each of …" lead-in counts, in the languages the
importer reads; and only a fence with one variable that takes those values (its assignment is
one of them, or it is the only value the fence reads and never sets). Otherwise nothing is
expanded and the fence keeps what the rest of the importer makes of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown.memo import memo

_LEAD = re.compile(
    r"(?:\brepeat\b[^:\n]{0,60}?\b(?:for|on|in)\s+(?:each|every|all)\b|"
    r"\b(?:for|on|in)\s+(?:each|every)\s+(?:of\s+(?:the\s+)?)?[\w-]+(?:\s+in\s+(?:this\s+)?order)?|"
    r"\btoista\b[^:\n]{0,60}?\b(?:jokaiselle|kullekin|jokaisessa|kaikille)\b|"
    r"\bwiederhol\w*\b[^:\n]{0,60}?\b(?:f[uü]r|in)\s+jede|\bf[uü]r\s+jede[nrs]?\s+\w+|"
    r"\brepit\w*\b[^:\n]{0,60}?\bpara\s+cada\b|\bpara\s+cada\s+\w+|"
    r"\br[ée]p[ée]te[rz]?\b[^:\n]{0,60}?\bpour\s+chaque\b|\bpour\s+chaque\s+\w+|"
    r"\bripeti\b[^:\n]{0,60}?\bper\s+ogni\b|\bper\s+ogni\s+\w+|"
    r"\bherhaal\b[^:\n]{0,60}?\bvoor\s+elke?\b|\bpowt[oó]rz\w*\b[^:\n]{0,60}?\bdla\s+ka[zż]d|"
    r"\bповтор\w*\b[^:\n]{0,60}?\bдля\s+кажд|\btekrarla\w*\b[^:\n]{0,60}?\bher\b|"
    r"\bism[eé]teld\b[^:\n]{0,60}?\bminden\b|\bl[ặa]p\s+l[ạa]i\b[^:\n]{0,60}?\b(?:cho\s+)?(?:t[ừu]ng|m[ỗo]i)\b|"
    r"\brepeta\w*\b[^:\n]{0,60}?\bpentru\s+fiecare\b|"
    r"对每个|對每個|每个区域|各リージョン|ごとに繰り返|각\s*리전)"
    r"[^:\n]{0,80}?[:：]\s*(?P<values>[^\n]+)",
    re.I,
)
_VALUE = re.compile(r"^[A-Za-z0-9][\w.:/-]{0,62}$")
_SPLIT = re.compile(
    r"\s*(?:,|;|、|，|\s(?:and|und|y|e|et|ja|és|și|và|и|i|ve|en|och|og)\s|→|->)\s*", re.I
)


@dataclass(frozen=True)
class Repeat:
    values: tuple[str, ...]
    lead: str  # what the lead-in says besides the list ("start the next one after 30 min")
    line: int


def rest(text: str) -> str:
    """The lead-in without its "repeat for each …: a, b, c" clause."""
    flat = " ".join(text.split())
    match = _LEAD.search(flat)
    if match is None:
        return flat
    listed = re.split(r"\.(?:\s|$)|\s\(|。", match.group("values"))[0]
    end = match.start("values") + len(listed)
    return (flat[: match.start()] + flat[end:]).strip(" .:")


@memo()  # a pure function of its text (memo.py)
def values_of(text: str) -> tuple[str, ...] | None:
    """The listed values after a "repeat for each …:" lead-in, or None."""
    flat = " ".join(text.split())
    match = _LEAD.search(flat)
    if match is None:
        return None
    listed = re.split(r"\.(?:\s|$)|\s\(|。", match.group("values"))[0]
    parts = [p.strip(" `*_\"'") for p in _SPLIT.split(listed) if p.strip(" `*_\"'")]
    if not 2 <= len(parts) <= 20 or not all(_VALUE.match(p) for p in parts):
        return None
    if len(set(parts)) != len(parts):
        return None
    return tuple(parts)


def variable(script: str, values: tuple[str, ...]) -> str | None:
    """The one variable of ``script`` that takes the listed values, or None."""
    assigned = {
        m.group(1): m.group(2).strip("'\"")
        for m in re.finditer(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(\S*)", script, re.M)
    }
    taking = [name for name, value in assigned.items() if value in values]
    if len(taking) == 1:
        return taking[0]
    if taking:
        return None
    read = set(re.findall(r"\$\{?([A-Za-z_]\w*)\}?", script)) - set(assigned)
    read = {name for name in read if name.isupper()}
    return read.pop() if len(read) == 1 else None


def instance(script: str, name: str, value: str) -> str:
    """The script for one value: its assignment of ``name`` set to it, every read of
    ``$name``/``${name}`` written with it."""
    out = re.sub(
        rf"^(\s*(?:export\s+)?{name}=)\S*",
        lambda m: m.group(1) + value,
        script,
        flags=re.M,
    )
    return re.sub(rf"\$\{{{name}\}}|\${name}\b", value, out)
