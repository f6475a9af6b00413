"""Fences that are a script file's contents, not commands to type (issue 11 §1).

"Create `traffic-ramp.sh`:" over a fence that starts with `#!/bin/bash` and reads `$1` `$2`
is a listing: run inline, `$1` is empty and the script exits 1 (or worse, runs with empty
arguments). A shebang alone is not enough ("Phase 1 deployment script" under a phase is the
phase's procedure, run top to bottom). A fence is a listing when it reads positional
parameters (`$1`, `${2}`, `$@`, `$#`) that nothing in it sets (no `set --`, no function that
receives them), or when the lead-in says to save it as a file ("create a file X with:",
"save as X.sh", "crea el archivo", "guardar como", "Datei … erstellen", "salve como",
"创建文件", "保存为"). The importer keeps it as data with a review note citing its line: a
person saves it where the document's later commands expect it.
"""

from __future__ import annotations

import re

from phasegate.markdown import languages

_POSITIONAL = re.compile(r"\$(?:[1-9]|\{[1-9][}:#%/-]|@|\*|#)")
_SETS_POSITIONAL = re.compile(r"\bset\s+--|^\s*(?:function\s+)?[\w-]+\s*\(\)\s*\{?", re.M)
_SAVE_AS = re.compile(
    r"\b(?:create|write|save|add|put)\b[^.\n]{0,40}\b(?:file|script)\b|\bsave (?:it |this )?as\b|"
    r"\bcontents? of\b|\bcrea(?:r)? (?:el |un |este )?(?:archivo|script|fichero)|"
    r"\bguarda(?:r)? (?:como|en)\b|\bdatei\b[^.\n]{0,40}\b(?:erstellen|anlegen|speichern)|"
    r"\b(?:erstelle|lege|speichere)\b[^.\n]{0,40}\bdatei|\bsalv(?:e|ar) como\b|"
    r"\bcri(?:e|ar) (?:o |um )?arquivo|创建(?:文件|脚本)|保存为|新建文件|"
    r"[\w.-]+\.(?:sh|bash)`?\s*[:：]\s*$",
    re.I,
)


def listing(text: str, lead: str) -> str | None:
    """Why the fence ``text`` (introduced by ``lead``) is a script file's contents, else None."""
    if _POSITIONAL.search(_without_comments(text)) and not _SETS_POSITIONAL.search(text):
        return "a script file's contents (it reads positional parameters $1, $2 …)"
    last = next((ln for ln in reversed(lead.strip().splitlines()) if ln.strip()), "")
    if _SAVE_AS.search(last):
        return "a script file's contents (the text says to save it as a file)"
    return None


def _without_comments(text: str) -> str:
    """The code outside comments and single quotes (awk's `'{print $6}'` is awk's field)."""
    code = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    return re.sub(r"'[^']*'", "''", code)


# Prose inside a fence that offers a command rather than ordering it: "You can retrieve it from
# the control-plane node:", "Optionally, …", "Puedes …", "Sie können …", "Você pode …", "可以…".
_ASIDE = re.compile(
    r"\byou (?:can|could|may|might)\b|\bcan be (?:found|retrieved|read|obtained|checked)\b|"
    r"\boptional(?:ly)?\b|\bif (?:you (?:want|need|wish|like|prefer)|desired)\b|"
    r"\bfalls gew[uü]nscht\b|\bwahlweise\b|\bsi (?:lo )?(?:deseas|quieres)\b|\bse quiser\b|"
    r"可选|如果需要|\bpuede[sn]?\b|\bpodr[ií]as?\b|"
    r"\b(?:sie )?k[oö]nn(?:en|t)(?: sie)?\b|\bkannst\b|\bvoc[eê] pode\b|\bpode(?:m|r)?\b|"
    r"可以|也可",
    re.I,
)


def aside(prose: str) -> bool:
    """Prose in a fence that makes the command after it an aside, not a step."""
    return bool(_ASIDE.search(prose))


