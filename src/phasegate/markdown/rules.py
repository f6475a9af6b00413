"""What headings and lead-in text mean: phase, rollback, verification, checklist, metadata."""

from __future__ import annotations

import re

from phasegate.markdown import (
    languages,
    words9,
    words10_safety,
    words11,
    words11_safety,
    words12_safety,
)
from phasegate.markdown.memo import memo

# Some text predicates below are memoized (memo.py): pure functions of their text that an
# import asks of the same heading or paragraph many times, whose patterns are long
# alternations (~4 µs a character).
_memo = memo()

_LEAD = r"^[\W_]*"  # emoji, **, numbering punctuation before the word
PHASE = re.compile(
    _LEAD
    # "第一步", "第3阶段", "第二天": a Chinese ordinal (第 + a numeral) and its unit
    + r"(?:第\s*(?:\d+|[一二三四五六七八九十]+)\s*(?:步|阶段|期|天|日|周|轮|批|部分|节)|"
    r"(?:phase|stage|step|day|week|wave|task(?:[\s-]+group)?|milestone|sprint|round|part|阶段|第)"
    # "Phase 1", "Phase-2", "Stage IV", "Phase D"; a letter or roman numeral needs a separator,
    # so the word "Phased" (in "Phased rollout") is not "Phase D" (issue 11 §8).
    r"(?:\s*[-#:]?\s*\d+|(?:\s+|\s*[-#:]\s*)(?:[ivx]+\b|[a-h]\b|zero|one|two|three|four|five)))",
    re.I,
)
NUMBERED = re.compile(r"^[\W_]*\d{1,2}(?:\.\d{1,2})*[.):]\s+\S")
ROLLBACK = re.compile(
    # "Failback Steps (Reverse of Failover)": going back to where the run started
    # "restore" speaks of going back unless it names a bulk load with no earlier state:
    # "# restore all" / "Restore the dump into the new database" is a migration's forward
    # command group, "Restore all previous configs" / "Restore backup" still a rollback
    r"roll(?:ing)?[\s-]?back|revert|"
    r"restor(?!e\s+(?:all|everything|(?:the\s+)?dumps?|(?:the\s+)?data(?:base)?\s+(?:in)?to|"
    r"into|onto)\b(?![^\n]*\b(?:previous|old|original|prior|backups?|snapshots?|last[\s-]known|"
    r"earlier|before)\b))|"
    r"back[\s-]?out|abort|回滚|回退|undo|fail[\s-]?back|"
    r"restaur(?!ant)|wiederherstell|zur[uü]cksetz|revertir|reverter|ロールバック|切り?戻し|"
    r"retour (?:en )?arri[eè]re|revenir en arri[eè]re|vuelta atr[aá]s|volver atr[aá]s|"
    r"voltar atr[aá]s|zur[uü]ckroll|r[uü]ckg[aä]ngig|reversi[oó]n|revers[aã]o|ripristin|"
    r"terugdra|terugzet|terug naar|"
    r"롤백|되돌리",
    re.I,
)
VERIFY = re.compile(
    # not `--check` (a flag named in prose) nor "double check that …" (a reminder to the reader)
    # nor "checkout" / "checkpoint" (a product's name, a saved state)
    r"verif|(?<![-\w])(?<!double )(?<!double-)check(?!\s?outs?\b|points?\b)|validat|smoke|health|"
    r"\btests?\b|testing|"
    r"confirm|post[\s-]?deploy|验证|检查",
    re.I,
)
CHECKLIST = re.compile(
    r"success criteria|acceptance|check[\s-]?list|definition of done|exit criteria|"
    r"go/no[\s-]?go|readiness|sign[\s-]?off|pre[\s-]?flight|验收|检查清单|事前確認|事前準備|"
    r"前提条件|チェックリスト|사전\s*(?:확인|준비|점검)|체크리스트|"
    # what must hold before anything runs: manual gates, never triggers (issue 11 §6)
    r"pre[\s-]?conditions?|pre[\s-]?requisites?|before you (?:begin|start)|entry criteria|"
    # "Prérequis", "Requisitos previos", "Voraussetzungen", "Conditions préalables"
    r"pr[ée][\s-]?requis|requisitos previos|pr[ée][\s-]?requisitos|voraussetzungen|"
    r"conditions pr[ée]alables|condiciones previas|"
    # "Pre-release", "Before deploying", "Vorbereitung": what a person makes sure of first
    # "Phase 1: Preparation", "Fase 1: Preparación" (a heading that IS the preparation)
    r"(?:^|[:：]\s*)[\W_]*(?:preparations?|vorbereitung\w*|preparaci[oó]n|pr[ée]paration|"
    r"prepara[cç][aã]o)\b|"
    r"\bpre[\s-]?(?:release|deploy(?:ment)?|rollout|launch|migration|upgrade|cut[\s-]?over|"
    r"install(?:ation)?|change)\b|\bbefore (?:you )?(?:deploy|releas|roll(?:ing)?[\s-]?out|"
    r"launch|migrat|upgrad|cut[\s-]?over)\w*",
    re.I,
)
TRIGGER = re.compile(r"trigger|criteria|condition|threshold|when to|decision|触发", re.I)
# Sections a reader consults, never runs top to bottom: their commands are notes (issue 11 §1, §7).
REFERENCE = re.compile(
    r"troubleshoot|\bfaq\b|\bexamples?\b|\breference\b|appendix|glossary|\bcontacts?\b|"
    r"escalation|communication(?:s)? plan|retrospective|post[\s-]?mortem|lessons learned|"
    r"see also|further reading|\bresources\b|\bnotes?\b$|known issues|common (?:issues|errors)|"
    r"debugging|in another terminal|\bbackground\b|\bterminology\b|\bdefinitions\b|"
    r"references|useful commands|cheat ?sheet|"
    # "## Monitoring Commands" at the end: what to type while watching, not a step of the run
    r"(?:monitoring|diagnostic|debug(?:ging)?|handy|helpful|quick) (?:commands|queries)|"
    r"incident response|emergency (?:procedures?|contacts?|"
    r"plan)|contingenc|\bscenarios?\b|应急|场景|故障排除|常见问题|errores comunes|"
    r"soluci[oó]n de problemas|comandos [uú]tiles|\banexo\b|\bannex\b|fehlerbehebung|"
    r"トラブルシューティング|문제\s*해결|트러블\s*슈팅|注意事项|注意事項|"
    r"\bdon['’]?ts\b|\bnever do\b|\bnunca hacer\b|\bnie tun\b|"
    # measuring the rollback process over months, keeping the document: not a step of this
    # run ("Key metrics" with alert thresholds are the run's alerts, and stay)
    r"how to (?:check|view|query) (?:the )?metrics|roll[\s-]?back metrics|"
    r"runbook maintenance|related (?:docs|documentation)|m[eé]tricas de rollback",
    re.I,
)
# "CI executes:", "The pipeline runs:", "GitHub Actions performs:": what follows describes what
# automation does elsewhere, not a step of this rollout (issue 11 §1).
AUTOMATION = re.compile(
    r"^[\W_]*(?:in |en |im |no |na |在)?(?:the |our |a |el |la |o |die |der |das )?(?:ci(?:/cd)?|"
    r"(?:ci |build |release |deploy(?:ment)? )?(?:pipeline|workflow|job)s?|github actions?|"
    r"gitlab(?:[\s-]ci)?|jenkins|circleci|argo ?cd|flux|buildkite|azure devops|"
    r"(?:the )?(?:automation|bot|cron(?: ?job)?)|持续集成|流水线)\b[^.:\n]{0,60}?\b"
    r"(?:executes?|runs?|performs?|does|will (?:run|execute)|checks?|invokes?|calls?|"
    r"ejecuta|corre|realiza|führt\b[^:]*\baus|läuft|executa|roda|执行|运行)\b[^.\n]{0,60}[:：]"
    r"(?:\*\*|__)?$",
    re.I,
)
# "If the deployment fails:", "On failure", "In case of errors": what to do when something went
# wrong is recovery, never a forward step (issue 11 §1).
CONDITIONAL = re.compile(
    # "At any point, if …", "During the ramp, when …": a short leading clause, then the condition
    r"^[\W_]*(?:[^,.:;\n]{1,40},\s*)?(?:if|when|should|in case|on|upon)\b[^.]{0,120}?\b(?:fail|"
    r"fails|failed|failure|spikes?|"
    r"errors?|breaks?|broken|(?:goes|go|went|gone) (?:wrong|bad|south)|does not|doesn't|"
    r"didn't|not work|unhealthy|problem|"
    r"issues?|timeout|times? out|stuck|degrad)|^[\W_]*(?:on|upon) (?:failure|error)|"
    r"^[\W_]*(?:only )?if (?:it is )?(?:safe|needed|necessary|required)|"
    r"^[\W_]*(?:recovery|troubleshooting|fallback|workaround)\b|"
    # "Otherwise, delete the canary:" after "If the canary looks good, …": the other branch
    r"^[\W_]*(?:otherwise|else|if not|sonst|andernfalls|sinon|de lo contrario|si no|"
    r"caso contr[aá]rio)\b(?!,?\s+you\s+(?:can|may))|"
    # the same in Spanish, Portuguese, French, German, Chinese
    r"^[\W_]*(?:en caso de|em caso de|en cas d['’]|bei|im falle (?:von|eines?))\s*"
    r"(?:un |una |uno )?(?:error|erro|erreur|fallo|falla|falha|[ée]chec|fehler|problem)|"
    r"^[\W_]*(?:si|se|wenn|falls|quand|als|indien)\b[^.]{0,80}?\b(?:va storto|fallisce|"
    r"non funziona|errore|mislukt|faalt|misgaat|fout|falla|fallan|falha|falhar|[ée]choue|"
    r"fehlschl[aä]gt|scheitert|error|erro|erreur|fehler|sale mal|salga mal|va mal|der errado|"
    r"d[eê] errado|correr mal|se passe mal|tourne mal|schief\s?geht|schief\s?l[aä]uft|"
    r"nicht funktioniert|no funciona|n[aã]o funciona|ne fonctionne pas)|"
    r"^[\W_]*(?:如果|若|当)[^。]{0,40}?(?:失败|出错|错误)|"
    # Japanese and Korean: "失敗した場合", "エラーが発生した場合", "실패 시", "실패하면"
    r"(?:失敗|エラー|問題|障害)(?:した|が(?:発生し|起き)た|の)?(?:場合|とき|時)|"
    r"(?:실패|오류|에러|장애)\s*(?:시|하면|할\s*경우|가\s*발생하면|발생\s*시)",
    re.I,
)
# A heading that says when it applies: "Emergency Rollback (When Automated Fails)" is recovery.
FAILURE_CONDITION = re.compile(
    r"\((?:only )?(?:if|when|si|cuando)\b[^)]{0,80}?\b(?:fail\w*|falla\w*|errors?|broken|"
    r"unavailable|down|issues?|problems?|corrupt\w*|persists?)\b[^)]*\)",
    re.I,
)
# "(Optional)", "Optional per-namespace commands:", "(if needed)": the reader may skip it (§1).
# "Optionally, check …:", "If you want, …", "Falls gewünscht …", "可选：": what follows is offered,
# not ordered.
OPTIONAL = re.compile(
    r"\(\s*(?:optional|opcional|optionnel|可选|if (?:needed|necessary|required|applicable|desired))"
    r"\s*\)|\(\s*(?:optional|opcional|optionnel|optional|可选)\s*[,;:—–-][^)]{0,80}\)|^[\W_]*(?:optional(?:ly)?|opcional(?:mente)?|optionnel(?:lement)?|wahlweise|"
    r"if (?:you (?:want|wish|like|prefer)|desired)|falls (?:gew[uü]nscht|du (?:willst|m[oö]chtest)|"
    r"sie (?:wollen|m[oö]chten))|si (?:lo )?(?:deseas|quieres|desea|prefieres)|"
    r"se (?:quiser|desejar|preferir)|(?:可选|可選|如果需要|如有需要|如需|如果你想|如果您想))"
    r"(?![\w-])|"
    # "Only needed on first install (skip on upgrades):", "First-time setup only:"
    r"^[\W_]*only (?:needed|required|necessary|for|on|when|if)\b|\bskip (?:this )?(?:on|if|for|"
    r"when)\b|\b(?:first[\s-]time|initial) (?:setup |install(?:ation)? )?only\b",
    re.I,
)
# "Option A: …", "Method 2 (NOT RECOMMENDED)", "Alternative: …": one of several ways (§1).
ALTERNATIVE = re.compile(
    r"^[\W_]*(?:option|method|approach|alternative|variant|choice|path|opci[oó]n|estrategia|"
    r"strategy|m[eé]todo|方案|选项|方法)\s*[-#:]?\s*"
    r"(?:\d+|[a-h]\b|one|two|three)|^[\W_]*alternative(?:ly)?\b|not recommended|"
    r"^[\W_]*plan\s+[b-e]\b|\b(?:fallback|backup|contingency) plan\b",
    re.I,
)
# "# MacOS, Linux...", "**On Windows:**", "### Ubuntu / Debian": what one platform's reader runs;
# two or more of them side by side are alternatives, never all run (§1).
_OS = (
    r"(?:mac\s?os(?:\s?x)?|os\s?x|linux|windows(?:\s?(?:10|11|server))?|win(?:32|64)|ubuntu|"
    r"debian|cent\s?os|rhel|red\s?hat|fedora|alpine|amazon\s?linux|arch\s?linux|suse|opensuse|"
    r"wsl2?|unix|bsd|freebsd)"
)
# only a label of platforms ("MacOS, Linux...", "On Windows (PowerShell):", "Debian/Ubuntu"),
# never a sentence that mentions one ("Windows Server setup", "apt update")
PLATFORM = re.compile(
    r"^[\W_]*(?:(?:on|for|en|sur|für|unter|no|em|在)\s+)?"
    + _OS
    + r"(?:\s*(?:[,/&+]|and|or|y|et|und|ou|o)\s*"
    + _OS
    + r")*"
    + r"\s*(?:\([^)]{0,40}\))?(?:\s*(?:users?|hosts?|nodes?|machines?|systems?))?"
    + r"[\s.:：…*_]*$",
    re.I,
)
# A human has to decide or confirm: the run pauses here (issue 11 §7).
HUMAN = re.compile(
    r"you must (?:explicitly )?confirm|explicit(?:ly)? confirm|do not do this autonomously|"
    r"\bnot autonomous|wait (?:until|for) (?:the |a )?\w+ (?:says|approves|confirms|gives)|"
    r"\bgo\s*/\s*no[\s-]?go\s*(?:decision|call|meeting|checkpoint|review)|"
    r"manual (?:approval|confirmation|decision)|requires? (?:explicit )?"
    r"(?:approval|sign[\s-]?off|confirmation)|get (?:approval|sign[\s-]?off)|"
    r"human (?:decision|approval|confirmation)|ask (?:the|a) \w+ (?:to|for)|"
    r"decision gate|"
    # "Once migration is successful and stable:", "Wait 24-48 hours to ensure no issues": a
    # state a person judges, or a wait longer than a run should sleep, before what follows
    r"^[\W_]*(?:once|only after|after|when)\s+(?:the\s+)?[^.:\n]{2,80}?\b(?:is|are|has been|"
    r"have been)\s+(?:\w+\s+)?(?:stable|confirmed|approved|signed[\s-]?off|verified|"
    r"successful)\b|"
    r"\bwait (?:at least |for |another )?\d+(?:\s*[-–]\s*\d+)?\+?\s*"
    r"(?:hours?|hrs?|h|days?|weeks?)\b|"
    # the same in Spanish, Portuguese, French, German: "Esperar 24 horas antes de …"
    r"\b(?:esperar?|espere|aguard(?:ar|e)|attendre|attendez|warten|warte)\s+(?:al menos |pelo "
    r"menos |au moins |mindestens )?\d+(?:\s*[-–]\s*\d+)?\+?\s*(?:horas?|d[ií]as?|semanas?|"
    r"heures?|jours?|semaines?|stunden?|tage|wochen?)\b|\d+\s*(?:stunden|tage)\s+warten\b|"
    # "Inspect carefully the output of the command above for any error. If none, …": the run
    # goes on only when a person has read what the last command printed
    r"\b(?:inspect|examine|review|read|check) (?:carefully |closely )?(?:the )?output\b|"
    # "If the canary looks good, scale it up:": a person judges that it does, then it runs
    r"\bif (?:the |it |everything |all |things |this )?[^.:\n]{0,60}?\b(?:looks? (?:good|fine|"
    r"ok(?:ay)?|healthy|stable|normal|right)|(?:is|are|seems?|remains?) (?:healthy|stable|green|"
    r"fine|ok(?:ay)?|good|normal)|went well|goes well)\b|"
    # "Monitor the crash rate for 24 hours.": a person watches, then says the rollout goes on
    r"\b(?:monitor|watch|observe|keep an eye on|track)\b[^.\n]{0,60}?\b(?:for|over|during)\s+"
    r"(?:the\s+)?(?:next\s+|first\s+)?\d+\s*(?:hours?|hrs?|days?|weeks?)\b|"
    # "Proceed only if the SLO burn rate stays below 1.": a judgement before what follows
    r"\bproceed (?:only )?(?:if|when|once)\b|\bonly proceed (?:if|when|once)\b|"
    r"\bcontinue only (?:if|when|once)\b|\bgo ahead only (?:if|when)\b|"
    # "Review the plan with a second engineer", "peer review", "four eyes": another person
    r"\breview (?:the |this |your )?(?:plan|diff|changes?|output|pull request|pr)\b[^.\n]{0,40}"
    r"\bwith\b|\b(?:second|another) (?:engineer|person|reviewer|pair of eyes|approver)\b|"
    r"\bpeer[\s-]review|\bfour[\s-]eyes\b|"
    # "Do not apply if the plan destroys a node group": a person judges the condition first
    r"\bdo not (?:apply|proceed|continue|deploy|merge|run|go ahead|promote|release|ship|do this|"
    r"do it|start)\b[^.\n]{0,80}\b(?:if|unless|until|before|during|while)\b|"
    # -- blind round 6 (continued): what a person does or judges in the flow (issue 11 §7) --
    # "Wait until the next report run succeeded, then:", "Continue when the count is 0."
    r"^[\W_]*(?:then\s+)?wait until\b|\bcontinue (?:only )?(?:when|once|after)\b|"
    # "Edit `backend.tf`:", "Open `config/app.yml` and set …": a file a person edits
    r"^[\W_]*(?:then\s+)?(?:edit|modify|open and edit|update)\s+(?:the\s+)?(?:file\s+)?`[^`\s]+`|"
    # "… and open a PR", "create a merge request": a review others give
    r"\b(?:open|create|raise|submit|file)\s+(?:a|an|the)\s+(?:pr|pull[\s-]request|"
    r"merge[\s-]request|mr)\b|"
    # "Terraform asks `Copy existing state?` — answer `yes`", "when prompted, type yes"
    r"\b(?:asks?|prompts?|prompted)\b[^.\n]{0,120}?\b(?:answer|type|enter|reply|respond)\b|"
    # "Post in #status", "Avisar no canal #incidentes", "Annoncer sur #prod": a message to people
    r"\b(?:post|announce|notify|tell|inform|message|ping|avis\w*|comunic\w*|annonc\w*|"
    r"pr[ée]ven\w*|inform\w*|benachrichtig\w*|meld\w*)\b[^.\n]{0,60}?(?<![\w&])#[a-z][\w-]+|"
    # "Same steps as eu-1.", "Repeat for the second DC": steps a person repeats elsewhere
    r"^[\W_]*(?:(?:the\s+)?same\s+(?:steps|procedure)\s+(?:as|for)\b|repeat\s+(?:the\s+"
    r"(?:same\s+)?(?:steps?|procedure)|(?:steps?\s+)?\d|(?:all\s+)?(?:of\s+)?the\s+above|"
    r"(?:this|these)\s+for|for\s+(?:the|each|every|all)\b))|"
    r"^[\W_]*(?:mismos pasos|m[êe]mes [ée]tapes|gleiche schritte|mesmos passos)\b|"
    # "Observe for 30 minutes and confirm the error rate", "观察 30 分钟，确认错误率正常"
    r"\b(?:observe|watch|monitor)\b[^.\n]{0,40}?\d+\s*(?:minutes?|mins?)\b[^.\n]{0,40}?"
    r"\b(?:confirm|make sure|ensure|verify)\b|"
    r"(?:观察|觀察|监控|監控|観察|監視)\s*\d+\s*(?:分钟|分鐘|小时|小時|分|時間)",
    re.I,
)
# "Cleanup (after 2 weeks at 100%)", "Aufräumen (erst nach 7 Tagen!)", "3 days later": what
# follows is deferred by more than a run should sleep; a person says when the time has come
DEFERRED = re.compile(
    r"\b(?:after|erst nach|nach|despu[eé]s de|apr[eè]s|ap[oó]s|depois de)\s+(?:at least\s+|"
    r"mindestens\s+|al menos\s+|au moins\s+|pelo menos\s+)?\d+(?:\s*[-–]\s*\d+)?\+?\s*"
    r"(?:hours?|hrs?|days?|weeks?|months?|stunden|tagen?|wochen|monaten?|horas?|d[ií]as?|"
    r"semanas?|jours?|semaines?|mois|meses)\b|"
    r"\b(?:\d+|a|one|two|three|a few)\s*(?:days?|weeks?|months?)\s+later\b|"
    # "once nobody has complained for 7 days", "if it stays quiet for a week" (round 8); "after
    # a week", "in two weeks"
    r"\b(?:once|when|if|after)\b[^.:\n]{0,60}?\bfor\s+(?:at least\s+)?(?:\d+|a|one|two|three)"
    r"\s*(?:days?|weeks?|months?)\b|"
    r"\b(?:after|in)\s+(?:a|one|two|three)\s+(?:days?|weeks?|months?)\b|"
    # "Once the incident is closed:", "(next business day)": later, when a person says so
    r"^[\W_]*(?:once|only after|after|when)\s+(?:the\s+)?[^.:\n]{2,60}?\b(?:is|are|has been|"
    r"have been)\s+(?:\w+\s+)?(?:closed|resolved|over|done|finished|complete[d]?)\b|"
    r"\((?:the\s+)?next (?:business |working )?day\)|\(tomorrow\)|\(next week\)",
    re.I,
)
ROLLBACK_TIME = re.compile(
    r"roll[\s-]?back (?:time|duration|budget|sla|window|guarantee)|time to roll[\s-]?back|"
    r"recovery time|\brto\b",
    re.I,
)
# A paragraph that introduces what follows: "**Rollback procedure:**", "Then check:".
LEAD_IN = re.compile(r"^(?:\*\*|__)[^\n]+(?:\*\*|__)[:：]?$|^[^\n]{1,160}[:：]$")
METADATA = re.compile(r"^\s*\*\*([^*\n]{1,40}?):?\*\*:?\s*(.+?)\s*$")
ARROW_CHAIN = re.compile(r"[A-Za-z0-9][\w.-]*(?:\s*(?:->|→|=>)\s*[A-Za-z0-9][\w.-]*)+")
ARROW = re.compile(r"\s*(?:->|→|=>)\s*")


