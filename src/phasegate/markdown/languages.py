"""More languages for the importer's word tables (blind round 7, issue 11).

Each fragment is one class of wording — a rollback section, a failure condition, "never run
this", an option the reader may take, work deferred by days — in the languages runbooks are
plausibly written in that the tables of rules.py and listings.py did not cover yet (Russian,
Ukrainian, Polish, Czech, Turkish, Swedish, Danish/Norwegian, and words missing in German,
Italian, Dutch, Portuguese, Japanese, Korean, Chinese). rules.py and listings.py append them
to their tables (one alternation more), so every rule that reads a table reads these too.

Fragments are unanchored unless they say otherwise and compiled case-insensitively.
"""

from __future__ import annotations

# A heading naming the way back: "## Откат", "## Wycofanie zmian", "## Geri alma",
# "## Rückfallplan", "## Návrat zpět", "## Återställning", "## Повернення".
ROLLBACK = (
    r"откат|откатить|откатыва|возврат к|відкат|повернення до|"
    r"wycofani|wycofaj|wycofa[cć]|przywr[oó]ceni|cofni[eę]ci|"
    r"n[aá]vrat|vr[aá]cen[ií]|vr[aá]tit zm[eě]n|"
    r"geri al|geri d[oö]n|"
    r"r[uü]ckfall|r[uü]ckbau|"
    r"[aå]terst[aä]ll|tilbakerull|tilbakestill|"
    r"tornare indietro|torna indietro|"
    r"terugval|terugrollen|"
    r"元に戻|원복|원상\s*복구|복구\s*절차|恢复原|还原|"
    # blind round 8: "## Hoàn tác", "## التراجع", "## Rollback / वापस लेना", "## Pemulihan"
    r"ho[aà]n t[aá]c|kh[oô]i ph[uụ]c|quay (?:l[aạ]i|lui) (?:b[aả]n|phi[eê]n b[aả]n)|"
    r"التراجع|تراجع|الاسترجاع|الرجوع إلى|استعادة الإصدار|"
    r"वापस ले|रोलबैक|wapas l[eo]|"
    r"kembalikan|pemulihan|mengembalikan|ย้อนกลับ"
)

# A heading or lead-in naming trouble: "W razie problemów", "В случае ошибки",
# "Hata durumunda", "V případě problémů", "Vid problem", "In caso di problemi",
# "Bij problemen", "出现问题时". Anchored at the start (like CONDITIONAL's own branches).
CONDITIONAL = (
    r"^[\W_]*(?:"
    r"w (?:razie|przypadku) (?:problem|b[lł][eę]d|awari|niepowodzeni|k[lł]opot)|"
    r"(?:je[sś]li|je[zż]eli|gdy)\b[^.]{0,80}?(?:nie dzia[lł]a|b[lł][aą]d|problem|"
    r"nie powiedzie|nie uda|p[oó]jdzie [zź]le)|"
    r"(?:в случае|при)\s+(?:ошиб|проблем|сбо|неудач|авари)|"
    r"если\b[^.]{0,80}?(?:ошиб|не работает|сбо|пошло не так|проблем|не удал)|"
    r"(?:у разі|в разі)\s+(?:помилк|проблем|збо)|якщо\b[^.]{0,80}?(?:помилк|не працює|збо)|"
    r"v p[rř][ií]pad[eě] (?:probl[eé]m|chyb|selh)|pokud\b[^.]{0,80}?(?:sel[zž]|chyb|probl[eé]m)|"
    r"[^\n]{0,40}\b(?:hata|sorun|ar[ıi]za|ba[sş]ar[ıi]s[ıi]zl[ıi]k)\s*(?:durumunda|olursa|"
    r"[cç][ıi]karsa|halinde)|"
    r"vid (?:problem|fel)|om\b[^.]{0,80}?(?:misslyckas|g[aå]r fel)|"
    r"in caso di (?:problem|error|guast|fallimento)|"
    r"bij (?:problemen|fouten|storing)|in (?:geval|het geval) van (?:problem|fout|storing)|"
    r"em caso de problem|en caso de problem|"
    r"(?:出现|遇到|发生)(?:问题|故障|错误|异常)|出问题)"
)

