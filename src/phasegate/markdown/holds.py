"""Waits stated in a table's column (issue 11 §9, blind rounds 7 and 9): a command table's
"Then: hold 24h" / "Αναμονή: 15 λεπτά" cells and a wave table's "Soak before next wave:
1 hour". Dropping them makes a ramp the document spreads over days run in seconds.

A hold becomes a step right after its row's step: a wait the run itself can hold (up to an
hour, traffic.MAX_SLEEP) is a timed ``pause``; a longer one, or one with words the run cannot
measure ("overnight", "hold 24h, finance signs off"), is a person's ``pause: approve`` named by
the document's own words. Never nothing, and never a guess that shortens it.
"""

from __future__ import annotations

import re

from phasegate.durations import DurationError, parse_duration
from phasegate.markdown import rules
from phasegate.markdown.nodes import StepNode
from phasegate.markdown.thresholds import plain

MAX_SLEEP = 3600.0

# a column whose header says it holds ("Soak before next wave", "Αναμονή", "Wartezeit")
HOLD_HEADER = re.compile(
    r"\bhold|\bsoak|\bbake|\bwait|\bdwell|\bpause|\bobserv|\bduration|αναμον|διάρκει|warte|"
    r"dauer|espera|attente|durée|czekan|odczek|čekat|doba|bekle|süre|tunggu|durasi|等待|观察|"
    r"觀察|持续|持續|대기|관찰|待機|ожидан|очікуван|чекат|המתנ",
    re.I,
)
_HOLD_WORD = (
    r"hold|wait|soak|bake|pause|observe|dwell|warte[n]?|abwarten|esperar?|espere|aguard[ea]r?|"
    r"attendre|attendez|aspetta(?:re)?|wacht(?:en)?|vänta|vent|odczekaj|czekaj|poczekaj|"
    r"počkej(?:te)?|čekejte|bekle(?:yin)?|tunggu|περίμενε|αναμονή|等待|等|观察|觀察|대기|"
    r"ждать|подождите|зачекайте|чекайте"
)
# "15 λεπτά" / "2 Stunden" / "24h" / "7 days"
_AMOUNT = re.compile(r"(?P<n>\d+(?:[.,]\d+)?)\s*(?P<unit>[^\W\d_]+)", re.U)
_UNITS: list[tuple[str, str]] = [
    (r"s|sec|secs|seconds?|sekund\w*|segundos?|δευτερόλεπτ\w*|saniye|detik|秒|초", "s"),
    (
        r"m|min|mins|minutes?|minut\w*|minuten|minutos?|λεπτ\w*|dakika|menit|分钟|分鐘|分|분|"
        r"хвилин\w*|минут\w*",
        "m",
    ),
    (
        r"h|hr|hrs|hours?|stunden?|std|horas?|heures?|godzin\w*|hodin\w*|hodiny|ώρ\w*|saat|jam|"
        r"小时|小時|時間|시간|годин\w*|час\w*|שעות|שעה",
        "h",
    ),
    (
        r"d|days?|tage?n?|días?|dias?|jours?|dni|dzień|dny|dnů|den|ημέρ\w*|μέρ\w*|gün|hari|天|日|"
        r"일|днів|дні|день|дней|дня|ימים|יום",
        "d",
    ),
    (
        r"w|wk|wks|weeks?|wochen?|semanas?|semaines?|tygodni\w*|týdn\w*|εβδομάδ\w*|hafta|minggu|周|週|주",
        "w",
    ),
]
_UNIT_RES = [(re.compile(rf"^(?:{pattern})$", re.I), unit) for pattern, unit in _UNITS]
_LEAD = re.compile(rf"^\W*(?:(?:{_HOLD_WORD})\s+(?:for\s+)?)?", re.I)
_NONE = re.compile(r"^\W*(?:—|–|-|n/?a|none|—|0|no|nein|όχι|нет|ні|无|無|없음)?\W*$", re.I)


def no_hold(text: str) -> bool:
    """An empty cell or "—" / "n/a": this row holds nothing."""
    return _NONE.match(plain(text)) is not None


def duration(text: str) -> str | None:
    """The first "<number> <unit>" of a text as a plan duration ("15 λεπτά" -> "15m"), None
    when it states none."""
    match = _AMOUNT.search(text)
    if match is None:
        return None
    unit = next((u for r, u in _UNIT_RES if r.match(match.group("unit"))), None)
    if unit is None:
        return None
    number = match.group("n").replace(",", ".")
    if unit == "w":
        return f"{float(number) * 7:g}d"
    return f"{number}{unit}"


def seconds(text: str) -> float | None:
    try:
        return float(parse_duration(text))
    except (DurationError, TypeError, ValueError):
        return None


def cell_hold(cell: str) -> tuple[str, str | None] | None:
    """A cell that states a hold: (its words, the duration when it leads with one); None for
    an empty or "—" cell and for a cell that does not start with a hold."""
    text = plain(cell).strip()
    if not text or _NONE.match(text):
        return None
    rest = text[_LEAD.match(text).end() :] if _LEAD.match(text) else text  # type: ignore[union-attr]
    amount = _AMOUNT.match(rest)
    if amount is None:
        return None
    return text, duration(amount.group(0))


def hold_column(header: list[str], rows: list[list[str]], taken: set[int]) -> int | None:
    """The column of a table that holds between rows: named so ("Soak", "Αναμονή"), or one
    whose every filled cell starts with a hold ("hold 2h", "hold 24h, finance signs off")."""
    for i, name in enumerate(header):
        if i in taken:
            continue
        cells = [row[i] for row in rows if i < len(row) and not _NONE.match(plain(row[i]))]
        if not cells:
            continue
        holds = [cell_hold(c) for c in cells]
        if HOLD_HEADER.search(plain(name)) and sum(h is not None for h in holds) * 2 >= len(cells):
            return i
        if all(
            h is not None and re.match(rf"^\W*(?:{_HOLD_WORD})\b", c, re.I)
            for h, c in zip(holds, cells, strict=True)
        ):
            return i
    return None


def step(cell: str, after: str, column: str) -> StepNode | None:
    """The step a hold cell makes after the row named ``after``: a timed pause for a wait the
    run can hold by itself, a person's proceed for anything longer or with more words."""
    found = cell_hold(cell)
    if found is None:
        return None
    text, amount = found
    said = rules.one_line(text, 140)
    where = f"after {after}" if after else ""
    span = seconds(amount) if amount else None
    extra = re.sub(r"^\W*(?:\S+\s+){0,2}?\d+(?:[.,]\d+)?\s*[^\W\d_]+\W*", "", text).strip()
    if span is not None and span <= MAX_SLEEP and not extra:
        return {"name": f"Wait {said} {where} ({column})".replace("  ", " "), "pause": amount or ""}
    return {
        "name": f"Hold {where}: {said} ({column}); approve when the hold is over".replace(
            "  ", " "
        ),
        "pause": "approve",
    }