def is_phase_title(title: str) -> bool:
    return bool(PHASE.search(title) or NUMBERED.match(title))


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@_memo
def is_reference_title(title: str) -> bool:
    # what the reader sees: "[next](./faq.md)" in a navigation bar is no FAQ section
    return bool(REFERENCE.search(_LINK.sub(r"\1", title)))


def is_lead_in(text: str) -> bool:
    """A paragraph introducing what follows; every line of it when it has several (an author
    who wrote "Contract check (a):" and "Contract check (b):" one under the other)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return bool(lines) and all(LEAD_IN.match(ln) and len(ln) <= 160 for ln in lines)


DEPRECATED = re.compile(
    r"\b(?:deprecated|obsolete|outdated|superseded|no longer (?:valid|used|maintained|applies|"
    r"supported)|do not (?:use|follow)|don['’]t (?:use|follow)|(?:kept )?for (?:history|historical "
    r"reasons|reference) only|this (?:page|document|runbook) has moved|has moved to|veraltet|"
    r"obsoleto|obsol[eè]te|废弃|已过时|非推奨)\b",
    re.I,
)


@_memo
def is_deprecated(text: str) -> bool:
    return bool(DEPRECATED.search(text))


def describes_automation(text: str) -> bool:
    return bool(AUTOMATION.search(text.strip()))


@_memo
def is_conditional_text(text: str) -> bool:
    return bool(CONDITIONAL.search(text.strip())) and not passed_before(text)


# "If the test succeeds, confirm within 10 minutes:", "Wenn der Test erfolgreich ist, …": the
# condition is the success of the check just before, which already stops the run when it fails;
# what follows stays on the path that check guards (blind round 7). Only the bare success of
# "the test/check": "if the load test in staging passes" names something else.
_PASSED_BEFORE = re.compile(
    r"^[\W_]*(?:if|when|once|after|wenn|falls|sobald|nachdem|si|se|quand|cuando|quando|jeśli|"
    r"jezeli|jeżeli|pokud|když|om|als|eğer|jika)\s+(?:the\s+|this\s+|that\s+|der\s+|die\s+|das\s+|"
    r"dieser\s+|el\s+|la\s+|le\s+|o\s+|a\s+|ten\s+|de\s+)?(?:above\s+|obige\s+|vorherige\s+)?"
    r"(?:test|check|verification|smoke test|probe|prüfung|überprüfung|verifizierung|prueba|teste|"
    r"verificação|vérification|kontrola|sprawdzenie)\s+(?:above\s+|oben\s+)?"
    r"(?:is\s+|ist\s+|was\s+|war\s+|es\s+|é\s+|est\s+|je\s+|jest\s+|(?:has\s+)?)?"
    r"(?:succeed(?:s|ed)?|successful|passe[sd]|green|ok|erfolgreich(?:\s+(?:ist|war))?|bestanden|"
    r"grün|exitos[oa]|pasa|passa|bem-sucedid[oa]|réussi[et]?|úspěšn[ýá]|udany|powiódł się)\b"
    r"[^,:;.]{0,12}[,:;]",
    re.I,
)


def passed_before(text: str) -> bool:
    """The sentence's condition is only that the check before it passed (see above)."""
    last = last_sentence(text) or text
    return bool(_PASSED_BEFORE.match(" ".join(last.split())))