# A paragraph before a fence that offers its commands rather than ordering them: "You can also
# use the curl command to verify the setting", "… can be retrieved by the following command".
# Stricter than an aside inside a fence: "Now you can run the migration:" is an order.
_OFFER = re.compile(
    # ("If you want, …" and "Alternatively, …" are options the operator chooses: decisions.py)
    r"\byou (?:can|could|may|might) also\b|\byou could\b|"
    r"\bcan (?:also )?be (?:found|retrieved|read|obtained|looked up)\b|"
    r"\btambi[eé]n (?:puede|podr)|\bauch k[oö]nnen\b|"
    r"\bvoc[eê] tamb[eé]m pode\b|也可以",
    re.I,
)


def offers(prose: str) -> bool:
    """A short paragraph offering the fence after it (never an order to run it)."""
    text = prose.strip()
    return 0 < len(text) <= 240 and bool(_OFFER.search(text))


# "**Do not run this on the primary** — it wipes the data directory:", "Never run the following
# unless the backup was verified:": the fence after it is what NOT to do (or only under a
# condition the run cannot judge); never run, listed for review.
_FORBIDS = re.compile(
    r"^[\W_]*(?:\*\*|__)?(?:(?:do not|don['’]t|never|must not|should not|shouldn['’]t|"
    r"nunca|niemals|jamais|nicht)\s+(?:\w+\s+)?(?:run|execute|type|apply|paste|use|"
    r"ejecutes?|ejecutar|ausf[uü]hren|ex[ée]cuter|executar?)\b|"
    # "No ejecutar nunca en producción:", "Não execute …", "N'exécutez jamais …", "Ne lancez pas"
    r"no (?:ejecut|corr|lanc|us)\w*|n[aã]o (?:execut|rod|us)\w*|n['’]ex[ée]cutez|ne (?:lancez|"
    r"jamais|pas)\b|nie(?:mals)? [^:\n]{0,40}ausf[uü]hren|[^:\n]{0,40}\bnicht ausf[uü]hren|"
    # "禁止在高峰期执行以下命令", "不要在生产环境运行", "本番では実行しないでください"
    r"(?:禁止|不要|切勿|请勿|严禁|絶対に)|[^:\n]{0,40}実行しないで|"
    # Italian, Dutch, Korean: "Da non eseguire mai", "Nooit uitvoeren", "절대 실행하지 마세요"
    r"(?:da )?non (?:eseguire|lanciare)|[^:\n]{0,40}\b(?:nooit|niet) uitvoeren|(?:절대|[^:\n]{0,40}"
    r"실행하지\s*마))",
    re.I,
)
# "For example, to drain a different node:", "Example:", "e.g.:": an illustration
_ILLUSTRATES = re.compile(
    r"^[\W_]*(?:\*\*|__)?(?:for (?:example|instance)|e\.\s?g\.|examples?|sample|"
    r"por ejemplo|ejemplo|zum beispiel|beispiel|z\.\s?b\.|par exemple|exemple|por exemplo|"
    r"exemplo|例如|比如|示例)\b[^\n]{0,160}[:：](?:\*\*|__)?\s*$",
    re.I,
)


def forbids(prose: str) -> bool:
    """A paragraph telling the reader NOT to run the fence after it."""
    return bool(_FORBIDS.search(prose.strip()))


_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[:：])\s+(?=\S)")
# "Do not apply if the plan destroys anything.": a condition on the order, no prohibition (a
# person judges it: round 5's review gate)
_UNLESS = re.compile(r"\b(?:if|unless|until|before|when|while|without)\b", re.I)
# "This is what **not** to run:", "Here is what you must never type:"
_WHAT_NOT = re.compile(
    r"\bwhat (?:you (?:must|should) )?(?:not|never) to (?:run|type|execute|do)\b|"
    r"\bwhat (?:you (?:must|should) )?(?:never|not) (?:run|type|execute)\b",
    re.I,
)


