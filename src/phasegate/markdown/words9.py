"""Word tables from blind round 9 (issue 11): wordings of the same classes that rules.py,
languages.py and listings.py did not read yet. rules.py appends each fragment to its table
(one alternation more), so every rule that reads a table reads these too.

Fragments are unanchored unless they say otherwise and compiled case-insensitively.
"""

from __future__ import annotations

# A heading or sentence naming the way back: "## Going back", "Go back to the previous tag",
# "## Zurück auf 5.1", "## Kembali ke S3", "## Επαναφορά", "## 回滾" (traditional Chinese),
# "## การยกเลิก" (Thai: the abort), "## חזרה לגרסה הקודמת", "## Tillbakarullning".
ROLLBACK = (
    r"^[\W_]*(?:going|getting|the way|way) back\b|"
    r"\b(?:go|going|switch|switching|roll|fall|falling) back to (?:the )?(?:previous|old|older|"
    r"prior|last|former|earlier|original)\b|"
    r"^[\W_]*(?:zur[uü]ck (?:auf|zu[rm]?|nach)\b|zur[uü]ck$)|"
    r"^[\W_]*kembali ke\b|"
    r"επαναφορ|αναίρεσ|"
    r"回滾|"
    r"การยกเลิก|ยกเลิกการปล่อย|"
    r"חזרה (?:לאחור|לגרסה)|ביטול השינוי|"
    r"tillbakarull|rulla tillbaka|"
    r"повернутися до|відновлення попередн"
)

# A heading or lead-in naming trouble: "Gdy coś pójdzie nie tak", "אם משהו משתבש",
# "Αν κάτι πάει στραβά", "Jika gagal", "หากเกิดปัญหา", "如果出錯", "Om något går fel".
# Anchored at the start.
CONDITIONAL = (
    r"^[\W_]*(?:"
    r"(?:je[sś]li|je[zż]eli|gdy|kiedy)\b[^.]{0,80}?(?:nie tak|przerwie|nie powiod)|"
    r"אם\s[^.]{0,80}?(?:משתבש|נכשל|תקל|בעי|לא עובד|שגיא)|במקרה של (?:תקל|בעי|כשל|שגיא)|"
    r"(?:αν|εάν)\s[^.]{0,80}?(?:στραβά|αποτύχ|αποτυγχάν|σφάλμα|πρόβλημα)|"
    r"σε περίπτωση (?:σφάλματος|προβλήματος|αποτυχίας)|"
    r"(?:jika|kalau|apabila)\s[^.]{0,80}?(?:gagal|error|bermasalah|masalah)|"
    r"(?:หาก|ถ้า)[^.]{0,40}?(?:ล้มเหลว|ผิดพลาด|มีปัญหา|เกิดปัญหา)|"
    r"(?:如果|若|當)[^。]{0,40}?(?:失敗|出錯|錯誤|異常)|"
    r"om\b[^.]{0,80}?(?:något går fel|misslyck)"
    r")"
)

# "Abort criteria", "Rollback conditions" in languages the trigger tables did not read:
# "回滾條件", "เกณฑ์การยกเลิก", "Kriteria kembali", "Κριτήρια επαναφοράς".
TRIGGER = r"條件|เกณฑ์|kriteria|κριτήρι|קריטריונ|умови"

# "(這是繼續的條件，不是回滾條件)", "这些不是回滚原因", "ไม่ใช่เกณฑ์การยกเลิก", "nie są powodem do
# wycofania": the list that follows holds no failure conditions (what a healthy run shows).
NOT_A_REASON = (
    r"(?:不是|並非|并非|不屬於|不属于)[^。\n]{0,12}?(?:條件|条件|原因|理由|觸發|触发)|"
    r"ไม่ใช่[^\n]{0,20}?(?:เกณฑ์|เหตุผล)|"
    r"\bnie (?:s[aą]|jest) (?:powod|przyczyn|warunk)\w*|"
    r"\bbukan (?:alasan|kriteria|syarat)\b|"
    r"\bδεν (?:είναι|αποτελ)\w* (?:λόγος|λόγοι|κριτήρι)\w*"
)

# "Only the DBA on call decides", "(the catalog lead decides)", "at the discretion of the
# commander", "רק ראש הצוות מחליט", "o líder decide", "der Lead entscheidet", "вирішує
# черговий DBA": a person decides whether (or when) what follows is done: a decision, never
# run unasked. Not "the script decides" / "Kubernetes decides" (a program, see PROGRAMS).
DECIDES = (
    r"\b(?:decides|decided by|at the discretion of|makes the call)\b|"
    r"\bentscheide[tn]?\b|\bdécide(?:nt)?\b|\bd[ée]cident\b|\b(?:lo|la|le) decide\b|"
    r"\b(?:el|la|o|a)\s+[\w ]{1,30}?\s+decide\b|\bdecyduj\w*|\brozhoduj\w*|\bbeslutar\b|"
    r"\bbest[aä]mmer\b|\bbeslist\b|вирішу\w*|реша\w*|מחליט\w*|αποφασίζ\w*|\bmemutuskan\b|"
    r"ตัดสินใจ|決定|决定|判断する|결정"
)
# what decides without a person: "the scheduler decides where", "Patroni decides"
PROGRAMS = (
    r"\b(?:script|scheduler|kubernetes|k8s|patroni|controller|operator pod|algorithm|system|"
    r"load balancer|autoscaler|tool|cli|program|pipeline|it)\s+(?:then\s+)?decides\b"
)