# "## Kill switch", "Emergency stop", "Break glass": what to do at any point when things go bad,
# never a step of the forward path (the run would switch its own change off)
EMERGENCY = re.compile(
    r"kill[\s-]?switch|emergency[\s-](?:stop|shut[\s-]?down|off|disable|brake)|"
    r"break[\s-]?(?:the[\s-])?glass|panic[\s-]button|big red button|not[\s-]?aus\b|"
    r"notabschaltung|interruptor de emergencia|arr[eê]t d['’]urgence",
    re.I,
)


_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_IF_SENTENCE = re.compile(
    r"^[\W_]*(?:[^,.:;\n]{1,40},\s*)?(?:if|unless|in case|otherwise|falls|wenn|si)\b",
    re.I,
)


def last_sentence(text: str) -> str:
    parts = [p for p in _SENTENCES.split(" ".join(text.split())) if p.strip()]
    return parts[-1] if parts else ""


def conditional_remedy(text: str) -> bool:
    """ "The plan must show no changes. If it shows changes, do not apply anything: restore
    the backup and investigate.": the last sentence before a fence makes it a remedy under a
    condition (a rollback word under "if"), never the next forward step."""
    last = last_sentence(text)
    if bool(_IF_SENTENCE.match(last)) and is_rollback_title(last) and not asks_human(last):
        return True
    # "If `nginx -t` prints anything else, **do not reload**. Go back to the previous tag:": a
    # condition, then the way back in the sentences it governs (blind round 9)
    parts = [p for p in _SENTENCES.split(" ".join(text.split())) if p.strip()]
    return (
        2 <= len(parts) <= 3
        and bool(_IF_SENTENCE.match(parts[0]))
        and is_rollback_title(last)
        and not asks_human(last)
    )


