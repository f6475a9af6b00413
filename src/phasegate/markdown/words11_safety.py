"""Word tables from blind round 11 (issue 11): the way back, a halt, a failure lead-in, an
"only if" and work put days later, in the languages round 11 showed the tables lacked
(Bulgarian, Danish, Norwegian, Swedish, Croatian, Serbian, Slovak, Slovenian, Catalan, Malay,
Indonesian, Tagalog, Japanese, Chinese, Korean, Greek, Hebrew, Hindi, Thai). rules.py appends
each fragment to its table (one alternation more), so every rule that reads a table reads these.

Fragments are compiled case-insensitively. The broad words (Bulgarian "Връщане", Croatian
"Vraćanje", Tagalog "Ibalik") are read only where a heading or lead-in STARTS with them (or
after "Step 6 —", "4."), never inside a sentence.
"""

from __future__ import annotations

# Where a heading or lead-in starts: the beginning, or after "Step 6 —" / "Korak 3:" / "4.";
# an adjective before the noun is allowed ("Ръчно връщане", "Manuel tilbagerulning").
_START = r"(?:^|[—–:|]\s*|\s-\s)[\W_]*(?:\d{1,2}(?:\.\d{1,2})*[.)]?\s+)?"
_ADJ = r"(?:(?:ръчно|аварийно|manuel|manuell|ru[cč]n[oíéa]|ro[cč]n[ao]|manual|hitno|nujno)\s+)?"

# A heading naming the way back, an undo, a restore or an emergency stop.
ROLLBACK = (
    _START + _ADJ + r"(?:"
    # Bulgarian: връщане (назад), отмяна, възстановяване, аварийно спиране
    r"връщане|върнете|отмяна на|възстановяване|аварийно (?:спиране|прекратяване)|"
    # Danish / Norwegian / Swedish: tilbagerulning, rul tilbage, gendannelse, fortryd, angre,
    # nødstop, rulla tillbaka, ångra, nödstopp, tilbakeføring, gjenoppretting
    r"tilbagerul|rul(?:l)? tilbage|tilbagef[oø]r|gendan|fortryd|"
    r"tilbakef[oø]r|gjenopprett|angre\b|rull(?:e)? tilbake|"
    r"rulla tillbaka|[aå]ngra\b|[aå]terg[aå] till|"
    r"n[oøö]dstop|"
    # Croatian / Serbian (Latin and Cyrillic): vraćanje, povratak, poništavanje, oporavak,
    # obnova, hitno zaustavljanje; враћање, повратак, поништавање, опоравак
    r"vra[cćč]anje|povratak na|poni[sš]tavanje|oporavak|obnova\b|"
    r"hitno zaustavljanje|враћање|повратак на|поништавање|опоравак|хитно заустављање|"
    # Slovak / Slovenian: vrátenie, zrušenie zmien, núdzové zastavenie; povrnitev,
    # razveljavitev, obnovitev, vrnitev, zasilna zaustavitev
    r"vr[aá]tenie|zru[sš]enie zmien|n[uú]dzov[eé] zastavenie|"
    r"povrnitev|razveljavitev|obnovitev|vrnitev|zasilna zaustavitev|"
    # Catalan: marxa enrere, tornar enrere, tirar enrere, desfer, reversió, aturada d'emergència
    r"marxa enrere|tornar enrere|tirar enrere|tornada enrere|desfer\b|revers[ió]|"
    r"aturada d['’]emerg[eè]ncia|"
    # Malay / Indonesian: undur, pulihkan, batalkan perubahan, hentian kecemasan,
    # penghentian darurat, kembali ke versi
    r"undur(?:kan)?\b|pulihkan|batalkan (?:perubahan|pelepasan|rilis)|pembatalan|"
    r"hentian kecemasan|penghentian darurat|pemberhentian darurat|"
    # Tagalog: pagbabalik, ibalik, itigil / pagtigil / ihinto, kung kailangang itigil
    r"pagbabalik|ibalik|(?:kung kailangang? )?(?:itigil|ihinto|pagtigil|pagpapahinto)|"
    # Greek: επαναφορά, αναίρεση, επιστροφή, έκτακτη διακοπή
    r"επαναφορ[άα]|αναίρεση|αναιρεση|επιστροφ[ήη] στην|[έε]κτακτη διακοπ[ήη]|"
    # Hebrew: ביטול שינויים, החזרה לגרסה, עצירת חירום
    r"ביטול (?:השינוי|שינויים|הפריסה)|החזרה ל|עצירת חירום|"
    # Hindi: आपातकालीन रोक, वापसी
    r"आपातकालीन (?:रोक|बंद)|वापसी|"
    # Thai: ยกเลิกการเปลี่ยนแปลง, หยุดฉุกเฉิน
    r"ยกเลิกการ|หยุดฉุกเฉิน|"
    # Japanese / Chinese / Korean: 復元, 取り消し, 緊急停止; 恢复, 紧急停止; 취소, 긴급 중지
    r"復元|取り?消し|緊急停止|恢复|紧急停止|緊急中止|취소|긴급\s*(?:중지|중단)"
    r")"
)