# "Nigdy nie uruchamiaj na produkcji:", "Никогда не запускайте:", "Asla çalıştırmayın",
# "Nikdy nespouštějte", "Kör aldrig", "Never purge the queue": the fence after it is what NOT
# to do. Anchored at the start.
FORBIDS = (
    r"^[\W_]*(?:\*\*|__)?(?:"
    r"(?:nigdy )?nie (?:uruchamiaj|wykonuj|odpalaj|u[zż]ywaj)\w*|nigdy nie\b(?! (?:pomij|zapomin))|"
    r"(?:никогда )?не (?:запуска|выполня|используй)\w*|никогда не\b(?! (?:пропуска|забыва))|"
    r"нельзя (?:запуска|выполня)|"
    r"(?:ніколи )?не (?:запуска|виконуй|виконува)\w*|ніколи не\b(?! (?:пропуска|забува))|"
    r"(?:asla|kesinlikle)\b|[^:\n]{0,60}\b[cç]al[ıi][sş]t[ıi]rmay[ıi]n|"
    r"nikdy\b|nespou[sš]t[eě]j|"
    r"k[oö]r (?:aldrig|inte)|aldrig\b|"
    r"non (?:eseguire|lanciare) mai|mai\b[^:\n]{0,20}\beseguire|"
    r"nooit\b|voer [^:\n]{0,40}\bniet uit|"
    r"jamais\b|"
    # (not "Never skip the backup:", "Never deploy without a ticket": orders to do it)
    r"never\s+(?:ever\s+)?(?!(?:skip|forget|omit|leave|neglect|ignore|miss|bypass)\b)"
    r"(?!\w+\s+without\b)\w+)"
)

# "Czego NIE robić", "Чего не делать", "Kesinlikle yapmayın", "Co nedělat": a section of what
# not to do, consulted, never run.
REFERENCE = (
    r"czego nie robi[cć]|nie r[oó]b\b|чего не (?:делать|надо)|не делайте|чого не робити|"
    r"yapmay[ıi]n|yap[ıi]lmamas[ıi]|co ned[eě]lat|g[oö]r inte|vad man inte|cosa non fare|"
    r"da non fare|wat niet te doen|niet doen|o que n[aã]o fazer|やってはいけない|禁止事項|"
    r"하지\s*말아야|금지\s*사항|禁止事项|不要做"
)

# "możesz je usunąć siłą", "можно удалить", "silebilirsiniz", "můžete", "du kan", "puoi",
# "je kunt", "for instance": the paragraph offers a command, never orders it.
OFFER = (
    r"\bmo[zż]esz\b|\bmo[zż]na\b|\bmo[zż]ecie\b|можно\b|можете\b|можеш\b|можна\b|"
    r"\w+(?:ebilirsiniz|abilirsiniz)\b|\bm[uů][zž]ete\b|\bm[uů][zž]e[sš]\b|\bdu kan\b|\bni kan\b|"
    r"\bpuoi\b|\bpotete\b|\bje kunt\b|\bu kunt\b|\bkun je\b"
)