@_memo
def is_failure_condition(title: str) -> bool:
    return bool(FAILURE_CONDITION.search(title) or EMERGENCY.search(title)) or is_conditional_text(
        title
    )


@_memo
def is_optional_title(title: str) -> bool:
    return bool(OPTIONAL.search(title.strip()))


# "**Upgrade operator** (if managing the operator separately):", "### Update CRDs (when using
# Helm)": a condition on the reader's setup in parentheses on a heading or lead-in; the operator
# says whether it holds. (A fence comment's "(if migrations required)" beside a backup stays a
# step: there the parenthesis qualifies one command of a fence the author orders.)
SETUP_CONDITION = re.compile(
    r"\(\s*(?:only\s+)?(?:if|when|unless|si|cuando|wenn|falls|se|quand)\s[^()]{2,80}\)|"
    r"（(?:如果|若|仅当)[^（）]{1,40}）",
    re.I,
)


# "The following commands will delete the old cluster's data files:": a lead-in that announces
# irreversible deletion rather than ordering it. Run only when the operator chooses it (the
# author of such a guide often adds "I usually keep the old data around").
ANNOUNCED_DELETION = re.compile(
    r"^[^.:]{0,80}\b(?:will|would|can|could|may)\s+(?:permanently\s+)?(?:delete|remove|destroy|"
    r"drop|wipe|erase|purge)\b[^.]{0,120}[:：]\s*$",
    re.I,
)


