"""Word tables from blind round 10 (issue 11): the safety classes in the languages the importer
claims (es, pt, fr, de, it, nl, sv, pl, cs, ru, uk, tr, ro, hu, fi, el, ar, fa, he, hi, vi, th,
id, ja, ko, zh) where rules.py, languages.py and words9.py had gaps. rules.py appends each
fragment to its table (one alternation more), so every rule that reads a table reads these too.

Fragments are compiled case-insensitively. The broad words ("Palautus", "Quay lại", "بازگشت")
are read only where a heading or lead-in STARTS with them (or after "Step 6 —", "4."), never
inside a sentence, so "quay lại trang chủ" in prose is not a way back.
"""

from __future__ import annotations

# Where a heading or lead-in starts: the beginning, or after "Step 6 —" / "Schritt 3:" / "4.".
_START = r"(?:^|[—–:|]\s*|\s-\s)[\W_]*(?:\d{1,2}(?:\.\d{1,2})*[.)]?\s+)?"

# A heading naming the way back (or the halt of a staged rollout): "## Visszaállás",
# "## Palautus", "## Quay lại", "## بازگشت", "## Parar o lançamento", "## Revenire",
# "## Возврат", "## Повернення", "## Obnovení", "## Återgång", "## 복구", "## 撤销变更".
ROLLBACK = (
    _START + r"(?:"
    # Hungarian: visszaállás / visszaállítás / visszagörgetés / visszatérés
    r"vissza(?:[aá]ll[ií]t|[aá]ll[aá]s|g[oö]rget|t[eé]r[eé]s|von[aá]s)|"
    # Finnish: palautus / palauttaminen / paluu / peruutus / peruuttaminen
    r"palautu|palautta|paluu\b|peruutu|peruutta|"
    # Vietnamese: quay lại / quay lui / trở lại phiên bản
    r"quay (?:l[aạ]i|lui)\b|tr[oở] l[aạ]i (?:b[aả]n|phi[eê]n)|"
    # Farsi: بازگشت / برگرداندن / بازگردانی / عقب‌گرد
    r"بازگشت|برگرداندن|بازگردان|عقب[\u200c ]?گرد|"
    # Romanian: revenire / revenirea / anulare / întoarcere la
    r"revenire|anular(?:e|ea)\b|[îi]ntoarcere la|"
    # Spanish / Portuguese / French / Italian: marcha atrás, volver a, deshacer, desfazer,
    # annulation, annullamento, revenir à
    r"marcha atr[aá]s|volver a la (?:versi[oó]n|anterior)|deshacer|desfazer|"
    r"annulation|annullamento|revenir (?:[àa] la version|en arri[eè]re)|"
    r"voltar (?:[àa] vers[aã]o|para a vers[aã]o)|"
    # German / Dutch / Swedish: Rücknahme, Herstel, Återgång
    r"r[uü]cknahme|herstel\b|herstellen\b|[aå]terg[aå]ng|"
    # Czech / Russian / Ukrainian: obnovení, возврат, восстановление, отмена изменений,
    # повернення, відновлення
    r"obnoven[ií]|возврат|восстановлени|отмена (?:изменени|релиза|выкатк)|"
    r"повернення|відновлення|скасування (?:змін|релізу)|"
    # Turkish: eski sürüme dönüş
    r"eski s[uü]r[uü]me d[oö]n|"
    # Arabic / Hebrew / Hindi: العودة، استعادة، שחזור، גלגול לאחור، पुनर्स्थापना، पूर्ववत
    r"العودة|استعادة|שחזור|גלגול לאחור|पुनर्स्थापन|पूर्ववत|"
    # Thai / Indonesian: กู้คืน, pengembalian
    r"กู้คืน|pengembalian|kembali ke\b|"
    # Japanese / Korean / Chinese: 復旧, 戻す, 복구, 되돌림, 이전 버전으로, 撤销, 撤回
    r"復旧|戻す|복구|되돌림|이전 버전으로|撤销|撤回"
    r")|"
    # (no word boundaries in Japanese: "元のバージョンに戻す", "旧版に戻す" anywhere in a heading)
    r"(?:バージョン|版|状態|設定)に戻す|"
    # Halting a staged rollout: "## Parar o lançamento", "## Halt the rollout", "## Detener el
    # despliegue", "## Arrêter le déploiement", "## Rollout stoppen", "## Interrompere il rilascio"
     + _START + r"(?:"
    r"(?:halt|stop|pause)(?:ing)? (?:the )?(?:rollout|release|deploy(?:ment)?|launch)|"
    r"(?:parar|interromper|suspender) (?:o |a )?(?:lan[cç]amento|implanta[cç][aã]o|"
    r"rollout|distribui[cç][aã]o)|"
    r"(?:detener|parar|interrumpir) (?:el |la )?(?:despliegue|lanzamiento|rollout)|"
    r"(?:arr[eê]ter|stopper|interrompre) (?:le |la )?(?:d[ée]ploiement|lancement|rollout)|"
    r"(?:rollout|release|deployment|bereitstellung) (?:an)?(?:halten|stoppen)|"
    r"(?:interrompere|fermare) (?:il |la )?(?:rilascio|rollout|distribuzione)"
    r")"
)