# "Не раньше чем через 7 дней", "Через неделю", "po 7 dniach", "7 gün sonra", "po 7 dnech",
# "efter 7 dagar", "dopo 7 giorni", "na 7 dagen", "7日後", "7일 후", "7天后", "not before
# 7 days": the work waits longer than a run sleeps; a person says when the time has come.
DEFERRED = (
    r"через\s+(?:\d+\s*)?(?:дн|недел|месяц|сут)|не раньше\b|через\s+\d+\s*час|"
    r"через\s+(?:\d+\s*)?(?:дн|тижд|місяц)|не раніше\b|"
    r"\bpo\s+(?:\d+\s*)?(?:dni|dniach|tygodni|tygodniu|miesi)|\bza (?:tydzie[nń]|\d+ dni)|"
    r"\bnie wcze[sś]niej\b|"
    r"\d+\s*(?:g[uü]n|hafta|ay)\s+sonra|"
    r"\bpo\s+\d+\s*(?:dnech|t[yý]dnech)|\bza t[yý]den\b|"
    r"\befter\s+\d+\s*(?:dagar|veckor|dager|uker)|\bom en vecka\b|"
    r"\bdopo\s+\d+\s*(?:giorni|settimane)|\bna\s+\d+\s*(?:dagen|weken)|"
    r"\d+\s*(?:日|週間)後|\d+\s*(?:일|주)\s*(?:후|뒤)|\d+\s*(?:天|周|个月)(?:后|之后)|"
    r"\bnot (?:before|earlier than)\s+(?:\d+|a|one)\s*(?:days?|weeks?|months?)\b"
)

# "Only with the mobile lead's approval:", "Nur mit Freigabe des Teamleads:", "Tylko za zgodą
# …", "Только с одобрения …": what follows is done only if a person approves it — an option
# the operator takes or not, never the path. And a heading that says another environment uses
# it: "## Docker (only the sandbox uses this)", "(staging only)", "(not used in production)".
OPTIONAL = (
    r"^[\W_]*(?:\*\*|__)?(?:only|solely|nur|solo|s[oó]lo|seulement|uniquement|somente|apenas|"
    r"alleen|tylko|только|sadece|pouze|endast|bara)\s+(?:with|after|upon|once|mit|nach|con|"
    r"tras|avec|apr[eè]s|com|ap[oó]s|met|na|za|с|после|po)\b[^.:\n]{0,60}?"
    r"(?:approv|sign[\s-]?off|consent|go[\s-]ahead|permission|freigabe|genehmigung|zustimmung|"
    r"aprobaci|autorizaci|accord|approbation|aprova[cç]|autoriza[cç]|goedkeuring|toestemming|"
    r"zgod|akceptac|одобрени|согласи|разрешени|onay|izin|souhlas|schv[aá]len|godk[aä]nn)|"
    r"\(\s*only (?:the |our )?[^()\n]{1,40}?\b(?:uses?|needs?|runs?)\b[^()\n]{0,20}\)|"
    r"\(\s*(?:we|our team) (?:do not|don['’]t|never) use (?:this|it)\s*\)|"
    r"\(\s*not used (?:in|for|on) [^()\n]{1,30}\)|"
    r"\(\s*(?:sandbox|staging|dev(?:elopment)?|test(?:ing)?|local|lab|qa)[\s-]+only\s*\)"
)

# "如果出现 `[ERR] …`，先执行修复：", "Если проверка показывает ошибку, выполните:", "Jeśli …:":
# a lead-in whose condition the operator observes, in the languages OBSERVED_CONDITION lacked.
# Anchored at the start; the lead-in ends with a colon.
OBSERVED = (
    r"^[\W_]*(?:(?:如果|若是?|假如|万一|倘若|もし|만약)|(?:если|якщо|je[sś]li|je[zż]eli|gdy|pokud|"
    r"jestli|om|se|als|indien|e[gğ]er|qualora|caso)(?![\w-]))[^\n]{2,160}[:：](?:\*\*|__)?\s*$"
)