# "**Restore from backup if needed**": inside a rollback, a step the operator judges
IF_NEEDED = re.compile(
    r"\b(?:if|when|where|as) (?:needed|necessary|required|applicable|appropriate)\b|"
    r"\bsi (?:es )?(?:necesario|n[ée]cessaire)|\bfalls (?:n[oö]tig|erforderlich)|如有必要|必要时",
    re.I,
)


# "## Steps — Production (example)": the procedure, with values the reader adapts. Not a
# section of examples to skip ("## Examples"), not an order to run as written either: run only
# when the operator chooses it (its placeholders still need binding).
EXAMPLE_PROCEDURE = re.compile(
    r"\(\s*(?:an?\s+)?(?:example|sample|exemple|ejemplo|beispiel|exemplo|示例|例子)\s*\)", re.I
)


def is_example_procedure(title: str) -> bool:
    """A procedure heading qualified "(example)" whose own words are no reference section."""
    return bool(EXAMPLE_PROCEDURE.search(title)) and not is_reference_title(
        EXAMPLE_PROCEDURE.sub("", title)
    )


# "If you see `migration pending`, run:", "Should the cache be cold, warm it:": a lead-in whose
# condition is neither a failure (recovery) nor a good state a person confirms: whether it
# holds is the operator's call, and what follows runs only when they say so
OBSERVED_CONDITION = re.compile(
    # (not "should": "Should return 0 rows:" states an expectation; not "se": "Se debe …")
    r"^[\W_]*(?:[^,.:;\n]{1,40},\s*)?(?:if|unless|in case|falls|wenn|si)\b"
    r"[^\n]{2,160}[:：](?:\*\*|__)?\s*$",
    re.I,
)