# A lead-in or heading naming trouble ("if it fails", "in case of problems"), anchored at the
# start: what follows is done only when that happens.
CONDITIONAL = (
    r"^[\W_]*(?:"
    # Bulgarian: ако (нещо) се провали / не успее / не работи, при проблем
    r"ако\b[^.\n]{0,80}?(?:се провали|не успее|не успе\b|не успије|не работи|грешк|проблем)|"
    r"при (?:проблем|грешк|срив)|"
    # Danish / Norwegian: hvis det fejler / feiler / går galt, ved problemer / fejl / feil
    r"hvis\b[^.\n]{0,80}?(?:fejler|feiler|g[aå]r galt|mislykkes)|ved (?:problemer|fejl|feil)\b|"
    # Croatian / Serbian / Slovak / Slovenian: ako ne uspije / ne uspe / zlyhá, če ne uspe
    r"ako?\b[^.\n]{0,80}?(?:ne uspije|ne uspe|zakaže|zlyh|nastane (?:problém|chyba))|"
    r"u slu[cč]aju (?:problema|gre[sš]ke|kvara)|v pr[ií]pade (?:probl[eé]m|chyb)|"
    r"[cč]e\b[^.\n]{0,80}?(?:ne uspe|spodleti|pride do (?:napak|te[zž]av))|"
    # Catalan: si falla / si alguna cosa va malament, en cas de problemes
    r"si\b[^.\n]{0,80}?(?:falla|va malament|no funciona)\b|en cas d['’](?:error|errada|problema)|"
    # Malay / Indonesian / Tagalog: jika gagal, kalau gagal, sekiranya gagal; kung pumalya,
    # kung mabigo, kung nagka-problema
    r"(?:jika|kalau|sekiranya|apabila|bila)\b[^.\n]{0,80}?(?:gagal|bermasalah|ralat|error)|"
    r"kung\b[^.\n]{0,80}?(?:pumalya|mabigo|nabigo|pumalpak|magka-?problema|nagka-?problema|"
    r"may problema|may error|bumagal)|"
    # Greek / Hebrew / Hindi / Thai: αν αποτύχει, σε περίπτωση προβλήματος; אם נכשל;
    # अगर/यदि … विफल; หาก/ถ้า … ล้มเหลว
    r"(?:αν|εάν)\b[^.\n]{0,80}?(?:αποτύχει|αποτυχει|σφάλμα|πρόβλημα)|σε περίπτωση (?:σφάλματος|"
    r"προβλήματος|αποτυχίας)|"
    r"אם\b[^.\n]{0,80}?(?:נכשל|תקלה|שגיאה|בעיה)|במקרה של (?:תקלה|כשל|בעיה)|"
    r"(?:अगर|यदि)\b[^.\n]{0,80}?(?:विफल|असफल|त्रुटि|गड़बड़)|"
    r"(?:หาก|ถ้า)[^.\n]{0,80}?(?:ล้มเหลว|ผิดพลาด|มีปัญหา)|"
    # Japanese / Chinese / Korean: 失敗した場合, 問題が発生した場合; 如果失败, 失败时; 실패 시,
    # 실패하면, 문제가 발생하면
    r"[^\n]{0,40}?(?:失敗した(?:場合|ら|とき)|問題が(?:発生|起き)た?(?:場合|ら))|"
    r"(?:如果|若)[^\n]{0,40}?失败|[^\n]{0,40}?失败(?:时|後|后)|"
    r"[^\n]{0,40}?(?:실패\s*시|실패하면|실패할 경우|문제가 (?:발생하면|생기면)))"
)

