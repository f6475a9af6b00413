"""Round 11's wordings of a person's part in the flow (issue 11 §7), appended to rules.HUMAN:
a comparison a person makes, an act in a web UI or console, a word given in a ticket, a hold
"until it matches", a wait of business days, "if not, stop here". Several languages each.

Fragments are unanchored unless they say otherwise and compiled case-insensitively.
"""

from __future__ import annotations

HUMAN = (
    # "Compare search latency for the new instances against the old ones", "Vergleichen Sie
    # …", "Comparez …", "Porównaj …", "Сравните …": a comparison a person makes
    r"(?:^|[.!?]\s+)[\W_]*(?:compare|vergleiche[n]?(?: sie)?|comparez|compara|compare|"
    r"por[oó]wnaj|сравните|srovnejte|hasonl[ií]tsd? [oö]ssze|j[aä]mf[oö]r)\s+\S|"
    # "Do not activate on more POPs until it matches", "Do not leave the PC until the label is
    # readable", "don't continue until …": a hold a person lifts
    r"\b(?:do not|don['’]t|never)\s+(?:\w+\s+){1,5}?until\b|"
    r"\bnicht\s+(?:\w+\s+){0,4}?bevor\b|\bne\s+(?:\w+\s+){0,3}?pas\s+(?:\w+\s+){0,4}?avant\s+que\b|"
    # "Pause every runner in the admin UI", "mude … no console do Firebase", "in der Konsole":
    # an act in a web UI a person does
    r"\b(?:in|on|from|through|via|using)\s+the\s+(?:[\w-]+\s+){0,2}?(?:admin\s+)?(?:ui|web\s*ui|"
    r"gui|admin\s+(?:panel|page|console)|portal|web\s+console)\b|"
    r"\b(?:no|na)\s+console\b|\ben\s+la\s+consola\b|\bdans\s+la\s+console\b|"
    r"\bin\s+der\s+(?:web)?(?:konsole|oberfl[aä]che)\b|"
    # "check it with the shift lead", "agree it with the owner"
    r"\b(?:check|verify|confirm)\s+(?:it|them|this|that)\s+with\s+(?:the\s+|your\s+)?"
    r"(?:[\w-]+\s+)?(?:lead|owner|manager|supervisor|team|dba|on[\s-]?call)\b|"
    # "… and confirms in the ticket before step 3", "confirmă în tichet", "bestätigt im
    # Ticket", "confirma no chamado", "signs off in Jira"
    r"\b(?:confirm\w*|bestätigt|approves?|signs?\s+off)\s+(?:in|în|im|no|na|en|dans)\s+"
    r"(?:the\s+|le\s+)?(?:ticket|tichet|chamado|jira|change|cr|tiket)\b|"
    # "Between regions we wait one business day", "wait two working days"
    r"\bwait\s+(?:one|a|two|three|\d+)\s+(?:business|working|work)\s+days?\b|"
    r"\b(?:one|a|\d+)\s+(?:business|working)\s+days?\s+between\b|"
    # "없으면 여기서 중단합니다", "なければここで中止", "否则在此停止", "If not, stop here."
    r"여기서\s*중단|여기서\s*멈추|ここで(?:中止|止め)|在此(?:停止|中止)|就此停止|"
    r"\b(?:if not|otherwise|else),?\s+stop here\b"
)