@_memo
def observed_condition(text: str) -> bool:
    text = text.strip()
    title = "\n" not in text and len(text) <= 80 and bool(_IF_SENTENCE.match(text))
    # "Check the dashboard. If checkout success is below 97 %, turn the flag off:": the last
    # sentence of the lead-in puts the fence under its condition (blind round 7)
    last = last_sentence(text) if "\n" not in text else ""
    return (
        (
            bool(OBSERVED_CONDITION.search(text))
            or title
            or (last != text and bool(OBSERVED_CONDITION.search(last)))
        )
        and not is_conditional_text(text)
        and not asks_human(text)
    )


@_memo
def is_optional_part(title: str) -> bool:
    """A heading or lead-in the reader may skip: optional, conditional on their setup, an
    example procedure, or a deletion it announces rather than orders; a person decides
    whether it is done, or the text says when to skip it (blind round 9)."""
    return (
        is_optional_title(title)
        or person_decides(title)
        # "If the test succeeds, confirm:" observes only the check before it (passed_before)
        or (observed_condition(title) and not passed_before(title))
        or defers(title)
        or bool(SETUP_CONDITION.search(title))
        or is_example_procedure(title)
        or bool(ANNOUNCED_DELETION.search(title.strip()))
    )


@_memo
def is_alternative_title(title: str) -> bool:
    return bool(ALTERNATIVE.search(title))


# "### In-place upgrade method" / "### Blue-green upgrade method", "Manual approach":
# siblings named as ways (never "strategy" or "plan": "Testing strategy" is a part of a plan)
WAY_SUFFIX = re.compile(
    r"\b(?:method|approach|way|procedure variant|variante|m[eé]todo|方式|方法)\s*"
    r"(?:\d+|[a-h])?\s*(?:\([^)]{0,60}\))?[\s.:：*_]*$",
    re.I,
)


def is_way_title(title: str) -> bool:
    """A heading naming one way of doing something; two siblings of them are alternatives."""
    return (
        bool(WAY_SUFFIX.search(title.strip()))
        and not is_rollback_title(title)
        and not is_reference_title(title)
    )


def is_platform_title(title: str) -> bool:
    """A heading, lead-in or comment naming the platform its commands are for."""
    return bool(PLATFORM.search(title.strip()))


# "Below we assume blue is live. If green is live, swap the colours in every command.": the
# commands as written hold in one case only; a person confirms it (or edits them) first
EDIT_IF_NOT = re.compile(
    r"\b(?:if|when|otherwise|unless|in case)\b[^.\n]{0,80}?\b(?:swap|change|replace|adjust|edit|"
    r"invert|reverse|substitute|flip|exchange)\b[^.\n]{0,60}?\b(?:(?:in|across|throughout)\s+"
    r"(?:every|each|all(?:\s+the)?|the)\s+(?:commands?|steps?|lines?|snippets?)|everywhere|"
    r"throughout|accordingly|in the commands?(?: below)?|in (?:each|every) (?:command|step))\b",
    re.I,
)


# "If the diff touches more than `app.conf`, stop and ask in #ops", "stop and check with the
# DBA": the run halts for a person to judge and answer, it rolls nothing back
STOP_AND_ASK = re.compile(
    r"\b(?:stop|halt|pause)\b(?:\s+(?:here|there|now|the (?:rollout|run|deploy(?:ment)?|"
    r"upgrade|procedure)))?\s*,?\s+(?:and|&|then)\s+(?:ask|escalate|check with|consult|contact|"
    r"talk to|reach out|call|page|wait for)\b(?![^.\n]{0,40}\broll[\s-]?back)",
    re.I,
)


@_memo
def stops_to_ask(text: str) -> bool:
    return bool(STOP_AND_ASK.search(" ".join(text.split())))


def commands_assume(text: str) -> bool:
    """A sentence saying the commands hold only under a condition the reader must check."""
    return bool(EDIT_IF_NOT.search(" ".join(text.split())))


@_memo
def asks_human(text: str) -> bool:
    if HUMAN.search(text):
        return True
    # "Only after the IC says go:" (blind round 11)
    return "only" in text.lower() and bool(_HUMAN_GATE.search(text))


