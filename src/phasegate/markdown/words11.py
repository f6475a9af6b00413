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
    r"\b(?:if not|otherwise|else),?\s+stop here\b|"
    # "**Use only when** Vault reports `Sealed: true` AND …", "Run this only if …", "Nur
    # verwenden, wenn …", "À utiliser uniquement si …", "Usar solo cuando …": the runbook's
    # entry condition, which a person confirms before anything of it runs
    r"^[\W_]*(?:use|run|follow|apply)\s+(?:this\s+(?:runbook|procedure|playbook|guide)\s+)?"
    r"only\s+(?:when|if)\b|^[\W_]*nur\s+(?:verwenden|anwenden|ausf[uü]hren),?\s+wenn\b|"
    r"^[\W_]*[àa]\s+utiliser\s+uniquement\s+(?:si|quand)\b|"
    r"^[\W_]*usar\s+(?:s[oó]lo|solamente|somente|apenas)\s+(?:cuando|si|quando|se)\b|"
    # "Pokud ne, nepokračujte a domluvte se s vlastníkem", "wenn nicht, nicht fortfahren",
    # "sinon, ne continuez pas", "si no, no continúe", "se não, não continue", "jeśli nie, nie
    # kontynuuj", "если нет, не продолжайте", "değilse devam etmeyin", "ha nem, ne folytasd",
    # "dacă nu, nu continuați", "jos ei, älä jatka": a person's stop in the flow
    r"\bnepokra[čc]ujte\b|\bnicht\s+fortfahren\b|\bne\s+continuez\s+pas\b|\bno\s+contin[uú]e[sn]?\b|"
    r"\bn[aã]o\s+continue\b|\bnie\s+kontynuuj\b|\bне\s+продолжайте\b|\bdevam\s+etmeyin\b|"
    r"\bne\s+folytasd\b|\bnu\s+continua[țt]i\b|\bälä\s+jatka\b|"
    # "Start the next region only after the previous one ran 30 minutes without errors",
    # "Aloita seuraava alue vasta, kun …", "Die nächste Region erst, wenn …", "Pase a la
    # siguiente solo cuando …", "Passe à la suivante seulement après …"
    r"\b(?:start|begin|move on to|go on to|proceed to|do)\s+the\s+next\b[^.\n]{0,40}?\b(?:only|not "
    r"(?:before|until))\b|\baloita\s+seuraava\b[^.\n]{0,40}?\bvasta\b|"
    r"\bn[aä]chste[nr]?\b[^.\n]{0,40}?\berst\b|\bsiguiente\b[^.\n]{0,40}?\bs[oó]lo\b|"
    r"\bsuivante?\b[^.\n]{0,40}?\bseulement\b|\bpr[oó]xim[ao]\b[^.\n]{0,40}?\bs[oó]\s+"
    r"(?:depois|quando)\b"
)

# A person decides, in the forms words9.DECIDES lacked: "az ügyeletes DBA dönt", "o karar
# verir", "decide DBA-ul", "päättää", "quyết định"; and an approval that must come first:
# "팀장 승인 후에만 진행합니다", "承認後に実施", "批准后执行", "only after the lead's approval",
# "jóváhagyás után", "după aprobare", "onaydan sonra", "nach Freigabe", "após aprovação"
DECIDES = (
    r"\bd[oö]nt\b|\bd[oö]nti\b|karar ver\w*|\bdecide\s+(?:[\w-]+\s+){0,2}?(?:dba|lead|owner|"
    r"manager|[șs]eful)\w*|\bp[aä][aä]tt[aä][aä]\b|quy[eế]t [dđ][iị]nh"
)
# An approval that must come first, read on the way back only (rollback_people.py): on the
# forward path "Proceed only after the on-call lead's sign-off." is a pause in the flow
APPROVAL = (
    r"승인\s*(?:후|하에|을\s*받)|承認(?:後|を得て)|(?:批准|审批|審批)(?:后|後)|"
    r"\bonly\s+(?:after|with|upon)\s+(?:the\s+|an?\s+)?(?:[\w'’-]+\s+){0,3}?"
    r"(?:approval|sign[\s-]?off|go[\s-]?ahead|ok)\b|"
    r"j[oó]v[aá]hagy[aá]s\s+ut[aá]n|dup[aă]\s+aprobare|onay(?:dan|ından)\s+sonra|"
    r"nach\s+(?:der\s+)?freigabe|ap[oó]s\s+(?:a\s+)?aprova[cç][aã]o|"
    r"\bon\s+(?:the\s+)?[\w-]+(?:\s+[\w-]+)?['’]s\s+decision\b|"
    r"\b(?:only\s+)?(?:at|by)\s+(?:the\s+)?[\w-]+(?:\s+[\w-]+)?['’]s\s+(?:call|discretion)\b"
)

# "Rollback: reverse the steps above.", "inversați pașii de mai sus", "Schritte in umgekehrter
# Reihenfolge", "invierta los pasos", "inverta os passos", "inversez les étapes", "adımları
# tersine", "lépéseket fordított sorrendben", "выполните шаги в обратном порядке", "逆の順序で",
# "역순으로", "按相反顺序": a way back that names no command, done by a person
REVERSE_STEPS = (
    r"\b(?:reverse|undo|revert|back\s+out)\s+(?:all\s+|each\s+of\s+)?(?:the\s+)?(?:above\s+|previous\s+|"
    r"preceding\s+|earlier\s+)?(?:steps|changes)\b|\bin\s+(?:the\s+)?reverse\s+order\b|"
    r"\binversa\w*\s+(?:pa[șs]ii|los\s+pasos|os\s+passos|les\s+[ée]tapes)|"
    r"\binvi[ée]rt\w*\s+los\s+pasos|\binvert\w*\s+os\s+passos|\binversez\s+les\s+[ée]tapes|"
    r"\bordine\s+invers[aă]|\borden\s+inverso|\bordem\s+inversa|\bordre\s+inverse|"
    r"umgekehrter\s+reihenfolge|\bschritte\s+r[uü]ckw[aä]rts|adımları\s+(?:tersine|geri)|"
    r"ters\s+sırayla|fordított\s+sorrendben|visszafelé|обратном\s+порядке|odwrotnej\s+kolejno|"
    r"opačném\s+pořadí|omgekeerde\s+volgorde|omvänd\s+ordning|逆の?順|역순|相反(?:的)?顺序|倒序"
)

# "If any region prints `RATELIMIT DOWN`, stop: v5 fails closed without it.", "If it is not
# green, stop here.", "Wenn … nicht grün ist, abbrechen und …": a bare stop (no object, no
# rollback) after a condition the person reads; the run pauses for them in its place
STOP_PROSE = (
    r"^[\W_]*(?:if|when|should|wenn|falls|si|se|jos|ha|dac[aă])\b[^.\n]{0,120}?,\s*(?:then\s+)?"
    r"(?:stop|halt|stopp|arr[eê]te[zr]?|p[aá]r[ea]|det[eé]n(?:te|gase)?)\b(?:\s+(?:here|now|hier|"
    r"ici|aqu[ií]|aqui))?\s*(?:[:.;!—–]|$)"
)