# A lead-in naming trouble: "Ha a `pg_upgradecluster` hibával áll le, …:", "Dacă migrarea
# eșuează:", "Jos päivitys epäonnistuu:", "Nếu bị lỗi:", "اگر خطا دیدید:", "Eğer başarısız
# olursa:", "Se falhar:", "إذا فشل", "अगर विफल हो", "失敗したら". Anchored at the start.
CONDITIONAL = (
    # "If the pipeline cannot fetch the cache:", "When the node is unreachable:", "If the
    # pod keeps crashing:": a failure said with "cannot / unable / unreachable / crash"
    r"^[\W_]*(?:[^,.:;\n]{1,40},\s*)?(?:if|when|should|in case)\b[^.]{0,120}?\b(?:cannot|"
    r"can['’]?t|can not|could not|couldn['’]t|unable to|won['’]t (?:start|come|connect|"
    r"fetch|load|boot|resolve)|will not (?:start|come|connect)|refuses? to|(?:is|are) "
    r"(?:unreachable|down|not reachable|not ready|crash\w*)|crash(?:es|ed|ing)?|hangs?)\b|"
    # "## Pre-mortem: what could go wrong", "## Failure scenarios", "## Was schiefgehen kann":
    # the commands a person would reach for in each case, never steps of the run
    r"^[\W_]*(?:pre[\s-]?mortem|what (?:could|can|might|may) go wrong|failure (?:scenarios|"
    r"modes)|risks? (?:and|&) mitigations?|known (?:failure|issue)s?\b|was schief\s?gehen kann|"
    r"ce qui peut mal tourner|qu[eé] puede salir mal|o que pode dar errado|cosa pu[oò] andare "
    r"storto|wat er mis kan gaan|что может пойти не так|co m[uů][zž]e j[ií]t [sš]patn[eě]|"
    r"co mo[zż]e p[oó]j[sś][cć] nie tak)|"
    r"^[\W_]*(?:"
    r"ha\b[^.]{0,80}?(?:hib|sikertelen|nem siker|meghi[uú]sul|le[aá]ll|probl[eé]m)|"
    r"hiba (?:eset[eé]n|ad[oó]d[aá]sa)|"
    r"dac[aă]\b[^.]{0,80}?(?:e[sș]ue|e[sș]ec|eroare|erori|nu merge|nu func[tț]ion|probleme)|"
    r"[îi]n caz de (?:eroare|e[sș]ec|probleme)|"
    r"jos\b[^.]{0,80}?(?:ep[aä]onnistu|virhe|ongelm|ei toimi)|"
    r"(?:virhe|ongelma)tilantee(?:ssa|t)|"
    r"n[eế]u\b[^.]{0,80}?(?:l[oỗ]i|th[aấ]t b[aạ]i|s[uự] c[oố]|kh[oô]ng ho[aạ]t [dđ][oộ]ng)|"
    r"khi c[oó] (?:l[oỗ]i|s[uự] c[oố])|"
    r"اگر[^.]{0,80}?(?:خطا|شکست|مشکل|ناموفق|کار نکرد)|در صورت (?:خطا|بروز|شکست)|"
    r"إذا[^.]{0,80}?(?:فشل|خطأ|مشكلة)|في حال(?:ة)? (?:الفشل|حدوث|الخطأ)|"
    r"(?:e[gğ]er\s+)?[^\n]{0,60}?ba[sş]ar[ıi]s[ıi]z ol(?:ursa|ur ise)|"
    r"(?:अगर|यदि)[^।]{0,80}?(?:विफल|फ़ेल|फेल|त्रुटि|समस्या|गड़बड़)|"
    r"agar\b[^.]{0,80}?(?:fail|error|gadbad|problem)"
    r")|"
    # (no word boundaries in Japanese / Korean: anywhere in the lead-in)
    r"(?:失敗|エラー)(?:したら|なら|すると)|(?:실패|오류)(?:했다면|가 나면)"
)