# "**@li.wei** 14:04 — can we just flush the queue?", "[14:04] <li.wei> …", "li.wei: …": a
# line of a chat pasted into the document
_CHAT_LINE = re.compile(
    r"^\s*(?:\*\*|__)?@[\w.-]+(?:\*\*|__)?\s+\d{1,2}:\d{2}\b|"
    r"^\s*\[\d{1,2}:\d{2}(?::\d{2})?\]\s*(?:<[\w.@-]+>|(?:\*\*)?@?[\w.-]+(?:\*\*)?:)",
    re.M,
)


def quoted_chat(prose: str) -> bool:
    """The text before a fence is a chat transcript pasted in (blind round 8): a fence in
    it is what someone proposed in the channel, never an order of the runbook."""
    return bool(_CHAT_LINE.search(prose))


def asks(prose: str) -> bool:
    """The text before a fence ends in a question ("can we just flush the queue?", "Should
    we restart the pods?"): it asks about the fence, it does not order it. Only a change is
    kept from running on that ground (a check under "Is replication healthy?" still runs)."""
    lines = [ln for ln in prose.strip().splitlines() if ln.strip()]
    return bool(lines) and lines[-1].rstrip(" *_").endswith(("?", "？", "؟"))


def forbids_fence(prose: str, fence: str) -> bool:
    """The text before a fence forbids running it (blind round 8): in its first sentence
    (:func:`forbids`), in its last one ("Do **not** fix a bad tag by force-pushing it. Never
    run:", "This is what **not** to run:"), or in a sentence whose inline code names the
    fence's command ("**Note from the DBA:** never run `flyway clean` against … people have
    overridden it before:" over `flyway -cleanDisabled=false clean`). Emphasis is read as
    text. A prohibition elsewhere that names nothing in the fence ("Never run it twice.
    Then:") is no prohibition of this fence."""
    text = _EMPHASIS.sub("", prose.strip())
    if forbids(prose) or forbids(text):
        return True
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if not sentences:
        return False
    last = sentences[-1]
    if (_FORBIDS.search(last) and not _UNLESS.search(last)) or _WHAT_NOT.search(text):
        return True
    words = set(re.findall(r"[\w.-]{3,}", fence.lower()))
    for sentence in sentences:
        if not _FORBIDS.search(sentence) or _UNLESS.search(sentence):
            continue
        for code in re.findall(r"`([^`\n]+)`", sentence):
            named = re.findall(r"[\w.-]{3,}", code.lower())
            if named and all(w in words for w in named):
                return True
    return False


def illustrates(prose: str) -> bool:
    """A lead-in introducing the fence after it as an example, not an order."""
    return bool(_ILLUSTRATES.search(prose.strip()))


# Blind round 7: the same classes in more languages (languages.py), one alternation more each.
_OFFER = re.compile(_OFFER.pattern + "|" + languages.OFFER, re.I)
_FORBIDS = re.compile(_FORBIDS.pattern + "|" + languages.FORBIDS, re.I)
# "While it runs you can talk to it. For instance, to throttle during peak:": the last sentence
# of a lead-in introduces an example, as a lead-in of its own would
_ILLUSTRATES = re.compile(
    _ILLUSTRATES.pattern
    + r"|[.!?]\s+(?:\*\*|__)?(?:for (?:example|instance)|e\.\s?g\.|por ejemplo|zum beispiel|"
    r"z\.\s?b\.|par exemple|por exemplo|ad esempio|per esempio|bijvoorbeeld|na przyk[lł]ad|"
    r"например|örneğin|například|till exempel)\b[^\n]{0,160}[:：](?:\*\*|__)?\s*$",
    re.I,
)
# "and to resume:", "or, to undo it:": a lead-in that goes on with the sentence before the
# fence above it (a lowercase conjunction, in the languages the tables cover)
_CONTINUES = re.compile(
    r"^(?:and|or|und|oder|et|ou|y|o|e|i|oraz|lub|albo|и|или|ve|veya|och|eller|en|of|a|nebo)"
    r",?\s+[^\n]{0,80}[:：]\s*$"
)


def continues(prose: str) -> bool:
    """A short lead-in that continues the sentence of the lead-in before it."""
    return bool(_CONTINUES.match(prose.strip()))