# "Skip this step if …", "Pomiń ten krok, jeśli …", "пропустіть цей крок", "Lewati langkah
# ini jika …", "Diesen Schritt überspringen, wenn …", "跳過此步驟": the reader may not do it
SKIP_STEP = (
    r"\bskip (?:this|that|the) (?:step|part|section|command|block)\b|"
    r"\bpomi[nń] (?:ten|t[eę]) (?:krok|cz[eę]ś[cć])|пропусті\w* (?:цей|цю) (?:крок|частин)|"
    r"пропусти\w* (?:этот|эту) (?:шаг|част)|\bp[rř]esko[cč]\w* (?:tento|tuto) (?:krok|[cč][aá]st)|"
    r"\bhoppa [oö]ver (?:detta|det h[aä]r) steg|\blewati langkah ini\b|"
    r"\b(?:diesen|den) schritt [uü]berspring|[uü]berspringen sie (?:diesen|den) schritt|"
    r"\b(?:omite|omita|salta|salte) (?:este|el) paso|\b(?:ignorez|sautez|passez) cette [ée]tape|"
    r"\bpul[ae] (?:esta|essa) etapa|\bsla deze stap over|跳過此步驟|跳过此步骤|跳過這個步驟|"
    r"この手順をスキップ|이 단계를 건너뛰|ข้ามขั้นตอนนี้|דלג על שלב זה|παραλείψτε (?:αυτό το|το) βήμα"
)

# "Αν …:", "Jika …:", "หาก …:", "如果 …：", "Jeśli …:", "Pokud …:", "Om …:", "Якщо …:", "אם …:":
# "if" opening a lead-in that states the condition of what follows (blind round 9)
IF_WORDS = (
    r"αν|εάν|jika|kalau|apabila|bila|หาก|ถ้า|如果|若|假如|je[sś]li|je[zż]eli|gdy|pokud|kdy[zž]|om|"
    r"n[aä]r|якщо|коли|если|когда|אם|כאשר|eğer|nếu|khi"
)
# "2% για 5 λεπτά", "1% selama 10 menit", "1% ติดต่อกัน 5 นาที": a number with a unit a metric
# is read in; the comparison words differ by language, the figure does not
MEASURED = r"\d+(?:[.,]\d+)?\s*(?:%|‰|ms\b|milliseconds?|s\b|sec)"

# Table columns in more languages: "| Βήμα | Εντολή | Αναμονή |", "| Krok | Polecenie |",
# "| Schritt | Befehl |", "| Langkah | Perintah |", "| ขั้นตอน | คำสั่ง |", "| שלב | פקודה |"
COMMAND_COLUMN = (
    r"εντολ|polecen|komend|p[rř][ií]kaz|kommand|befehl|perintah|คำสั่ง|פקוד|команд|comando|"
    r"commande|指令|コマンド|명령|"
    # round 11: Turkish, Hungarian, Romanian, Finnish, Vietnamese, Persian
    r"\bkomut|parancs|comand[aă]|komento|l[eệ]nh\b|دستور"
)
STEP_COLUMN = (
    r"^(?:βήμα|krok|steg|langkah|ขั้นตอน|שלב|крок|шаг|schritt|paso|[ée]tape|passo|步驟|手順|단계)$"
)

# A person's part in the flow, in more wordings (blind round 9): "wait 2×TTL of the old value",
# "Keep lb-old up for 24 hours", "read the diff", "checked by a second person" ("orang kedua",
# "zweite Person", "druga osoba"), "Vänta tills …", a quoted «OK» / "go" someone gives.
HUMAN = (
    r"\bwait\b[^.\n]{0,30}?\b\d*\s*[×x*]?\s*ttl\b|"
    r"\b(?:keep|leave)\b[^.\n]{0,40}?\b(?:up|running|in place|around|online)\s+for\s+"
    r"(?:at least\s+)?\d+\s*(?:hours?|days?|weeks?)\b|"
    r"\b(?:read|review|inspect|check)\s+(?:the\s+)?"
    r"(?:diff|plan output|dry[\s-]run (?:output|summary))\b|"
    r"\b(?:orang kedua|zweite[rn]? (?:person|kolleg\w*)|segunda persona|seconde personne|"
    r"druga osoba|drug(?:iej|a) osob\w*|druh[aá] osoba|andra person|andre person|tweede persoon|"
    r"второй человек|друга людина)\b|"
    r"^[\W_]*(?:\d+[.)]\s*)?(?:v[aä]nta tills|vent til|czekaj,? a[zż]|po[cč]kejte,? a[zž]|"
    r"tunggu (?:sampai|hingga)|รอจน|המתן עד|περιμένετε μέχρι|зачекайте,? доки|дождитесь|"
    r"wacht tot|attendez que|espere (?:hasta|at[eé]) que|warte(?:n)? bis)|"
    r"[\"«„“']\s*(?:go|ok|οκ|ок)\s*[\"»“”']|"
    # "Then do the other host.", "Do the same on the remaining nodes", "Danach dasselbe auf
    # WEB-P-02", "Potem to samo na drugim serwerze": a person repeats it elsewhere
    r"^[\W_]*(?:then\s+)?(?:do|run|repeat)\s+(?:it\s+|this\s+)?(?:the\s+same\s+)?"
    r"(?:(?:on|for)\s+)?(?:the\s+)?(?:other|next|remaining|second)\s+(?:hosts?|nodes?|servers?|"
    r"machines?|regions?|clusters?|data\s?cent(?:er|re)s?|dcs?)\b|"
    r"^[\W_]*(?:danach|dann|anschlie[sß]end)\s+(?:das\s*selbe|dasselbe|das gleiche)\s+"
    r"(?:auf|f[uü]r|mit)\b|"
    r"^[\W_]*(?:potem|nast[eę]pnie)\s+to samo na\b|^[\W_]*(?:pak|potom)\s+tot[eé][zž] na\b|"
    r"^[\W_]*(?:sedan|d[aä]refter)\s+samma (?:sak )?p[aå]\b"
)