# "(opțional)", "(valinnainen)", "(tùy chọn)", "(اختیاری)", "(isteğe bağlı)", "(facoltativo)",
# "(optioneel)", "(valfritt)", "(opcjonalnie)", "(volitelné)", "(необязательно)", "(任意)",
# "(선택 사항)": the reader may skip it. And the "only if / only when" lead-ins of the other
# languages ("Chỉ khi …:", "Doar dacă …:", "Csak ha …:", "Vain jos …:", "Только если …:",
# "Solo si …:", "Nur wenn …:", "فقط اگر …:", "仅当…"): a condition a person checks.
OPTIONAL = (
    r"\(\s*(?:opt[iț]ional|op[tț]ional[aă]?|valinnainen|vapaaehtoinen|opcion[aá]lis|"
    r"nem k[oö]telez[oő]|t[uù]y ch[oọ]n|kh[oô]ng b[aắ]t bu[oộ]c|اختیاری|اختياري|"
    r"iste[gğ]e ba[gğ]l[ıi]|opsiyonel|facoltativo|opzionale|optioneel|valfri(?:tt)?|"
    r"opcjonaln(?:ie|y)|voliteln[eé]|необязательно|опционально|необов['’]язково|"
    r"προαιρετικ[όά]|אופציונלי|वैकल्पिक|opsional|ไม่บังคับ|任意|선택(?:\s*사항)?|可选|optional)"
    r"\s*(?:[,;:—–-][^)]{0,80})?\)|"
    r"^[\W_]*(?:op[tț]ional|valinnainen|opcion[aá]lisan|t[uù]y ch[oọ]n|opcjonalnie|"
    r"volitelně|необязательно|опционально|facoltativo|optioneel)\s*[:：]|"
    r"^[\W_]*(?:ch[iỉ] (?:khi|n[eế]u)|doar (?:dac[aă]|[îi]n cazul)|numai dac[aă]|"
    r"csak (?:akkor,?\s*)?(?:ha|amikor)\b|vain (?:jos|kun)\b|ainoastaan (?:jos|kun)\b|"
    r"только (?:если|когда|при)\b|лише (?:якщо|коли)\b|тільки (?:якщо|коли)\b|"
    r"tylko (?:je[sś]li|je[zż]eli|gdy)\b|(?:pouze|jen) (?:pokud|kdy[zž])\b|"
    r"solo (?:si|cuando|se)\b|s[oó] (?:se|quando)\b|somente (?:se|quando)\b|apenas (?:se|quando)\b|"
    r"seulement (?:si|quand)\b|uniquement (?:si|quand|en cas)\b|nur (?:wenn|falls)\b|"
    r"alleen (?:als|indien|wanneer)\b|(?:endast|bara) (?:om|n[aä]r)\b|"
    r"μόνο (?:αν|εάν|όταν)|فقط (?:اگر|در صورت|إذا|عندما)|רק אם|केवल (?:तभी|अगर|यदि)|"
    r"hanya (?:jika|bila|kalau)\b|เฉพาะ(?:เมื่อ|กรณี)|仅当|只有在|仅在)|"
    r"(?:場合|とき)のみ|경우에만"
)

