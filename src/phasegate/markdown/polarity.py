"""Which lists state failure conditions, and does a condition describe a bad state? (issue 11 §6)

A trigger fires while its condition holds, so an imported trigger must describe a failure:
"Error rate > 5%". Documents put other lists near their rollback criteria — preconditions,
pilot selection criteria, success criteria ("Error rate < 1%") — and sometimes write a good
state inside a failure list ("Performance degradation < 50%"). Read literally, such an item is
a trigger that fires on a healthy system; "inverted" it is a guess. Neither is safe, so:

- only a list introduced as failure conditions ("Automatic rollback triggers", "Rollback if",
  "Halt rules", "Abort criteria", "Alert thresholds") yields triggers (``failure_context``);
- each condition's polarity is read from what is measured and the comparison
  (``describes_failure``): a higher error rate is worse, a lower success rate is worse;
- a condition that reads as a good state is never a trigger: the importer asks a human to bind
  it (triggers.py), and a condition whose polarity is unknown is kept as written (the document
  listed it as a failure, and its metric needs binding anyway).

The word lists follow how SRE documents name their signals (the Google SRE book's four golden
signals: latency, traffic, errors, saturation; plus the availability/success-rate SLIs).
"""

from __future__ import annotations

import re
from typing import Literal

from phasegate.markdown.memo import memo

Polarity = Literal["high_is_bad", "low_is_bad"]

# Lists whose every item is a condition under which the run must act: "Automatic rollback
# triggers", "Rollback criteria", "Abort conditions", "Halt rules", "When to roll back".
# "fail" but not "failback"/"failover": "When to Failback" names when to start a procedure
_ACT = (
    r"(?:roll[\s-]?back|revert|abort|halt|stop|pause|kill|failure|fail(?![\s-]?(?:back|over))|"
    r"no[\s-]?go|escalat\w*)"
)
_QUAL = r"(?:criteria|criterion|triggers?|conditions?|thresholds?|rules?|signals?|if|when)"
_FAILURE_CONTEXT = re.compile(
    # words of one line: "… minor rollback\nIf you are using …" states no condition
    rf"\b{_ACT}\w*[ \t]+(?:\w+[ \t]+)?{_QUAL}\b|\b{_QUAL}[ \t]+(?:for|to)[ \t]+{_ACT}|"
    rf"when to[ \t]+{_ACT}|\bautomatic(?:ally)?[ \t]+{_ACT}|\btriggers?\b|kill[\s-]?switch|"
    r"red[\s-]?flags?|warning[\s-]?signs?|circuit[\s-]?breakers?|触发|"
    # "Backout criteria", "Critères d'annulation", "Revenir en arrière … si :", "Criterios de
    # reversión", "Abbruchkriterien", "Critérios de reversão"
    r"\bback[\s-]?out[ \t]+(?:criteria|triggers?|conditions?|if|when)\b|"
    r"crit[èe]res?[ \t]+d['’]annulation|crit[èe]res?[ \t]+de[ \t]+(?:retour|repli|rollback)|"
    r"(?:revenir|retour)[ \t]+en[ \t]+arri[èe]re\b[^\n]{0,40}\bsi\b|annuler[ \t]+si\b|"
    r"criterios?[ \t]+de[ \t]+(?:reversi[oó]n|rollback|aborto|cancelaci[oó]n)|"
    r"abbruchkriterien|r[üu]ckroll\w*[ \t]+(?:wenn|falls)|"
    r"crit[ée]rios?[ \t]+de[ \t]+(?:revers[aã]o|rollback|cancelamento)",
    re.I,
)
# Lists that may hold conditions among other things ("Alerting", "Thresholds", "Monitor and
# decide"): an item is a condition only when it states a number or a bad state.
_SOFT_CONTEXT = re.compile(
    r"\balert\w*|\balarms?\b|\bpag(?:e|ing)\b|threshold|breach|guard[\s-]?rails?|"
    r"monitor and decide|\bslo\b|error budget|回滚",
    re.I,
)
# "Go/No-Go" is a checklist, not a failure list (rules.CHECKLIST reads it).
_GO_NO_GO = re.compile(r"go\s*/\s*no[\s-]?go", re.I)
# A human decides after being told: the most such a list may do on its own is alert.
_HUMAN_DECIDES = re.compile(
    r"monitor and decide|\bdecide|evaluat|investigat|\bassess|judg(?:e)?ment|"
    r"discretion|no automatic|not automatic|non[\s-]?automatic|without automatic|"
    r"no auto[\s-]|manual|\bhuman|review (?:and|before)|"
    # round 11: "o karar verir", "az ügyeletes DBA dönt", "entscheidet", "décide", "beslist",
    # "rozhodne", "zdecyduje", "решает", "판단", "결정", "判断", "决定"
    r"karar ver|\bd[oö]nt\b|entscheidet|d[ée]cide\b|beslist|rozhodne|zdecyduje|решает|"
    r"판단|결정|判断|决定|判斷|決定",
    re.I,
)