# "Only if …" in these languages: what follows is done only when the operator says the
# condition holds, a decision, never the path. Anchored at the start. Not a measured threshold
# ("Samo ako je stopa grešaka ispod 0,5 %:"): that is the gate before the next step, read by
# the rules for thresholds and waits.
ONLY_IF = (
    r"^[\W_]*(?:\*\*|__)?(?![^\n]*\d)(?:"
    r"само ако|samo ako|kun hvis|bare hvis|endast om|bara om|iba ak|len ak|jedine ak|samo [cč]e|"
    r"nom[eé]s si|hanya (?:jika|kalau|apabila|bila)|(?:lamang|lang) kung|kung [^.\n]{0,40} lamang|"
    r"μόνο (?:αν|εάν)|רק אם|केवल (?:तभी|अगर|यदि)|सिर्फ़? (?:तभी|अगर)|เฉพาะ(?:เมื่อ|กรณี)|"
    r"[^\n]{0,40}?(?:の場合のみ|場合に限り)|仅(?:当|在)|只有(?:当|在)|[^\n]{0,40}?경우에만"
    r")"
)

# Work the document puts days or weeks later: a person says when the time has come.
DEFERRED = (
    r"\bслед\s+\d+\s*(?:дни|дена|седмиц|месец)|\bслед (?:една )?седмица\b|"
    r"\befter\s+\d+\s*(?:dage|dager|uger|uker|dagar|veckor)\b|\better\s+\d+\s*(?:dager|uker)\b|"
    r"\b(?:nakon|poslije|posle)\s+\d+\s*(?:dana|tjedana|nedelja|sedmica)\b|"
    r"\b(?:после|након)\s+\d+\s*(?:дана|недеља)\b|"
    r"\bpo\s+\d+\s*(?:d[nň]och|t[ýy][zž]d[nň]och|dneh|tednih)\b|"
    r"\bdespr[eé]s de\s+\d+\s*(?:dies|setmanes)\b|"
    r"\b(?:selepas|setelah|sesudah)\s+\d+\s*(?:hari|minggu|bulan)\b|"
    r"\bpagkalipas ng\s+\d+\s*(?:araw|linggo)\b|"
    r"\bμετά από\s+\d+\s*(?:ημέρες|μέρες|εβδομάδες)|אחרי \d+ (?:ימים|שבועות)|"
    r"\d+\s*(?:दिन|हफ़्ते|सप्ताह) (?:बाद|के बाद)|หลังจาก\s*\d+\s*(?:วัน|สัปดาห์)|"
    # "1 週間問題がなければ", "7 日間様子を見て", "1 周后没有问题", "1주일 후"
    r"\d+\s*(?:日間?|週間|か月|ヶ月)\s*(?:問題が?なければ|何もなければ|様子を見て|経過)|"
    r"\d+\s*(?:天|周|个月)\s*(?:内)?(?:没有问题|无问题|观察)|\d+\s*주일?\s*(?:후|뒤)"
)

# A heading that is only a prohibition: "## Don't", "## Do not", "## What we do NOT do",
# "## Må ikke", "## Какво НЕ правим", "## Što ne raditi", "## Què no fer", "## Jangan",
# "## Huwag", "## 禁止", "## Μην", "## מה לא לעשות", "## क्या न करें", "## ห้าม": what NOT to
# run, read, never run. Anchored at the start.
FORBIDDEN = (
    r"^[\W_]*(?:"
    r"don['’]?t\s*$|do not\s*$|do not (?:do|run|use)\b|never (?:run|use)\b|what (?:we|you) "
    r"(?:do not|don['’]t|never) do|things (?:to avoid|not to do)|"
    r"m[aå] ikke\b|ikke g[oø]r|g[oø]r ikke\b|"
    r"какво не (?:правим|правете)|не правете|"
    r"(?:[sš]to|[sš]ta|čo|co) ne? ?(?:raditi|robiti|nerob)|nerobte|ne radite|не радите|"
    r"[cč]esa ne (?:delati|po[cč]eti)|"
    r"qu[eè] no (?:fer|feu)|no feu\b|"
    r"jangan\b|apa yang tidak (?:boleh|perlu)|huwag\b|"
    r"μην\b|τι δεν (?:κάνουμε|κάνετε)|מה לא (?:לעשות|עושים)|אל תעש|"
    r"क्या न करें|क्या नहीं करना|मत करें|ห้าม|สิ่งที่ไม่ควรทำ|"
    r"してはいけない|しないこと|禁止|절대\s*하지|하지\s*마"
    r")"
)