# Work the document puts a day or more later: "(holnap)", "másnap", "a doua zi", "mâine",
# "huomenna", "seuraavana päivänä", "ngày mai", "ngày hôm sau", "فردا", "روز بعد", "bir hafta
# sonra", "на следующий день", "наступного дня", "następnego dnia", "al día siguiente", "no
# dia seguinte", "le lendemain", "am nächsten Tag", "il giorno dopo", "de volgende dag", "after
# 24 h", "پس از ۲۴ ساعت": a person says when the time has come.
DEFERRED = (
    r"\bholnap\b|\bm[aá]snap\b|\begy h[eé]t m[uú]lva\b|\b\d+ (?:nap|h[eé]t|[oó]ra) m[uú]lva\b|"
    r"\bm[aâ]ine\b|\ba doua zi\b|\bpeste (?:o|\d+) (?:s[aă]pt[aă]m[aâ]n|zi|zile)|"
    r"\bdup[aă] \d+ (?:de )?(?:ore|zile|s[aă]pt[aă]m[aâ]ni)\b|"
    r"\bhuomenna\b|\bseuraavana p[aä]iv[aä]n[aä]\b|\b(?:viikon|\d+ (?:p[aä]iv[aä]n|viikon|"
    r"tunnin)) (?:kuluttua|p[aä][aä]st[aä])\b|"
    r"\bng[aà]y mai\b|\bng[aà]y h[oô]m sau\b|"
    r"\bsau (?:\d+|m[oộ]t|hai|ba) (?:ng[aà]y|tu[aầ]n|gi[oờ])\b|"
    r"\b(?:m[oộ]t|hai|ba) (?:ng[aà]y|tu[aầ]n) sau\b|"
    r"فردا|روز بعد|(?:پس از|بعد از) [\d۰-۹]+ ?(?:ساعت|روز|هفته)|یک هفته بعد|"
    r"غدًا|غدا\b|في اليوم التالي|بعد (?:أسبوع|يوم|[\d٠-٩]+ (?:ساعة|أيام|يوم))|"
    r"\b(?:bir|iki|[uü][cç]) (?:g[uü]n|hafta|ay) sonra\b|\byar[ıi]n\b|\bertesi g[uü]n\b|"
    r"на следующий день|\bзавтра\b|наступного дня|\bnast[eę]pnego dnia\b|\bjutro\b|"
    r"\bn[aá]sleduj[ií]c[ií] den\b|\bz[ií]tra\b|"
    r"\bal d[ií]a siguiente\b|\bma[ñn]ana\b(?! por la)|\bno dia seguinte\b|\bamanh[aã]\b|"
    r"\ble lendemain\b|\bdemain\b|\bam n[aä]chsten tag\b|\bil giorno dopo\b|\bdomani\b|"
    r"\bde volgende dag\b|\b(?:i ?morgon|n[aä]sta dag)\b|\bτην επόμενη (?:μέρα|ημέρα)|αύριο|"
    r"למחרת|\bמחר\b|अगले दिन|\bbesok\b|keesokan harinya|พรุ่งนี้|วันถัดไป|翌日|明日|次日|"
    r"내일|다음\s*날|"
    r"\b(?:after|in)\s+\d+\s*h\b|"
    r"\b(?:a|one) (?:day|week) later\b"
)

# "this is the point of no return", "there is no going back after this", "kein Zurück", "point
# de non-retour", "punto de no retorno", "ponto sem volta", "punto di non ritorno", "точка
# невозврата": a person confirms before the run goes past it (a manual gate).
HUMAN = (
    r"\bpoint of no return\b|\bno going back\b|\bcannot be (?:undone|rolled back|reverted)\b|"
    r"\bkein zur[uü]ck\b|nicht (?:mehr )?r[uü]ckg[aä]ngig|point de non[\s-]retour|"
    r"punto de no retorno|ponto (?:sem|de n[aã]o) (?:volta|retorno)|punto di non ritorno|"
    r"point of geen terugkeer|точк\w* невозврата|точк\w* неповернення|punkt bez powrotu|"
    r"d[oö]n[uü][sş][uü] olmayan nokta|punctul f[aă]r[aă] [îi]ntoarcere|"
    r"nem lehet visszavonni|visszaford[ií]thatatlan|paluuta ei ole|"
    r"kh[oô]ng th[eể] (?:ho[aà]n t[aá]c|quay l[aạ]i)|نقطه بی‌?بازگشت|نقطة اللاعودة|"
    r"元に戻せない|되돌릴 수 없|无法回滚|不可逆"
)