# What is measured, first match wins: the order settles words that pull both ways
# ("error budget remaining" is low-is-bad; "performance degradation" is high-is-bad).
_MEASURED: list[tuple[re.Pattern[str], Polarity]] = [
    (re.compile(r"burn[\s-]?rate|\bburn\b", re.I), "high_is_bad"),
    # "crash-free users", "usuários sem crash", "sin errores", "ohne Absturz": the share
    # without failures, so less is worse (round 11)
    (
        re.compile(
            r"(?:crash|error|fault|failure|bug|defect|incident|anr)[\s-]?free|"
            r"\b(?:without|sem|sin|sans|senza|ohne|bez|zonder)\s+(?:crash|erro|error|fall|falh|"
            r"erreur|absturz|fehler|pád|chyb|awari|crashe|fout)",
            re.I,
        ),
        "low_is_bad",
    ),
    (
        re.compile(r"remaining|\bleft\b|headroom|\bfree\b|\bspare\b|(?<!un)\bavailable\b", re.I),
        "low_is_bad",
    ),
    (
        re.compile(
            r"degrad|error|\bfail|crash|\bloss\b|\blost\b|\bdrop|latenc|time[\s-]?outs?|"
            r"incident|outage|violation|exception|regress|reject|unavailab|[45]xx\b|"
            r"\b[45]\d\d\b|\bdown(?:time)?\b|panic|\boom\b|restart|evict|throttl|complain|"
            r"ticket|churn|abandon|bounce|\bslow|\blag\b|backlog|queue|saturat|\bp\d{2,3}\b|"
            r"percentile|response[\s-]?time|duration|\bload\b|\bcpu\b|memory|\bheap\b|disk|"
            r"utili[sz]|usage|\bcost|\bspend|retr(?:y|ies)|dead[\s-]?letter|jitter|"
            r"\bdefects?\b|\bbugs?\b|spike|\bleak",
            re.I,
        ),
        "high_is_bad",
    ),
    (
        re.compile(
            r"success|availab|uptime|throughput|\brps\b|\bqps\b|requests? per|conversion|"
            r"apdex|hit[\s-]?(?:rate|ratio)|\bpass|health|\bready|capacity|satisfaction|\bnps\b|"
            r"\bcsat\b|revenue|orders|sign[\s-]?ups|logins|active|coverage|score|replicas|"
            r"compliance|accuracy|performance|speed|retention|engagement|reliab|quality|"
            r"completion|delivered|\bslo\b|\bsla\b",
            re.I,
        ),
        "low_is_bad",
    ),
]

# Conditions without a number: words of a bad state and of a good one.
_BAD_STATE = re.compile(
    r"\bfail|error|crash|corrupt|\bloss\b|\blost\b|outage|incident|spike|degrad|breach|"
    r"violation|complain|unavailab|\bdown\b|time[\s-]?outs?|timed out|regress|leak|exceed|"
    r"critical|broken|anomal|unexpected|missing|cannot|can't|unable|vulnerab|\bsecurity\b|"
    r"\bunhealthy|\bstuck|\bhang|\bpanic|\bbug",
    re.I,
)
_GOOD_STATE = re.compile(
    r"\bpass(?:es|ing|ed)?\b|\bhealthy\b|\bstable\b|\bgreen\b|\bsuccess(?:ful)?\b|\bmet\b|"
    r"\bwithin\b|\bnormal\b|\bok\b|\bready\b|\bavailable\b|\bverified\b|"
    r"^\W*(?:no|zero)\s+\w+|\ball\b.*\b(?:pass|green|healthy|up|running)",
    re.I,
)


@memo()  # a pure function of its text (memo.py)
def failure_context(context: str) -> bool:
    """True when a heading or lead-in introduces failure conditions (triggers, rollback or
    abort criteria, halt rules); "Selection criteria", "Preconditions", "Success criteria" and
    a "Rollback Steps" procedure are not."""
    if go_no_go(context) or procedure_lead(context) or _PEOPLE.search(context):
        return False
    return bool(_FAILURE_CONTEXT.search(_GO_NO_GO.sub("", context)))