@_memo
def defers(text: str) -> bool:
    """ "(after 2 weeks at 100%)", "erst nach 7 Tagen", "(next business day)": what follows
    waits longer than a run sleeps: the operator's choice when the time has come (a decision
    of its own, optional part of the run), never run when the run reaches it."""
    if DEFERRED.search(text):
        return True
    # "for 48 hours", "48 sati nakon" (blind round 11): a number of hours first
    return any(c.isdigit() for c in text) and bool(_LONG_WAIT.search(text))


@_memo
def is_rollback_title(title: str) -> bool:
    return bool(ROLLBACK.search(title))


def is_trigger_text(text: str) -> bool:
    return bool(TRIGGER.search(text))


@_memo
def is_verify_text(text: str) -> bool:
    return bool(VERIFY.search(text))


@_memo
def is_checklist_text(text: str) -> bool:
    return bool(CHECKLIST.search(text))


def last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def metadata_lines(text: str) -> list[tuple[str, str]]:
    """``**Target:** 2026-01-16`` lines of a paragraph as (key, value)."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = METADATA.match(line)
        # "**Alternatively**, rotate it …": a sentence with a bold word, no key and value
        if match and match.group(2).strip() and match.group(2).strip()[0] not in ",;.":
            found.append((match.group(1).strip().rstrip(":"), match.group(2).strip()))
    return found


def dependency_chains(text: str) -> list[list[str]]:
    # Without an arrow there is no chain; the pattern would still try every letter of every
    # word as a start (quadratic in a word's length: a fifth of a second on a 2 MB document).
    if "->" not in text and "→" not in text and "=>" not in text:
        return []
    return [ARROW.split(m.group(0)) for m in ARROW_CHAIN.finditer(text)]


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_MIXED = re.compile(r"\b(?:and|&|with|plus|including)\b|[/+,]", re.I)


def is_rollback_purpose(title: str) -> bool:
    """A document titled "Runbook: Deployment Rollback" exists to roll back: run forward, it
    performs the rollback (issue 11 §5). "Deploy and rollback plan" is a rollout with a
    rollback section, so a title joining rollback with something else is not."""
    return is_rollback_title(title) and not _MIXED.search(title)


# "### Prerequisites" / "### 前提条件" and "### Steps" / "### 手順": the parts of one procedure
_PREREQUISITES = re.compile(
    r"^[\W_]*(?:pre[\s-]?requisites?|pre[\s-]?conditions?|requirements|before you (?:begin|start)|"
    r"前提条件|前提|事前準備|先决条件|前置条件|voraussetzungen|requisitos(?: previos)?|"
    r"pr[ée]requis|pr[ée]-requis)\b",
    re.I,
)
_PROCEDURE = re.compile(
    r"^[\W_]*(?:steps|procedure|instructions|how to|手順|步骤|操作步骤|schritte|vorgehen|pasos|"
    r"procedimiento|[ée]tapes|proc[ée]dure|passos)\b",
    re.I,
)


def is_prerequisites_title(title: str) -> bool:
    return bool(_PREREQUISITES.match(title.strip()))


def is_procedure_title(title: str) -> bool:
    return bool(_PROCEDURE.match(title.strip()))


# "# For the first RC" / "# For later RCs", "# 最初の RC の場合" / "# 2回目以降の RC の場合",
# "# If this is a new install" / "# If upgrading": each paragraph answers one case; two or more
# side by side are alternatives, the operator says which case holds (issue 11 §1).
_CASE = re.compile(
    r"^[\W_]*(?:(?:for|on) (?:the )?(?:first|initial|subsequent|later|following|next|new|"
    r"existing|each subsequent)\b|if (?:this is|you are|you're|it is|it's|upgrading|installing|"
    r"migrating|using|running)\b|in (?:the )?case (?:of|that|where)\b|when (?:using|running|"
    r"upgrading|installing)\b)|(?:の場合|場合は?|の時|のとき|的情况|情况下|时)[\s:：)）]*(?:[（(].*)?$",
    re.I,
)


def is_case_title(title: str) -> bool:
    return bool(_CASE.search(title.strip())) and not is_conditional_text(title)


# Blind round 7: the same classes in more languages (languages.py), one alternation more each.
ROLLBACK = re.compile(ROLLBACK.pattern + "|" + languages.ROLLBACK, re.I)
CONDITIONAL = re.compile(CONDITIONAL.pattern + "|" + languages.CONDITIONAL, re.I)
REFERENCE = re.compile(REFERENCE.pattern + "|" + languages.REFERENCE, re.I)
DEFERRED = re.compile(DEFERRED.pattern + "|" + languages.DEFERRED, re.I)
OPTIONAL = re.compile(OPTIONAL.pattern + "|" + languages.OPTIONAL, re.I)
OBSERVED_CONDITION = re.compile(OBSERVED_CONDITION.pattern + "|" + languages.OBSERVED, re.I)
HUMAN = re.compile(HUMAN.pattern + "|" + languages.HUMAN + "|" + languages.HUMAN_PROSE, re.I)
STOP_AND_ASK = re.compile(STOP_AND_ASK.pattern + "|" + languages.STOP_PROSE, re.I)
CHECKLIST = re.compile(CHECKLIST.pattern + "|" + languages.CHECKLIST, re.I)

# Blind round 9: more wordings of the same classes (words9.py), one alternation more each.
ROLLBACK = re.compile(ROLLBACK.pattern + "|" + words9.ROLLBACK, re.I)
CONDITIONAL = re.compile(CONDITIONAL.pattern + "|" + words9.CONDITIONAL, re.I)
TRIGGER = re.compile(TRIGGER.pattern + "|" + words9.TRIGGER, re.I)
HUMAN = re.compile(HUMAN.pattern + "|" + words9.HUMAN, re.I)
SKIP_STEP = re.compile(words9.SKIP_STEP, re.I)
_DECIDES = re.compile(words9.DECIDES + "|" + words11.DECIDES, re.I)
_PROGRAM_DECIDES = re.compile(words9.PROGRAMS, re.I)

# Blind round 10: the safety classes in every language the importer claims (words10_safety.py):
# rollback and halt headings, failure lead-ins, optional / only-if parts, work put a day later.
ROLLBACK = re.compile(ROLLBACK.pattern + "|" + words10_safety.ROLLBACK, re.I)
CONDITIONAL = re.compile(CONDITIONAL.pattern + "|" + words10_safety.CONDITIONAL, re.I)
OPTIONAL = re.compile(OPTIONAL.pattern + "|" + words10_safety.OPTIONAL, re.I)
DEFERRED = re.compile(DEFERRED.pattern + "|" + words10_safety.DEFERRED, re.I)
HUMAN = re.compile(HUMAN.pattern + "|" + words10_safety.HUMAN, re.I)
HUMAN = re.compile(HUMAN.pattern + "|" + words10_safety.HUMAN_WAITS, re.I)

# Round 11: what a person compares, does in a UI, signs off or decides (words11.py)
HUMAN = re.compile(HUMAN.pattern + "|" + words11.HUMAN, re.I)
STOP_AND_ASK = re.compile(STOP_AND_ASK.pattern + "|" + words11.STOP_PROSE, re.I)


_REVERSE_STEPS = re.compile(words11.REVERSE_STEPS, re.I)


def reverses_steps(text: str) -> bool:
    """ "Rollback: reverse the steps above.", "inversați pașii de mai sus" (round 11)."""
    return bool(_REVERSE_STEPS.search(text))


# Blind round 11: the way back, a halt, a failure lead-in, "only if" and work put days later in
# the languages round 11 showed missing (words11_safety.py), one alternation more each.
ROLLBACK = re.compile(ROLLBACK.pattern + "|" + words11_safety.ROLLBACK, re.I)
CONDITIONAL = re.compile(CONDITIONAL.pattern + "|" + words11_safety.CONDITIONAL, re.I)
OPTIONAL = re.compile(OPTIONAL.pattern + "|" + words11_safety.ONLY_IF, re.I)
DEFERRED = re.compile(DEFERRED.pattern + "|" + words11_safety.DEFERRED, re.I)
# (read apart, only when the text can hold them: one alternation more in the big tables costs
# every paragraph of a long document a scan)
_LONG_WAIT = re.compile(words11_safety.LONG_WAIT, re.I)
_HUMAN_GATE = re.compile(words11_safety.HUMAN_GATE, re.I)
REFERENCE = re.compile(REFERENCE.pattern + "|" + words11_safety.FORBIDDEN, re.I)
_CHECK_LEAD = re.compile(words11_safety.CHECK_LEAD, re.I)
_NO_ROLLBACK = re.compile(words11_safety.NO_ROLLBACK, re.I)


# Blind round 12: the way back in Baltic languages and Finnish, trouble as "it hangs / something
# goes wrong", a STOP-if lead-in and "in that case", "only if" and "next sprint"
# (words12_safety.py), one alternation more each.
ROLLBACK = re.compile(ROLLBACK.pattern + "|" + words12_safety.ROLLBACK, re.I)
CONDITIONAL = re.compile(CONDITIONAL.pattern + "|" + words12_safety.CONDITIONAL, re.I)
OPTIONAL = re.compile(OPTIONAL.pattern + "|" + words12_safety.ONLY_IF, re.I)
DEFERRED = re.compile(DEFERRED.pattern + "|" + words12_safety.DEFERRED, re.I)
REFERENCE = re.compile(REFERENCE.pattern + "|" + words12_safety.EMERGENCY, re.I)


def says_no_rollback(text: str) -> bool:
    """ "If either is firing, that is a real burn: page the owner, do not roll back the
    rules.": the case the paragraph names is no way back (blind round 11)."""
    return bool(_NO_ROLLBACK.search(text))


