"""Word tables from blind round 12 (issue 11): the way back in the Baltic languages and Finnish,
trouble written as "it hangs / stalls / gets stuck / something goes wrong" in many languages,
an "in that case" sentence, "only if" in the forms round 12 showed
missing, and work put in the next sprint, week or quarter. rules.py appends each fragment to its
table (one alternation more), so every rule that reads a table reads these.

Fragments are compiled case-insensitively; the broad ones are anchored where a heading or
lead-in starts (or, for "in that case", where a sentence starts).
"""

from __future__ import annotations

_START = r"(?:^|[—–:|]\s*|\s-\s)[\W_]*(?:\d{1,2}(?:\.\d{1,2})*[.)]?\s+)?"

# A heading naming the way back: Lithuanian (atšaukimas, atstatymas, grąžinimas, atkūrimas),
# Latvian (atcelšana, atjaunošana, atgriešana, atritināšana), Estonian (tagasipööramine,
# tagasivõtmine, taastamine), Finnish (peruminen, peruutus, perutaan).
ROLLBACK = (
    _START + r"(?:"
    r"at[sš]aukim|atstatym|gr[aą][zž]inim|atk[uū]rim|gr[iį][zž]imas [iį]|"
    r"atcel[sš]an|atjauno[sš]an|atgrie[sš]an|atritin[aā][sš]an|"
    r"tagasip[oö][oö]ram|tagasiv[oõ]tm|taastami|"
    r"perumi|peruutu|perutaan\b"
    r")"
)

# Trouble that is no "failure" word: it hangs, stalls, freezes, gets stuck; something goes
# wrong or sideways. Anchored at the start ("If …", "Ako …", "Dacă …", "Kiedy …").
_IF = (
    r"(?:if|when|should|ako|ukoliko|kad|dac[aă]|c[aâ]nd|je[sś]li|je[zż]eli|kiedy|gdy|pokud|"
    r"kdy[zž]|jos|kun|e[gğ]er|ha|amikor|якщо|коли|если|когда|jika|kalau|n[eế]u|khi|jei|kai|ja|"
    r"kui|se|si|wenn|falls|om|als|hvis|αν|εάν|אם|अगर|यदि|หาก|ถ้า)"
)
_TROUBLE = (
    # English: stalls, hangs, hung, freezes, frozen, gets stuck, goes sideways, anything goes
    # wrong
    r"stall(?:s|ed)?\b|hang(?:s|ing)?\b|\bhung\b|freez(?:es|ing)?\b|frozen\b|sideways|"
    # Serbian / Croatian / Bosnian: krene naopako, pođe po zlu, zaglavi, zablokira
    r"krene naopako|po[dđ]e po zlu|zaglavi|zablokira|"
    # Romanian: se blochează, se agață, nu merge, merge prost
    r"se bloc(?:heaz|hea)|se aga[tţț]|nu merge|merge prost|"
    # Polish / Czech / Slovak: zawiesi, utknie, pójdzie nie tak; zasekne, zamrzne, pokazí
    r"zawiesi|utknie|p[oó]jdzie nie tak|zasekne|zamrzne|pokaz[ií]|zasekne sa|"
    # Finnish / Turkish / Hungarian: jumittuu, menee pieleen; takılır, donarsa, ters gider;
    # elakad, lefagy, elromlik
    r"jumit|menee pieleen|tak[ıi]l[ıi]r|donars?a|ters gider|elakad|lefagy|elroml|"
    # Ukrainian / Russian: зависне, застрягне, піде не так; зависнет, застрянет, пойдёт не так
    r"зависн|застрягн|застрян|піде не так|пойд[её]т не так|"
    # Indonesian / Vietnamese: macet, ada yang salah; bị treo, có sự cố
    r"macet|ada yang salah|b[iị] treo|c[oó] s[uự] c[oố]|"
    # Lithuanian / Latvian / Estonian: nepavyks, strigs, nepavyksta; noiet greizi, uzkaras;
    # läheb valesti, jääb kinni
    r"nepavyk|strig|noiet greizi|uzkar|l[aä]heb valesti|j[aä][aä]b kinni|"
    # Greek / German / Dutch / Swedish / Norwegian / Danish: κολλήσει; hängt, hängen bleibt;
    # blijft hangen; hänger sig, fastnar; henger seg; hænger
    r"κολλ[ήη]σει|h[aä]ngt\b|h[aä]ngen bleibt|blijft hangen|h[aä]nger sig|fastnar|henger seg|"
    r"h[æa]nger\b|"
    # Spanish / Portuguese / Italian / French: se cuelga, se atasca; travar, trava; si blocca;
    # se bloque, se fige
    r"se cuelga|se atasca|travar|trava\b|si blocca|se bloque|se fige"
)
CONDITIONAL = (
    r"^[\W_]*(?:[^,.:;\n]{1,40},\s*)?" + _IF + r"\b[^.\n]{0,100}?\b(?:" + _TROUBLE + r")|"
    # Turkish puts "if" in a suffix: "Bir şeyler ters giderse", "İş takılırsa", "donarsa"
    r"^[\W_]*[^.\n]{0,60}?\b(?:ters giderse|tak[ıi]l[ıi]rsa|donarsa|ask[ıi]da kal[ıi]rsa)|"
    # "… In that case delete the change set:", "Nesse caso apague …", "Dans ce cas …": the
    # sentence does what the sentence before it conditions
    r"(?:^|[.!?]\s+|\n)[\W_]*(?:in (?:that|this|such a) case|if so|nesse caso|neste caso|em caso "
    r"afirmativo|en ese caso|en tal caso|dans ce cas|in diesem fall|in dem fall|in tal caso|in "
    r"questo caso|in dat geval|i s[aå] fall|i det fall|w takim (?:przypadku|razie)|v takov[eé]m "
    r"p[rř][ií]pad[eě]|t[aä]ss[aä] tapauksessa|siin[aä] tapauksessa|bu durumda|ebben az "
    r"esetben|[iî]n acest caz|в этом случае|в таком случае|у такому (?:разі|випадку)|dalam hal "
    r"ini|jika demikian|trong tr[uư][oờ]ng h[oợ]p (?:đó|này)|tokiu atveju|"
    r"[sš]aj[aā] gad[iī]jum[aā]|"
    r"sel juhul|σε αυτή την περίπτωση|במקרה (?:כזה|זה)|उस स्थिति में|ในกรณีนี้|이 경우|その場合|"
    r"(?:在)?这种情况下)\b"
)

