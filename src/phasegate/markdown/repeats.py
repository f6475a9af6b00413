"""A repeat instruction without a loop (blind round 11, issue 11 §12): "Repeat for the other
nodes", "Do the same three steps for `edge-02`, `edge-03` and `edge-04`", "Repetiu els passos
1–4 a `web-seu-02`", "Ulang Langkah 1 hingga 3 pada setiap pelayan", "Mêmes commandes que
l'étape 2 pour `catalogue`, `panier`". The commands name one host; run as written, that one
changes and the run says done. Every such heading, paragraph or list item is listed (the
``repeats`` report list, with its Markdown line) and the plan is not executable as written
until the repetition is a loop or one step per value (provenance.verdict)."""

from __future__ import annotations

import re

from phasegate.markdown.draft import Draft
from phasegate.markdown.parse import Document, Item, Paragraph

_VERB = (
    r"\b(?:repeat|redo)\b|\bdo the same\b|"
    r"\bsame (?:steps?|commands?|procedure)(?= (?:for|on|as)\b)|"
    # Catalan / Spanish / Portuguese / Italian / French
    r"\brepeti[ut]\b|\brepita\b|\brepetir\b|\bripet[ei]\b|\br[ée]p[ée]te[rz]?\b|\brefaites\b|"
    r"\bm[êe]mes? (?:commandes|[ée]tapes|proc[ée]dure)\b|\bmismos (?:pasos|comandos)\b|"
    r"\bmesmos (?:passos|comandos)\b|\bmateixos (?:passos|ordres)\b|"
    # German / Dutch / Scandinavian / Slavic
    r"\bwiederhole?n?\b|\bdieselben schritte\b|\bherhaal\b|\bgentag\b|\bgjenta\b|\bupprepa\b|"
    r"\bpowt[oó]rz\w*|\bopakuj\w*|\bzopakuj\w*|\bponovi\w*|\bповтор\w*|\bпонов\w*|"
    # Malay / Indonesian / Tagalog
    r"\bulang(?:i|lah)?\b|\blangkah yang sama\b|\bulitin\b|\bparehong hakbang\b|"
    # Greek / Hebrew / Hindi / Thai / CJK
    r"επαναλάβ|חזר(?:ו|ה) על|दोहराएं|दोहराएँ|ทำซ้ำ|重复|繰り返|同じ手順|반복|같은 절차"
)
# what makes it a repeat of steps ELSEWHERE: the steps named ("steps 1–5", "Langkah 1
# hingga 3"), or a preposition before another host, namespace or "the other …"
_STEPS = (
    r"\b(?:steps?|stages?|procedure|above|langkah|passos|pasos|[ée]tapes?|schritte?|stap|trin|"
    r"steg|kroki?|koraki?|шаги|кроки|hakbang)\b|\d\s*[–-]\s*\d|"
    r"手順|步骤|단계|βήματα|चरण|ขั้นตอน"
)
_PREPOSITION = (
    r"\b(?:for|on|across|in|pour|sur|para|en|per|f[uü]r|auf|a|al|untuk|pada|di|na|za|для|на)\s+"
    r"(?:`[^`]+`|(?:the |les |los |las |die |den |de |el |la |le )?(?:other|remaining|each|every|"
    r"all|autres|otros|otras|outros|anderen|övriga|andre|setiap|ibang)\b|[A-Za-z]+[-_]?\d+\b)"
)
_ELSEWHERE = rf"{_STEPS}|{_PREPOSITION}"
_REPEAT = re.compile(rf"(?:{_VERB})[^.\n]{{0,60}}?(?:{_ELSEWHERE})", re.I)
# not an order to repeat elsewhere: "do not repeat", "repeat until healthy", "safe to repeat"
_NOT = re.compile(
    r"\b(?:do not|don['’]t|never|no|not|safe to|can|may|idempotent)\s+(?:\w+\s+)?(?:repeat|"
    r"redo)|\brepeat\w*\b[^.\n]{0,40}\buntil\b|\bbis\b|\bjusqu",
    re.I,
)


# a word of _VERB must be in the text (a substring test is far cheaper than the pattern)
_STEMS = (
    "repeat",
    "redo",
    "same",
    "repet",
    "repit",
    "ripet",
    "répét",
    "repét",
    "repét",
    "refait",
    "même",
    "meme",
    "mismo",
    "mesmo",
    "mateix",
    "wiederhol",
    "dieselben",
    "herhaal",
    "gentag",
    "gjenta",
    "upprepa",
    "powt",
    "opakuj",
    "zopakuj",
    "ponovi",
    "повтор",
    "понов",
    "ulang",
    "langkah yang sama",
    "ulitin",
    "parehong hakbang",
    "επαναλάβ",
    "חזר",
    "दोहरा",
    "ทำซ้ำ",
    "重复",
    "繰り返",
    "同じ手順",
    "반복",
    "같은 절차",
)


def repeats(text: str) -> bool:
    """The text asks a person to repeat steps elsewhere."""
    lowered = text.lower()
    if not any(stem in lowered for stem in _STEMS):
        return False
    return bool(_REPEAT.search(text)) and not _NOT.search(text)


def scan(draft: Draft, doc: Document) -> None:
    """List every heading, paragraph and list item asking to repeat steps elsewhere."""
    for section in doc.root.walk():
        found: list[tuple[int, str]] = []
        if section.level and repeats(section.title):
            found.append((section.line, section.title))
        for block in section.blocks:
            if isinstance(block, (Paragraph, Item)) and repeats(block.text):
                found.append((block.line, block.text))
        for line, text in found[:1]:  # the section's first is its instruction
            what = " ".join(text.split())[:120]
            draft.note("repeats", line=line, what=what, why="repeat without a loop")