# A lead-in that opens with the weaker action: "Pause (do not continue to the next step, page
# the traffic lead) when:", "Halt the ramp if:", "Anhalten, wenn:", "Pausar si:", "Mettre en
# pause si :", "Приостановите, если:", "Duraklatın:": the list under it pauses, even under a
# "Rollback triggers" heading (the nearest lead-in says what this list does).
LEAD_PAUSE = (
    r"^[\W_]*(?:pause|halt|freeze|hold|stop (?:the )?(?:ramp|rollout|promotion)|"
    r"pausier|anhalten|pausar|detener|parar|mettre en pause|suspend|interromp|"
    r"приостанов|пауза|остановит|wstrzymaj|pozastav|duraklat|felf[uü]ggeszt|keskeyt|"
    r"t[aạ]m d[uừ]ng|暂停|一時停止|일시\s*중지)"
)

# Blind round 10: waits and decisions written as prose, in the wordings the HUMAN tables lacked:
# "hold each weight 15 minutes", "Каждое значение держим 15 минут", "Between regions we wait one
# business day", "## Ba ngày trước (T-3)", "If not, wait for them or cancel them — your call",
# "팀장 승인 후에만 진행합니다", "erről az ügyeletes DBA dönt", "dan **niet** doorgaan".
HUMAN_WAITS = (
    r"\bhold (?:each|every) (?:weight|step|value|stage|percentage)\b[^.\n]{0,20}?\b\d+\s*"
    r"(?:minutes?|mins?|hours?|h)\b|"
    r"(?:держ(?:им|ите|ать)|выдерживаем|выдержите)\b[^.\n]{0,20}?\d+\s*(?:минут|час)|"
    r"\bwait (?:one|a|\d+|two|three) (?:business|working) days?\b|"
    r"\(\s*T\s*[-−]\s*\d+\s*(?:d|h|days?)?\s*\)\s*$|"
    r"\b(?:your|the operator['’]s) (?:call|decision|choice)\b|\bup to you\b|"
    r"\bat your (?:own )?discretion\b|"
    r"승인\s*(?:후에만|후|을 받은 후)|"
    r"\b(?:DBA|vezet[oő]|[uü]gyeletes|felel[oő]s)\b[^.\n]{0,30}\bd[oö]nt\b|"
    r"\bniet\W{1,4}(?:doorgaan|verdergaan)\b|"
    r"\b(?:one|uma|una|une|eine|un[ae]?) (?:line|linha|l[ií]nea|ligne|zeile|row|riga) "
    r"(?:per|por|par|pro|al|a) (?:day|dia|d[ií]a|jour|tag|giorno)\b|"
    # "Toista jokaiselle alueelle", "Ismételd minden régióra", "Repetați pentru fiecare",
    # "Lặp lại cho từng vùng", "برای هر منطقه تکرار کنید", "Herhaal voor elke", "Repita para
    # cada", "Repite para cada": the same steps again elsewhere, by a person (one pause)
    r"^[\W_]*(?:toista|ismételd|ism[eé]teld|repeta[tț]i|repet[aă]|l[aặ]p l[aạ]i|repita|repite|"
    r"herhaal)\b|تکرار کنید"
)

# "if" in the languages words9.IF_WORDS lacks (a lead-in stating a condition: "Palauta alue, jos
# virheprosentti ylittää 2 % viiden minuutin ajan:", "Ha a hibaarány 2 % fölé megy:", "Dacă
# rata erorilor depășește 2 %:", "اگر نرخ خطا از ۲٪ بیشتر شد:").
IF_WORDS = r"jos|ha|dac[aă]|اگر|إذا|यदि"