# A lead-in that asks to confirm or check something ("Confirm nothing else is restoring right
# now:", "Check that no restore is running:", "Vérifiez qu'aucune restauration n'est en
# cours :"): the command after it is a check even when a rollback word is in the sentence;
# not "Verify the rollback:" (which checks a rollback). Anchored at the start.
CHECK_LEAD = (
    r"^[\W_]*(?:\d{1,2}[.)]\s*)?(?:first,?\s+)?(?:confirm|check|verify|make sure|ensure|"
    r"validate|v[ée]rifie[rz]?|pr[uü]fen?|pr[uü]fe|comprueb[ae]|verifi(?:que|ca)|controlla|"
    r"controleer)\b"
    r"(?![^:\n]*\b(?:roll(?:ed|s)?[\s-]?back|reverted|revert)\b)"
)

# The heading or the sentence before the ways says the reader picks ONE: "(pick A or B)",
# "choose one of", "either … or", "pumili ng A o B", "wähle eine", "elige una", "choisissez",
# "vælg én", "velg", "välj", "wybierz", "выберите", "odaberite", "izberite", "trieu", "pilih",
# "どちらか", "选择一种", "중 하나", "επιλέξτε", "בחרו", "चुनें", "เลือก".
CHOOSE = (
    r"\b(?:choose|pick|select)\s+(?:one|either|between|[a-h0-9]\s+or\s+[a-h0-9])\b|\beither\b|"
    r"\bone of the (?:following|two|three)\b|\b(?:pumili|piliin)\b|\bw[äa]hle?n? (?:eine|einen|"
    r"zwischen)\b|\bentweder\b|\b(?:elige|escoja|escoge|elija)\b|\bo bien\b|\bchoisi(?:ssez|r)\b|"
    r"\bau choix\b|\bscegli(?:ete)?\b|\bkies\b|\bv[æa]lg\b|\bvelg\b|\bv[äa]lj\b|\bwybierz\b|"
    r"\bвыберите\b|\bоберіть\b|\b(?:odaberite|izaberite|izberite|vyberte|zvoľte)\b|"
    r"\btrieu\b|\bpilih(?:lah)?\b|изберете|どちらか|いずれか|选择(?:一种|其一|一个)|任选|"
    r"중\s*하나|επιλέξτε|בחרו|चुनें|เลือก"
)
# a way labelled by a letter or number: "**A. Gamit ang screen**", "B) With nohup", "2 - Helm"
LETTERED = r"^[\W_]*(?:[A-H]|[1-9])\s*[.):–—-]\s+\S"

# A fence or sentence marked for a non-production environment alone: "# training cluster
# ONLY", "(test environment only)", "only against the lab cluster", "nur Testumgebung",
# "solo en pruebas", "uniquement en recette", "仅测试环境", "テスト環境のみ" (blind round 11).
_NONPROD = (
    r"(?:training|test(?:ing)?|lab|demo|qa|uat|local|kind|minikube|sandbox|staging|dev(?:elopment)?|"
    r"practice|sandpit|preview)"
)
NONPROD_ONLY = (
    r"\b" + _NONPROD + r"(?:[\s-]+(?:cluster|environment|env|instance|system|db|database|"
    r"setup|machine|box|stack|namespace))?[\s-]+only\b|"
    r"\bonly (?:in|on|for|against|with) (?:the |a |your )?(?:local )?" + _NONPROD + r"\b|"
    r"\bnur (?:f[uü]r |in |auf )?(?:die |der |dem )?(?:test|schulung|staging)\w*|"
    r"\bs[oó]lo (?:en |para )?(?:pruebas|staging|formaci[oó]n|test)\b|"
    r"\buniquement (?:en |pour |sur )?(?:recette|test|formation|staging)\b|"
    r"仅(?:限|用于)?测试|只在测试|テスト環境(?:のみ|だけ)|검증\s*환경\s*전용|테스트\s*환경에서만"
)

# A person's call on the way back, in the forms round 11 showed missing: "only the DBA can
# decide this", "Si Ate Joy (DBA on-call) lang ang puwedeng mag-desisyon", "且组长批准后，才…",
# "rozhodne vedúci tímu", "kun vagtlederen beslutter", "само дежурният решава", "only the lead
# may approve it" (rules.person_decides reads it; rollback_people makes the way back the
# phase's rollback decision). Not "Proceed only after the lead's sign-off": on the forward path
# that is a pause before what follows, not a choice.
DECIDES = (
    r"\bonly\s+(?:the\s+)?[\w# -]{1,40}?\s+(?:can|may|is allowed to|gets to)\s+(?:decide|approve|"
    r"make (?:that|this|the) call|authori[sz]e)\b|"
    r"\b(?:mag-?desisyon|magdesisyon|magpasya|pumayag|aprubahan)\b|"
    r"批准后|同意后|批准|審批|承認後|承認を得て|判断します|승인 후|승인한|"
    r"\brozhodne\b|\brozhodnutie\b|\bodlu[cč]i\b|\bodlu[cč]uje\b|\bodobri\b|\bodobrenj\w*|"
    r"\bbeslutter\b|\bbestemmer\b|\bgodkender\b|\bgodkjenner\b|\bgodkänner\b|"
    r"\bрешава\b|\bодобри\b|\bодобрение\b|\bdecideix\b|\baprova\b|\bmemutuskan\b|\bmeluluskan\b|"
    r"\bmenyetujui\b|\bmenyetujuinya\b"
)