# "Only if …" in the forms round 12 showed missing: Lithuanian (tik jei, tik tuo atveju),
# Latvian (tikai ja), Estonian (ainult siis, kui), Turkish (yalnızca … ise / sadece … ise).
ONLY_IF = (
    r"^[\W_]*(?:\*\*|__)?(?:tik (?:jei|tuo atveju|tada,? kai)|tikai (?:ja|tad,? ja)|"
    r"ainult (?:siis,? )?kui|(?:yaln[ıi]zca|sadece)\b[^.\n]{0,60}?(?:ise|ysa|yse|durumunda)\b)"
)

# Work put in the next sprint, week, quarter or release: a person says when the time has come.
DEFERRED = (
    r"\bnext (?:sprint|quarter|release|iteration)\b|\bsonraki (?:sprint|hafta|çeyrek)|"
    r"επόμεν(?:ο|η) (?:sprint|εβδομάδα)|다음\s*(?:주|스프린트|분기|릴리스)|"
    r"n[aą]st[eę]pn(?:y|ym|ej) (?:sprint|tydzie[nń]|kwarta)|p[rř][ií][sš]t[ií]m? (?:sprint|t[ýy]d)|"
    r"seuraava(?:ssa)? (?:sprint|viik)|k[oö]vetkez[oő] (?:sprint|h[eé]t)|"
    r"sprintul urm[aă]tor|s[aă]pt[aă]m[aâ]na viitoare|"
    r"следующ\w* (?:спринт|недел)|наступн\w* (?:спринт|тижн)|"
    r"sprint berikutnya|minggu depan|sprint ti[eế]p theo|tu[aầ]n sau|"
    r"prossim[oa] (?:sprint|settimana)|pr[oó]xim[oa] (?:sprint|semana)|"
    r"prochain(?:e)? (?:sprint|semaine)|n[aä]chste[nrm]? (?:sprint|woche)|"
    r"volgende (?:sprint|week)|n[aä]sta (?:sprint|vecka)|neste (?:sprint|uke)|"
    r"n[æa]ste (?:sprint|uge)|"
    r"kit(?:as|ą) (?:sprint|savait)|n[aā]kam(?:ais|aj[aā]) (?:sprint|ned[eē][lļ])|"
    r"j[aä]rgmine (?:sprint|n[aä]dal)|来週|下周|下一个?(?:冲刺|迭代)|הספרינט הבא|השבוע הבא|"
    r"अगले (?:स्प्रिंट|सप्ताह|हफ़्ते)|สัปดาห์หน้า|สปรินต์ถัดไป"
)

# "## Emergency procedures" in other languages (rules.REFERENCE reads the English one): what
# the on-call does in a crisis, a note to consult, never the path ("## Krizový postup (uzel je
# mrtvý)" over `nova evacuate`).
EMERGENCY = (
    r"krizov[ýy] postup|nouzov[ýy] postup|havarijn[ií] postup|procedura awaryjna|"
    r"postępowanie awaryjne|acil durum (?:prosed[uü]r|i[sş]lem)|h[aä]t[aä]menettely|"
    r"n[oö]dprocedur|n[oø]dprosedyre|proc[ée]dure d['’]urgence|notfall(?:verfahren|prozedur)|"
    r"procedimiento de emergencia|procedura di emergenza|procedimento de emerg[eê]ncia|"
    r"аварийн\w* (?:процедур|порядок)|аварійн\w* (?:процедур|порядок)|"
    r"v[ée]szhelyzeti elj[aá]r[aá]s|"
    r"procedur[aă] de urgen[tț][aă]|prosedur darurat|quy tr[iì]nh kh[aẩ]n c[aấ]p|긴급\s*절차|"
    r"緊急(?:時)?手順|紧急(?:流程|预案)|[έε]κτακτη διαδικασ[ίι]α|נוהל חירום|आपातकालीन प्रक्रिया|"
    r"ขั้นตอนฉุกเฉิน|avarin[eė] proced[uū]r|avārijas procedūr|h[aä]daolukorra protseduur"
)