# "**Rollback plan if issues:**", "Rollback steps (if needed):": the nearest lead-in names a
# procedure, so what follows are its actions ("Revert nameservers …"), never conditions.
_PROCEDURE_LEAD = re.compile(
    r"\b(?:plan|procedure|process|steps?|actions?|playbook|runbook|instructions?|how[\s-]?to)\b"
    r"(?![^\n]*\b(?:criteria|triggers?|conditions?|thresholds?)\b)",
    re.I,
)
# "Rollback Decision Authority" / "**Automatic Rollback Authority:**": who may act, not when
_PEOPLE = re.compile(
    r"\bauthority\b|\bowners?(?:ship)?\b|\bresponsib\w*|\bapprovers?\b|\bwho\b|\bcontacts?\b|"
    r"\broles?\b|\bon[\s-]?call\b|\bescalation (?:path|chain|contacts?)|\bRACI\b",
    re.I,
)
_WHEN_LEAD = re.compile(r"^[\W_]*(?:when|if|whenever)\b|\bwhen to\b|\bif any\b", re.I)
# "**GO if**:", "**NO-GO if** (…):", "PROCEED WITH CAUTION if": a go/no-go call a person makes
# before going on, never a trigger the run watches (issue 11 §7).
_GO_LEAD = re.compile(
    r"^[\W_]*(?:no[\s-]?go|go|proceed(?: with caution)?|hold|continue)\b"
    r"[^\n]{0,20}?\b(?:if|when)\b",
    re.I,
)


def procedure_lead(context: str) -> bool:
    """The nearest lead-in (the context's last line) introduces a procedure's actions."""
    last = context.rsplit("\n", 1)[-1]
    if _WHEN_LEAD.search(last):  # "When to execute the rollback plan:" lists conditions
        return False
    return bool(last.strip()) and bool(_PROCEDURE_LEAD.search(last))


def go_no_go(context: str) -> bool:
    """The nearest lead-in is one side of a go/no-go decision ("NO-GO if:")."""
    last = context.rsplit("\n", 1)[-1]
    return bool(_GO_LEAD.match(last))


@memo()  # a pure function of its text (memo.py)
def soft_context(context: str) -> bool:
    """True for "Alert thresholds", "Guardrails", "Monitor and decide": conditions may be
    listed there, next to other things."""
    return bool(_SOFT_CONTEXT.search(context))


def human_decides(context: str) -> bool:
    """ "Monitor and decide (no automatic action)", "evaluate within 2 hours": alert a person,
    never act for them."""
    return bool(_HUMAN_DECIDES.search(context))


def measured(metric: str) -> Polarity | None:
    """Whether more of what the words name is worse (``high_is_bad``) or less is."""
    for pattern, polarity in _MEASURED:
        if pattern.search(metric):
            return polarity
    return None


def plain_metric(metric: str) -> str:
    """The metric's words, trimmed for a message: "Performance degradation"."""
    return " ".join(metric.split()).strip(" :-–—(").lower() or "value"


def describes_failure(metric: str, op: str) -> bool | None:
    """True when ``metric op value`` is a bad state ("error rate > 5%", "success rate <
    99%"), False when it is a good one ("error rate < 1%"), None when the words do not say."""
    polarity = measured(metric)
    if polarity is None or op not in (">", ">=", "<", "<="):
        return None
    rising = op in (">", ">=")
    return rising if polarity == "high_is_bad" else not rising


# "`/up` does not return 200 within 2 minutes", "stays `Degraded`", "is not `Healthy`": the good
# state negated, or a bad one that lasts, is a failure whatever good word it holds (round 11)
_NEGATED_GOOD = re.compile(
    r"\b(?:does\s+not|doesn['’]t|do\s+not|don['’]t|fails?\s+to|no\s+longer|never)\s+"
    r"(?:return|answer|respond|give|serve|become|turn|get|reach|go)\w*\s+(?:with\s+)?(?:an?\s+)?"
    r"(?:http\s+)?(?:status\s+)?(?:2\d\d|`?(?:healthy|ready|green|ok|available|synced|running)`?)\b|"
    r"\b(?:is|are)\s+not\s+(?:http\s+)?`?(?:2\d\d|healthy|ready|green|ok|available|synced|running)\b|"
    r"\bnon-?2\d\d\b|"
    r"\b(?:stays?|remains?|keeps?\s+being|is\s+still)\s+`?(?:degraded|unhealthy|failing|failed|"
    r"progressing|pending|crashloopbackoff|down|red|outofsync|missing|suspended|unknown)\b",
    re.I,
)


def text_is_failure(text: str) -> bool | None:
    """A condition without a number: "Health checks failing" (True), "All health checks
    passing" (False), "Executive decision" (None)."""
    if _NEGATED_GOOD.search(text):
        return True
    bad = bool(_BAD_STATE.search(re.sub(r"\b(?:no|zero|without)\s+\w+", "", text, flags=re.I)))
    good = bool(_GOOD_STATE.search(text))
    if bad and not good:
        return True
    if good and not bad:
        return False
    return None