# What a person does or judges in the flow, in the forms the HUMAN table lacked (blind round 7):
HUMAN = (
    # "Then repeat with `codehub-ee=16.7.4-ee.0`.", "对第二个新节点重复一次。", "Powtórz dla …",
    # "For the later waves use `--pops wave1`, …": the same steps again, elsewhere, by a person
    r"^[\W_]*(?:then\s+|now\s+|and\s+)?repeat\b|\bdo the same (?:for|on|with)\b|"
    r"^[\W_]*for the (?:later|remaining|other|next|following) (?:waves?|hosts?|nodes?|servers?|"
    r"regions?|clusters?|shards?|pops?|dcs?|data ?cent(?:er|re)s?|zones?|sites?|stages?)\b|"
    r"重复|重做|繰り返|반복|повтор(?:ите|ить|ять)|powt[oó]rz|opakujte|tekrarla|wiederhol|"
    r"r[ée]p[ée]te[rz]?\b|\brepit[ae]\b|\brepetir\b|\bripeti\b|\bherhaal\b|\bupprepa\b|"
    # "The QA lead signs off in the change ticket.", "once the DBA approves"
    r"\b(?:lead|manager|owner|approver|reviewer|team|cab|dba|sre|on[\s-]?call|qa|pm|"
    r"director|security)\b[^.\n]{0,30}\b(?:signs? off|approves?|agrees?|consents?|gives? "
    r"(?:the |their )?(?:go|ok|okay|approval|green light)|says (?:go|ok|yes))\b|"
    # "If any replica shows lag above 5 s, stop and investigate first.", "If it is more than
    # 5 000, stop: …": a person judges what they saw before the run goes on
    r"\bif\b[^.\n]{0,100}?,\s*(?:then\s+)?(?:stop|halt|do not (?:continue|proceed|go on))\b|"
    r"\bstop and (?:investigate|look|check|find out|escalate|think)\b|"
    # "Poll until `AVAILABLE`", "Watch until `HEALTH_OK`; this can take hours"
    r"(?:^|[.!?;]\s+)[\W_]*(?:then\s+)?(?:poll|watch|monitor|check)\s+(?:\w+\s+){0,3}?until\b|"
    # "When it looks right, run …", "Move on only if conversion is within 0.5 pp"
    r"\b(?:when|once)\s+(?:it|this|that|everything|all|the \w+)\s+(?:looks?|seems?)\s+(?:good|"
    r"right|fine|ok(?:ay)?|healthy|correct|normal)\b|"
    r"\b(?:move on|advance|go on|promote)\s+only\s+(?:if|when|once|after)\b|"
    r"\bonly (?:during|in|within) (?:the )?[^.\n]{0,40}\bwindow\b|"
    # "Hazlo con la persona de guardia de DBA presente", "with the DBA on call present"
    r"\b(?:with|con|avec|mit|com)\b[^.\n]{0,60}\b(?:present|presente|pr[ée]sente?|anwesend)\b|"
    r"\ben pr[ée]sence d|\bin (?:anwesenheit|beisein)\b|\bin the presence of\b|"
    # "Schedule for the Sunday 06:00 window", "not before 05:00 the next day", "the next
    # morning": a wall-clock time a person waits for
    r"\bschedul\w* (?:it )?(?:for|at|in|during)\b[^.\n]{0,40}(?:\b\d{1,2}[:h]\d{2}\b|window|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|tomorrow|weekend)|"
    r"\b(?:not )?(?:before|after|until|from|at) \d{1,2}[:h]\d{2}\b(?!\s*(?:ms|s|sec|min)\b)|"
    r"\b(?:the )?next (?:morning|day|business day|working day)\b|"
    # "### T-0", "### T+1d", "### T-30m": a launch timeline's wall-clock marks
    r"^[\W_]*T\s*(?:[-+±−]\s*\d+\s*(?:[smhdw]|mins?|minutes?|hours?|hrs?|days?|weeks?)?|0)"
    r"\s*(?:\([^)]{0,40}\))?[\s:.*_]*$"
)