# A wait of a day or more written in hours, before what follows: "Keep blue running for 48
# hours after the switch. Only then:", "Plavo okruženje ostaje upaljeno 48 sati nakon
# prebacivanja. Tek onda:", "72 timer efter skiftet" — a cleanup days later, never part of the
# rollback or of the run that just switched.
LONG_WAIT = (
    r"\b(?:for|after)\s+(?:at least\s+|another\s+)?(?:2[4-9]|[3-9]\d|\d{3})\s*(?:hours?|hrs?|h)\b|"
    r"\b(?:2[4-9]|[3-9]\d|\d{3})\s*(?:hours?|hrs?|h|sati|timer|timmar|godzin|hodin|hod[ií]n|"
    r"heures|horas|stunden|ore|uur|jam|oras|часа|часов|ч)\s+(?:after|nakon|poslije|posle|efter|"
    r"etter|po|apr[eè]s|despu[eé]s|nach|dopo|na|selepas|setelah|pagkatapos|после|след)\b|"
    r"(?:2[4-9]|[3-9]\d|\d{3})\s*(?:小时|時間|시간)\s*(?:后|後|후|以上)"
)

# A case of a rollback told by WHEN it happens: "Before 6.3 (Aurora not failed over yet),
# aborting is cheap:" / "After 6.3, rolling back means failing Aurora back:", "Before the
# cut-over:", "Nach Schritt 4:", "Après l'étape 5 :" — two such ways are one or the other,
# never both run (rollback_cases.py).
WHEN_CASE = (
    r"^[\W_]*(?:before|after|once past|vor|nach|avant|apr[eè]s|antes de|despu[eé]s de|"
    r"prima di|dopo|voor|na|f[oö]re|efter|przed|po|sebelum|selepas|setelah|bago|pagkatapos)\s+"
    r"(?:(?:step|phase|stage|schritt|phase|[ée]tape|paso|fase|stap|steg|trin|krok|langkah)\s+)?"
    r"(?:\d+(?:\.\d+)*\b|(?:the |der |die |dem |la |le |l['’]|el |o |a )?(?:cut[\s-]?over|"
    r"switch(?:over)?|fail[\s-]?over|migration|promotion|swap|flip|dns change|umschaltung|"
    r"bascule|conmutaci[oó]n))"
)

# "…, page the service owner, do not roll back the rules.", "no rollback needed", "kein
# Rollback", "ne revenez pas en arrière", "no cal tirar enrere": the paragraph says the case is
# NOT a way back, so the fence after it is no recovery action.
NO_ROLLBACK = (
    r"\b(?:do not|don['’]t|never|no need to|not)\s+(?:\w+\s+)?(?:roll(?:ing)?[\s-]?back|revert)\b|"
    r"\bno (?:rollback|revert) (?:is )?(?:needed|necessary|required)\b|\bkein(?:en)? rollback\b|"
    r"\bnicht zur[uü]ckrollen\b|\bne (?:revenez|faites) pas (?:en arri[eè]re|de rollback)\b|"
    r"\bno (?:hagas|hace falta|cal) (?:rollback|revertir|tirar enrere|volver atr[aá]s)\b"
)

# "Only after the IC says go (…):", "Proceed only once the DBA gives the OK": the run pauses for
# that person's word, then goes on (rules.HUMAN reads it: a pause, not a choice).
HUMAN_GATE = (
    r"\bonly (?:after|once|when) (?:the |a |an |our )?[\w# -]{1,40}?(?:'s|’s)?\s+(?:says? "
    r"(?:go|ok|okay|yes)|gives? (?:the |their |his |her )?(?:go|ok|okay|green light|approval)|"
    r"approv\w*|sign[\s-]?off|go[\s-]?ahead)\b"
)