# "Revert nameservers back to GoDaddy", "Debug and retry when ready", "Notify the team": an
# item that orders an action is a step of a procedure, not a condition to watch, even under a
# heading that names rollback criteria (a condition states a number or a state).
_IMPERATIVE = re.compile(
    r"^[\W_]*(?:revert|restore|roll\s+back|rollback|re-?deploy|redeploy|debug|retry|notify|"
    r"contact|inform|communicate|announce|switch|run|execute|disable|enable|re-?enable|stop|"
    r"start|restart|scale|delete|remove|update|point|re-?point|flip|send|post|page|call|open|"
    r"create|document|record|log|keep|wait|monitor|watch|investigate|review|assess|escalate|"
    r"follow|use|set|change|deploy|verify|confirm|ensure|check|test|fix|practice|schedule|"
    r"communicate|restaurar|revertir|ejecutar|notificar|zur[uü]cksetzen|wiederherstellen)\b",
    re.I,
)
# "Expected: <3 minutes", "Expected answer: …", "Result: PASS / FAIL", "Target: < 200ms",
# "Question: …": what a drill or a check should show, never a condition that acts.
_EXPECTATION_LABEL = re.compile(
    r"^[\W_]*(?:expected(?:\s+\w+)?|result|results|target|goal|question|answer|outcome|"
    r"success|pass|baseline|normal|esperado|resultado|erwartet)\s*[:：]",
    re.I,
)
# "Old site will become active again": what a step will bring about, not a state to watch.
_OUTCOME = re.compile(r"^[\w\s'-]{1,60}?\bwill\b(?!\s+(?:fail|error|crash|break|exceed))", re.I)


# "A single support ticket about prices is *not* a reason to roll back", "… alone does not
# justify a rollback", "ist kein Grund für einen Rollback", "no es motivo para revertir",
# "不是回滚的理由": the author names what must NOT act (blind round 7).
_NOT_A_REASON = re.compile(
    r"\b(?:is|are)\s+not\s+(?:(?:a|an|enough|sufficient|by itself|on its own)\s+)*"
    r"(?:reason|grounds?|cause|trigger|criterion)\b|\b(?:is|are) no (?:reason|grounds|trigger)\b|"
    r"\bdo(?:es)?(?: not|n['’]t) (?:trigger|warrant|justify|call for|mean)\b[^.\n]{0,20}"
    r"(?:roll|revert|abort|halt|pause|stop)|\bnot (?:by itself |alone )?a reason\b|"
    r"\bkein(?:e|en)? (?:grund|anlass)\b|\bno es (?:un )?(?:motivo|raz[oó]n)\b|"
    r"\bno (?:justifica|amerita)\b|\bn['’]est pas une raison\b|\bne justifie pas\b|"
    r"\bn[aã]o [ée] (?:um )?(?:motivo|raz[aã]o)\b|\bnie jest powodem\b|"
    r"\bне (?:является )?(?:причиной|поводом)\b|\bне привод\w*|\bnen[ií] d[uů]vodem\b|"
    r"\b(?:nedeni|sebebi) de[gğ]il|\bnon [èe] (?:un )?motivo\b|\bis geen reden\b|"
    r"\b[aä]r inte (?:ett )?sk[aä]l\b|不是[^。]{0,10}(?:理由|原因)|不构成|不足以|"
    r"理由(?:には|では)(?:なりません|ありません)|이유가\s*(?:아닙니다|되지)",
    re.I,
)


@memo()  # a pure function of its text (memo.py)
def not_a_condition(text: str) -> bool:
    """An item that cannot be a trigger's condition: an order, an expected result, an outcome,
    or what the author says is no reason to act."""
    flat = " ".join(text.split())
    if _NOT_A_REASON.search(flat.replace("*", "").replace("_", " ")):
        return True
    if _EXPECTATION_LABEL.match(flat) or _OUTCOME.match(flat):
        return True
    return bool(_IMPERATIVE.match(flat))


# "## Freeze (stop advancing, keep what is deployed)", "## Roll back (revert the pushed PoPs)",
# "**Halt:**", "Stopp", "Wstrzymaj": a heading or lead-in that is only an action (and what it
# means in parentheses) over a list: the items that read as conditions (a number, a bad state)
# are when to take it (blind round 7). Items that order something stay steps.
_ACTION_HEADING = re.compile(
    r"^[\W_]*(?:freeze|halt|hold|pause|stop(?:\s+(?:advancing|the\s+(?:rollout|waves?|ramp)))?|"
    r"abort|roll(?:ing)?[\s-]?back|revert|einfrieren|anhalten|stopp|geler|arr[eê]ter|"
    r"congelar|detener|pausar|wstrzymaj|zatrzymaj|заморозить|остановить|durdur|停止|暂停|冻结|"
    r"一時停止|중단|롤백|回滚)\s*(?:\([^)\n]{0,80}\))?[\s.:：*_]*$",
    re.I | re.M,
)


def action_heading(context: str) -> bool:
    """Whether the heading or nearest lead-in is an action alone (its list: when to take it)."""
    return bool(_ACTION_HEADING.search(context))