# "## Wymagania wstępne", "## Ön koşullar", "## Předpoklady", "## Förutsättningar",
# "## Prerequisiti", "## Vereisten", "## Передумови", "## Предварительные требования": what
# must hold before anything runs — manual gates a person confirms, never triggers.
CHECKLIST = (
    r"wymagania wst[eę]pne|warunki wst[eę]pne|przed rozpocz[eę]ciem|"
    r"[öo]n ko[sş]ullar|[öo]n gereksinimler|ba[sş]lamadan [öo]nce|"
    r"p[rř]edpoklady|po[zž]adavky p[rř]ed|f[öo]ruts[äa]ttningar|f[öo]rkrav|"
    r"prerequisiti|requisiti preliminari|vereisten|randvoorwaarden|"
    r"передумови|предварительные (?:требования|условия)|предусловия|перед началом|"
    r"先决条件|前置条件|사전\s*요구\s*사항|전제\s*조건"
)

# Blind round 8's human decisions written as prose (issue 11 §7), the class in other wordings:
# a soak ("Soak **30 minutes**. Watch …", "Leave it on staging for at least one hour and look
# at …", "Ek ghanta ruko"), a person's word awaited ("Wait for the store manager to confirm …",
# "Wait for their approval.", "only after the PM's OK", "product manager ke OK ke baad hi",
# "must join the call before you continue"), a decision taken with someone ("Decida com o dono
# do serviço", "Decide with the service owner").
HUMAN_PROSE = (
    r"(?:^|[.!?;]\s+)[\W_]*soak\b|"
    r"\b(?:leave|let|keep) (?:it|them|this|that|the \w+) (?:on|in|at|running|soak)\b[^.\n]{0,40}?"
    r"\bfor (?:at least |about |roughly |~)?(?:\d+|an?|one|two|three|four|six|twelve)\s*"
    r"(?:hours?|hrs?|h|minutes?|mins?|days?)\b|"
    r"\bbefore (?:you|we) (?:continue|proceed|go on|go ahead|move on)\b|"
    r"\bwait for\b[^.\n]{0,60}?\bto (?:confirm|approve|sign off|say|give|agree|ok)\b|"
    r"\bwait for (?:their|his|her|its|the \w+(?:'s|’s)?|\w+(?:'s|’s)) (?:approval|ok|okay|go|"
    r"go-ahead|sign-off|confirmation|answer)\b|"
    r"\b(?:after|once|until) (?:the |a |an )?[\w -]{0,30}?(?:'s|’s) (?:ok|okay|go|approval|"
    r"sign-off|go-ahead|green light)\b|"
    r"\b(?:ke|ki) (?:ok|okay|approval|go[- ]ahead|haan) ke baad\b|"
    r"\b(?:ek|do|teen|char|aadha|\d+) (?:ghant[ae]|minute|min|din) ruk(?:o|ein|iye|na)\b|"
    r"\bdecid(?:a|e|ir|ez)\b[^.\n]{0,20}?\b(?:com|with|mit|avec|con|together)\b|"
    # "Keep a second SSH session open to a host before you apply": a person's safety net
    r"\bkeep (?:a|an|one) (?:second|separate|another|extra|spare)\b[^.\n]{0,30}?"
    r"\b(?:session|terminal|shell|connection|console|window)s? open\b"
)
# "Se nessuna replica è allineata, **non procedere**.", "do not continue with the next host",
# "إذا احتوى على … فتوقف واتصل بفريق البيانات": stop there for a person to judge
STOP_PROSE = (
    r"\b(?:non (?:procedere|proseguire|continuare|andare avanti))\b|"
    r"\bno (?:contin[uú]es?|prosigas?|procedas?|avances?|sigas?)\b|"
    r"\bn[ãa]o (?:prossiga|continue|avance|siga)\b|"
    r"\bne (?:continuez|poursuivez|passez|proc[ée]dez) pas\b|"
    r"\bnicht (?:fortfahren|weitermachen|fortsetzen)\b|"
    r"\bdo not (?:continue|proceed|go on|move on) (?:with|to) the next\b|"
    r"\bniet (?:doorgaan|verdergaan)\b|\bnie kontynuuj\b|\bне продолжайте\b|"
    r"(?:^|\s)(?:ف?توقف)(?:\s|$)|"
    r"\baage mat (?:badho|jao|badhna)\b|\bruk jao\b"
)