_DECIDES = re.compile(_DECIDES.pattern + "|" + words11_safety.DECIDES, re.I)
_CHOOSE = re.compile(words11_safety.CHOOSE, re.I)
_LETTERED = re.compile(words11_safety.LETTERED)


def asks_to_choose(text: str) -> bool:
    """ "Run the backfill (pick A or B)", "Choose one of:", "pumili ng A o B": the ways that
    follow are alternatives, the reader takes one (blind round 11)."""
    return bool(_CHOOSE.search(text))


def is_lettered_way(text: str) -> bool:
    """ "**A. With screen**", "B) With nohup": one of the ways a choice offers."""
    return bool(_LETTERED.match(text.strip()))


def rollback_lead_in(text: str) -> bool:
    """A lead-in naming the way back ("**Rollback:**", "To revert:"), not one asking to check
    something whose sentence holds a rollback word ("Confirm nothing else is restoring right
    now:": the command after it is a check, blind round 11)."""
    return is_rollback_title(text) and not _CHECK_LEAD.search(text.strip())


@_memo
def person_decides(text: str) -> bool:
    """ "Only the DBA on call decides to promote", "(the catalog lead decides)": whether what
    follows is done is a person's call, never the run's (blind round 9)."""
    return bool(_DECIDES.search(text)) and not _PROGRAM_DECIDES.search(text)


# "Skip this step if the verification finds differences": the check before it already stops the
# run in that case; the step stays on the path the check guards
_CHECKED_BEFORE = re.compile(
    r"verif|\bchecks?\b|\btests?\b|pr[uü]f|sprawdz|ov[eě][rř]|kontrol|验证|驗證|檢查|检查|ตรวจสอบ|"
    r"בדיק|έλεγχ|перевірк|проверк",
    re.I,
)


def skips_step(text: str) -> bool:
    """ "Skip this step if you already did it", "пропустіть цей крок": the reader may not do it
    (a decision); not when the condition is the check before it failing."""
    found = SKIP_STEP.search(text)
    return found is not None and not _CHECKED_BEFORE.search(text[found.end() :])


def numbered_reference(title: str) -> bool:
    """ "## 9. Troubleshooting", "## 10. Appendix: commands for reference": a numbered heading
    is a phase only when what it names is one; a reference section numbered in the table of
    contents is read, never run (blind round 9). "Phase 3: Appendix" stays a phase."""
    return (
        bool(NUMBERED.match(title))
        and not PHASE.search(title)
        and is_reference_title(title)
        and not is_example_procedure(title)
        and not is_rollback_title(title)
    )
