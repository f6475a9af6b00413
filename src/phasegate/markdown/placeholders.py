"""Placeholders in commands (``<node>``, ``YOUR_TOKEN``, ``your_key_here``, ``YYYYMMDD``,
``1.27.x``, ``[Current IP]``, ``xxx``) -> named variables that need binding.

A runbook leaves some values to its reader. Run as written, ``kubectl drain <node>`` is a
redirect from a file called ``node>`` and ``echo your_new_token_here > token`` writes a
placeholder into production. Each placeholder becomes ``${NAME}`` in the command and a plan
variable read from the environment with ``needs_binding`` naming the placeholder and its
Markdown line, so ``validate`` lists it and ``run`` refuses the plan until it is bound.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from phasegate.markdown import placeholders11
from phasegate.markdown.draft import Draft
from phasegate.markdown.memo import memo
from phasegate.markdown.parse import Document, Item, Paragraph
from phasegate.substitution import BUILTINS

# Tags a command may legitimately echo (`echo "<html>"`): never placeholders.
_HTML_TAGS = frozenset(
    [
        "a",
        "b",
        "i",
        "p",
        "br",
        "hr",
        "div",
        "span",
        "html",
        "head",
        "body",
        "title",
        "script",
        "style",
        "pre",
        "code",
        "table",
        "tr",
        "td",
        "th",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "img",
        "meta",
        "link",
        "em",
        "strong",
    ]
)
_PATTERNS = [
    # {{DB_PASSWORD}}, {{ db_host }}: a template's slot the reader fills; not `${{ secrets.X }}`
    # (GitHub Actions) nor Go templates (`{{.State.Running}}`, `{{json .Config}}`)
    ("mustache", re.compile(r"(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_-]{0,40})\s*\}\}")),
    # [[HOST_SUBDOMAIN]]: a tutorial platform's slot (`[[ -f x ]]` has spaces, so it is a test)
    ("double-bracket", re.compile(r"\[\[([A-Za-z][A-Za-z0-9_]*)\]\]")),
    # <node>, <REV>, <your-project-id>: not a heredoc (<<), not a process substitution
    ("angle", re.compile(r"(?<![<\w])<([A-Za-z][A-Za-z0-9_.:-]{0,40})>(?!>)")),
    # <email address for on-premises administrator>: words in angle brackets (a redirection
    # `<in.txt >out` has a space before its `>`, a tag `<a href="…">` quotes and `=`)
    (
        "angle",
        re.compile(r"(?<![<\w])<([A-Za-z][\w.:-]*(?: [A-Za-z0-9][\w.:-]*){1,8})>(?!>)"),
    ),
    # [Current IP], [cluster name]: words in brackets, not a test `[ -f x ]` or array index
    (
        "bracket",
        # a one-word all-caps tag (`[PLMS]`, `[ERROR]`) is a label, not a placeholder
        re.compile(
            r"(?<![\w\]\[$\\])\[([A-Z][A-Za-z0-9_]*(?: [A-Za-z0-9_]+){1,4}|[A-Z][a-z]+)\]"
            r"(?![(\[])"
        ),
    ),
    # migrations/[nombre]/x.sql: a lower-case word in brackets as a path part (in a message,
    # `[info] done`, it is a label)
    (
        "bracket",
        re.compile(r"(?<=/)\[([^\W\d_][^\W\d]{2,30})\](?=[/.])|\[([^\W\d_][^\W\d]{2,30})\](?=/)"),
    ),
    # postgresql@[new version]-[cluster], -D [mountpoint]/pgsql, --jobs [number of cpus]: lower-case
    # words in brackets joined to a value or standing as an argument; not a test `[ -f x ]`
    # (spaces inside), an array index `${a[0]}`, a glob `[0-9]` nor a `[[ … ]]` test
    (
        "bracket",
        re.compile(
            # joined to a value on either side: one word is enough
            r"(?<=[/@=:-])\[([a-z][a-z]{1,20}(?: [a-z]{1,20}){0,3})\](?=[/@.:\"'\s-]|$)|"
            r"(?:(?<=[\"'\s]))\[([a-z][a-z]{1,20}(?: [a-z]{1,20}){0,3})\](?=[/@.-])|"
            # standing alone: several words (`[number of cpus]`), never a one-word `[info]` label
            r"(?<=\s)\[([a-z][a-z]{1,20}(?: [a-z]{1,20}){1,3})\](?=[\s\"']|$)"
        ),
    ),
    # {environment}, {target-slot}, {table_name}: one word in braces; not `${x}`, `{{x}}`, a
    # brace expansion `{a,b}` / `{1..3}`, `find -exec {}`, awk/jq bodies (spaces, `$`, commas)
    # (nor `%{http_code}` of curl -w, `@{u}` of git)
    ("brace", re.compile(r"(?<![$\w{%@])\{([A-Za-z][A-Za-z0-9_-]{1,40})\}(?!\})")),
    # YOUR_TOKEN, your-project, _YOUR-GITHUB-TOKEN_
    (
        "your",
        re.compile(
            r"(?<![A-Za-z0-9])(_*YOUR[_-][A-Z0-9_-]*[A-Z0-9]_*|your[_-][a-z0-9_-]*[a-z0-9])"
            r"(?![A-Za-z0-9])"
        ),
    ),
    ("here", re.compile(r"\b([a-z0-9]+(?:_[a-z0-9]+)*_here)\b")),
    # YYYYMMDD, YYYY-MM-DD-HHMM, backup_YYYYMMDD_hhmmss (the time part in either case)
    (
        "date",
        re.compile(
            r"(?<![A-Za-z0-9])(YYYY[-_]?MM[-_]?DD"
            r"(?:[-_]?(?:HH|hh)(?:[-_]?(?:MM|mm)(?:[-_]?(?:SS|ss))?)?)?)(?![A-Za-z0-9])"
        ),
    ),
    ("version", re.compile(r"\b(v?\d+\.(?:\d+|x)\.x|v?\d+\.x|v?X\.Y\.Z)\b")),
    # `project-name start`, `deployment/app-name`: a template's generic name for the
    # reader's own (not `--service-name`, `$app_name`, nor an assignment `app_name=…`)
    (
        "generic-name",
        re.compile(
            r"(?<![\w./$-])((?:project|app|application|service|server|package|repo|module|"
            r"binary|cli|image|container|deployment|cluster|bucket|database|db)[-_]name)"
            r"(?![\w-])(?!\s*=)"
        ),
    ),
    ("xxx", re.compile(r"(?<![\w-])([xX]{3,})(?![\w-])")),
    # gke-pool-xxxx, web-XXX.example.com: a run of x's ending a name's part stands for the part
    # the reader fills (a node or pod suffix); not inside a word (`0xxx`, `max`)
    ("xxx", re.compile(r"(?<=[-_.])([xX]{3,})(?![A-Za-z0-9])")),
    ("changeme", re.compile(r"\b(CHANGE_?ME|changeme|REPLACE_?ME|replace[_-]me|PLACEHOLDER)\b")),
    # backup-TIMESTAMP.json, app:VERSION, --tag=COMMIT_SHA: a value's name in capitals, joined
    # to the text around it (a word on its own may be SQL or a message; `site/VERSION` a file)
    (
        "named",
        re.compile(
            r"(?<=[-_:=@])((?:[A-Z]+_)?(?:TIMESTAMP|DATE|VERSION|TAG|SHA|COMMIT|HOSTNAME|HOST|"
            r"REGION|ACCOUNT(?:_ID)?|PROJECT(?:_ID)?|CLUSTER|NAMESPACE|USERNAME|PASSWORD|TOKEN))"
            r"(?![\w:=-])"
        ),
    ),
    # psql -h HOSTNAME -U USERNAME, --region REGION: a value's name in capitals standing as a
    # flag's argument (a host called "HOSTNAME" exists nowhere); the name is group 1
    (
        "flag-value",
        re.compile(
            r"(?<!\S)(?:-[A-Za-z]|--[a-z][a-z0-9-]*)\s+((?:[A-Z]+_)?(?:HOSTNAME|HOST|USERNAME|"
            r"USER|PASSWORD|DBNAME|DATABASE|PORT|REGION|ZONE|NAMESPACE|PROJECT(?:_ID)?|"
            r"ACCOUNT(?:_ID)?|CLUSTER(?:_NAME)?|NODE(?:_NAME)?|BUCKET(?:_NAME)?|DOMAIN|"
            r"IP(?:_ADDRESS)?|SERVER|INSTANCE(?:_ID)?|TOKEN|API_KEY|SECRET|VERSION|TAG|IMAGE)(?:_NAME)?)"
            r"(?![\w/.:=$-])"
        ),
    ),
    # psql "DATABASE_URL", --dbname=DATABASE_URL: a variable's name written where its value
    # goes (the `$` is missing), so the command would use the name itself as the value
    (
        "literal-name",
        re.compile(
            r"(?<=[=\"'])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:URL|URI|DSN|API_KEY|KEY|SECRET|TOKEN|"
            r"PASSWORD|PASSWD))(?=[\"'\s]|$)"
        ),
    ),
    # /path/to/app, /votre/chemin/mon-projet, C:\tu\ruta: a path in the reader's words
    # (a segment "your", "votre", "dein", "seu", "chemin", "ruta", "path/to"; filtered in find)
    ("path", re.compile(r"(?<![\w$/\\.~-])((?:[A-Za-z]:)?[\\/]?(?:[\w.-]+[\\/])+[\w.-]*)")),
    # --proxy 0xPROXY_ADDRESS, --contract 0xCONTRACT_ADDRESS: an address named, not given (a
    # real one is hex digits only)
    ("hex-name", re.compile(r"(?<![\w$])0x([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w])")),
    # git revert abc123, VERSION_ID="abc123xyz": the stock fake commit or id of examples
    (
        "fake-id",
        re.compile(r"(?<![\w./-])(abc-?123(?:[a-z0-9]{0,12})|a1b2c3(?:d4)?[a-z0-9]{0,8})(?![\w-])"),
    ),
    # postgresql://... , redis://...: a connection string the author elided
    ("elided", re.compile(r"\b([a-z][a-z0-9+.-]*://\.\.\.)")),
]


_PATTERNS += placeholders11.PATTERNS  # Go template fields, dates and words in other scripts

_ANGLE = next(pattern for kind, pattern in _PATTERNS if kind == "angle")


def mask_for_parsing(line: str) -> str:
    """``pg_dump -p <port> > dump`` as the shell parser should see it: ``<port>`` is a value the
    reader fills, not a redirection from a file called ``port>`` (which makes the line a syntax
    error, read as prose). Each angle placeholder becomes one plain word; only the parse sees
    this, the command keeps its text (and :func:`bind` makes the placeholder a variable)."""
    if "<" not in line:
        return line
    return _ANGLE.sub(_masked_word, line)


def _masked_word(match: re.Match[str]) -> str:
    if match.group(1).lower() in _HTML_TAGS:
        return match.group(0)
    return "PH_" + re.sub(r"[^A-Za-z0-9_]", "_", match.group(1))


@dataclass
class Found:
    text: str
    name: str


def _name(kind: str, text: str) -> str:
    named = placeholders11.name(kind, text)
    if named is not None:
        return named
    inner = text.strip("<>[]{}_ ")
    if kind == "path":
        last = [p for p in re.split(r"[\\/]", text) if p][-1]
        return "DIR_" + (re.sub(r"[^A-Za-z0-9]+", "_", last).strip("_").upper() or "VALUE")
    if kind == "elided":
        return re.sub(r"[^A-Z0-9]+", "_", text.split("://", maxsplit=1)[0].upper()) + "_URL"
    if kind == "date":
        return "DATE_" + re.sub(r"[^A-Z]", "_", inner.upper()).strip("_")
    if kind == "version":
        return "VERSION_" + re.sub(r"[^A-Z0-9]", "_", inner.upper()).strip("_")
    if kind == "xxx":
        return "PLACEHOLDER_XXX"
    if kind == "hex-name":
        return text[2:]
    if kind == "fake-id":
        return "EXAMPLE_" + re.sub(r"[^A-Z0-9]", "_", text.upper())
    if kind == "changeme":
        return "PLACEHOLDER_CHANGEME"
    name = re.sub(r"[^A-Za-z0-9]+", "_", inner).strip("_").upper()
    name = re.sub(r"^YOUR_", "", name)
    name = re.sub(r"_HERE$", "", name)
    if not name or name[0].isdigit():
        name = "VALUE_" + name
    return name


def find(command: str) -> list[tuple[int, int, Found]]:
    """Placeholders in a command: (start, end, what), not overlapping, in order. Fresh
    ``Found`` objects each call; the search itself is memoized by the command (memo.py)."""
    return [(start, end, Found(text, name)) for start, end, text, name in _found(command)]


@memo(4096)
def _found(command: str) -> tuple[tuple[int, int, str, str], ...]:
    return tuple((start, end, f.text, f.name) for start, end, f in _find(command))


def _find(command: str) -> list[tuple[int, int, Found]]:
    spans: list[tuple[int, int, Found]] = []
    literal = _quoted_heredocs(command) + _comments(command)
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(command):
            text = match.group(1) if kind == "flag-value" else match.group(0)
            if kind == "angle" and match.group(1).lower() in _HTML_TAGS:
                continue
            if kind == "brace" and (
                match.group(1) in _AWK_WORDS or _in_format_string(command, match.start())
            ):
                continue  # awk '{print}', Python's f"{name}" / "{name}".format(…)
            if kind == "mustache" and match.group(1) in _GO_TEMPLATE_WORDS:
                continue  # `{{end}}` closes a Go template's `{{range …}}`
            if placeholders11.skip(kind, command, match.start()):
                continue  # `--format '{{.Tag}}'`: the tool's own template
            if kind == "path" and not _readers_path(match.group(1)):
                continue
            if kind == "named" and _in_variable_name(command, match.start()):
                continue  # `$IMAGE_TAG`: a shell variable
            start, end = match.span(1) if kind == "flag-value" else match.span()
            if any(s <= start < e for s, e in literal):
                continue  # a quoted heredoc's body is written as is: `${X}` would not expand
            if any(s < end and start < e for s, e, _ in spans):
                continue
            if command[max(0, start - 2) : start].endswith(("${", "$")):
                continue  # `$YOUR_TOKEN`: a shell variable, declared by emit and bound below
            spans.append((start, end, Found(text, _name(kind, text))))
    return sorted(spans, key=lambda s: s[0])


_AWK_WORDS = frozenset({"print", "next", "exit", "getline", "printf", "delete"})
_GO_TEMPLATE_WORDS = frozenset(
    {"end", "else", "range", "if", "with", "define", "template", "block", "break", "continue"}
)
# path segments that say "the reader's": English, French, Spanish, German, Portuguese
_READERS = frozenset(
    {
        "your",
        "yours",
        "votre",
        "vos",
        "ton",
        "ta",
        "tes",
        "mon",
        "ma",
        "mes",
        "tu",
        "tus",
        "su",
        "sus",
        "dein",
        "deine",
        "ihr",
        "ihre",
        "mein",
        "meine",
        "seu",
        "sua",
        "meu",
        "minha",
        "chemin",
        "ruta",
        "pfad",
        "caminho",
    }
)


def _readers_path(path: str) -> bool:
    """``/path/to/app``, ``/votre/chemin/mon-projet``: a path the reader replaces with theirs."""
    if "://" in path:
        return False
    parts = [p.lower() for p in re.split(r"[\\/]", path) if p]
    if any(a == "path" and b == "to" for a, b in itertools.pairwise(parts)):
        return True
    return sum(p in _READERS for p in parts) >= 1 and len(parts) >= 2


def _in_format_string(command: str, index: int) -> bool:
    """Whether ``index`` is inside a Python f-string or a string given to ``.format``."""
    line_start = command.rfind("\n", 0, index) + 1
    line_end = command.find("\n", index)
    line = command[line_start : len(command) if line_end < 0 else line_end]
    quote: str | None = None
    opened = 0
    for pos, ch in enumerate(line[: index - line_start]):
        if quote is None and ch in "'\"":
            quote, opened = ch, pos
        elif ch == quote:
            quote = None
    if quote is None:
        return False
    if opened > 0 and line[opened - 1] in "fF":
        return True
    closing = line.find(quote, index - line_start)
    return closing >= 0 and line[closing + 1 :].startswith(".format(")


def _in_variable_name(command: str, index: int) -> bool:
    """Whether ``index`` is inside a ``$NAME`` / ``${NAME}`` reference."""
    start = index
    while start > 0 and (command[start - 1].isalnum() or command[start - 1] == "_"):
        start -= 1
    return command[max(0, start - 2) : start].endswith(("$", "${"))


_HEREDOC = re.compile(r"<<-?\s*(['\"])([A-Za-z_][\w-]*)\1")


def _quoted_heredocs(command: str) -> list[tuple[int, int]]:
    """Character ranges of the bodies of ``<<'EOF'`` heredocs."""
    ranges: list[tuple[int, int]] = []
    for match in _HEREDOC.finditer(command):
        body = command.find("\n", match.end())
        if body < 0:
            continue
        end = re.compile(rf"^\s*{re.escape(match.group(2))}\s*$", re.M).search(command, body + 1)
        ranges.append((body, end.start() if end else len(command)))
    return ranges


def _comments(command: str) -> list[tuple[int, int]]:
    """Character ranges of shell comments (``# AWS CLI v2.x``): nothing there runs, so a
    placeholder there needs no binding."""
    ranges: list[tuple[int, int]] = []
    offset = 0
    for line in command.splitlines(keepends=True):
        quote: str | None = None
        for index, ch in enumerate(line):
            if quote is None and ch in "'\"":
                quote = ch
            elif ch == quote:
                quote = None
            elif (
                quote is None
                and ch == "#"
                and (index == 0 or line[index - 1] in " \t;")
                and not line[index:].startswith("#!")
            ):
                ranges.append((offset + index, offset + len(line)))
                break
        offset += len(line)
    return ranges


def _in_single_quotes(command: str, index: int) -> bool:
    line_start = command.rfind("\n", 0, index) + 1
    quote: str | None = None
    for ch in command[line_start:index]:
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return quote == "'"


_SHELL_VAR = re.compile(r"\$\{?(YOUR_[A-Z0-9_]+|[A-Z0-9_]+_HERE)\b")


# "In this guide's example, we will refresh back to revision `88`", "for example `eu-west-1`":
# the author says the value is theirs, not the reader's.
_EXAMPLE_SAID = re.compile(
    r"\b(?:in|for) (?:this|the|our|that) (?:[\w-]+(?:'s)? ){0,2}example\b|\bexample (?:value|"
    r"revision|version|name)s?\b|\bas an example\b|\bby way of example\b|\bsuch as\b|"
    r"\be\.g\.|\bfor example\b|\bfor instance\b|\bpor ejemplo\b|\bzum beispiel\b|例如|比如",
    re.I,
)
# what an example value looks like: a number of two digits or more, a version, an id or name
# with a digit in it; not a word (`main`, `true`) a command may use for its own sake
_EXAMPLE_VALUE = re.compile(
    r"^(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9._:/@-]{1,39}$"
    # or a host name of three labels or more ("in this example, `cdn-demo.example.net`")
    r"|^[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9][a-z0-9-]{0,62}){2,}$"
)


def example_values(doc: Document) -> dict[str, int]:
    """Inline-code values the prose calls an example: value -> the line saying so."""
    found: dict[str, int] = {}
    for block, sentence in _code_sentences(doc, _EXAMPLE_SENTENCES):
        if not _EXAMPLE_SAID.search(sentence):
            continue
        for raw in block.code:
            value = raw.strip()
            if _EXAMPLE_VALUE.match(value) and f"`{value}`" in sentence:
                found.setdefault(value, block.line)
            assigned = _EXAMPLE_ASSIGNMENT.match(value)
            if assigned and f"`{value}`" in sentence:
                # `version="v1.0.0"` "for example": `$version` is the reader's to set
                found.setdefault("$" + assigned.group(1), block.line)
    return found


# sentence ends: after . ! ? ; (and : for examples, not after "e.g." / "i.e."), and CJK ones
_EXAMPLE_SENTENCES = re.compile(r"(?<=[.!?;:])(?<!e\.g\.)(?<!i\.e\.)\s+")
_REPLACE_SENTENCES = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")


def _code_sentences(doc: Document, ends: re.Pattern[str]) -> Iterator[tuple[Paragraph | Item, str]]:
    """Each sentence of each paragraph or list item that has inline code, with its block."""
    for section in doc.root.walk():
        for block in section.blocks:
            if not isinstance(block, (Paragraph, Item)) or not block.code:
                continue
            for sentence in ends.split(getattr(block, "text", "")):
                yield block, sentence


_EXAMPLE_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=\S+$")


# "Replace `my-project-id` and `CLUSTER_NAME` with your values", "Remplacez `mon-projet` par le
# vôtre": the author names the values that are the reader's to give
_REPLACE_SAID = re.compile(
    r"\b(?:replace|substitute|swap)\b.*\b(?:with|by|for)\s+(?:your|yours|the (?:real|actual|"
    r"correct|right)|(?:an? )?(?:real|actual) (?:value|one)s?|own)\b|"
    r"\bchange\b.*\bto (?:your|match your)\b|"
    r"\bremplace[zr]?\b.*\bpar\b|\b(?:reemplaz|sustitu)\w*\b.*\b(?:por|con)\b|"
    r"\bersetze[n]?\b.*\b(?:durch|mit)\b|\b(?:substitua|troque)\b.*\b(?:por|pel[oa])\b|"
    r"替换|换成|置き換え",
    re.I,
)
# the value a command takes (`my-project-id`, `CLUSTER_NAME`), not a file or a command to edit
_REPLACED_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:@-]{2,59}$")
_FILE_LIKE = re.compile(r"\.(?:ya?ml|json|conf|cfg|ini|toml|tf|md|txt|sh|py|env|properties)$", re.I)
# "Replace the tag in `deploy.yaml` with yours": a span after "in"/"of" is where, not what
_WHERE_BEFORE = re.compile(
    r"\b(?:in|of|from|inside|within|into|to|under|dans|en|im|no|na)\s*$", re.I
)


def replaced_values(doc: Document) -> dict[str, int]:
    """Inline-code values a sentence tells the reader to replace with theirs -> its line."""
    found: dict[str, int] = {}
    for block, sentence in _code_sentences(doc, _REPLACE_SENTENCES):
        if not _REPLACE_SAID.search(sentence):
            continue
        for raw in block.code:
            value = raw.strip()
            at = sentence.find(f"`{value}`")
            if (
                at < 0
                or not _REPLACED_VALUE.match(value)
                or _FILE_LIKE.search(value)
                or _WHERE_BEFORE.search(sentence[:at])
            ):
                continue
            found.setdefault(value, block.line)
    return found


def _bind_replaced(draft: Draft, command: str, line: int) -> str:
    """A value the prose says to replace, used verbatim in a command -> ``${NAME}`` needing
    binding (also inside a longer name: ``gke-CLUSTER_NAME-default-pool``)."""
    literal = _quoted_heredocs(command) + _comments(command)
    for value, said in draft.replaced.items():
        pattern = re.compile(rf"(?<![A-Za-z0-9_$]){re.escape(value)}(?![A-Za-z0-9_])")
        matches = [
            m for m in pattern.finditer(command) if not any(s <= m.start() < e for s, e in literal)
        ]
        if not matches:
            continue
        name = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()
        if not name[0].isalpha() or name in BUILTINS:
            name = "VALUE_" + name
        ref = "${" + name + "}"
        out, last = [], 0
        for m in matches:
            out.append(command[last : m.start()])
            out.append(f"'\"{ref}\"'" if _in_single_quotes(command, m.start()) else ref)
            last = m.end()
        out.append(command[last:])
        command = "".join(out)
        spec = draft.vars.get(name)
        if spec is None:
            draft.vars[name] = {
                "env": name,
                "needs_binding": f"placeholder `{value}` at {draft.source}:{line}: line {said} "
                "says to replace it with your value",
                "description": f"placeholder `{value}` in the document",
            }
            draft.note("needs_binding", line=line, what=f"placeholder `{value}` -> {ref}")
        else:
            _declare(draft, name, value, line)
    return command


def _replace_keeping_key(ref: str, match: re.Match[str]) -> str:
    return (match.group(1) or "") + ref


def _bind_examples(draft: Draft, command: str, line: int) -> str:
    """An example value used verbatim in a command -> ``${NAME}`` needing binding: run as
    written, the reader's system gets the author's revision, region or id."""
    for value, said in draft.examples.items():
        if value.startswith("$"):
            command = _bind_example_variable(draft, command, line, value[1:], said)
            continue
        pattern = re.compile(
            rf"(?<![\w.$-])(--?[A-Za-z][\w-]*=|[A-Za-z_][\w]*=)?{re.escape(value)}(?![\w.-])"
        )
        match = pattern.search(command)
        if match is None:
            continue
        key = (match.group(1) or "").strip("-=")
        name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper() or "EXAMPLE_VALUE"
        if not name[0].isalpha():
            name = "EXAMPLE_" + name
        if name in BUILTINS:
            name = "EXAMPLE_" + name
        text = value
        ref = "${" + name + "}"
        command = pattern.sub(functools.partial(_replace_keeping_key, ref), command)
        where = f"{draft.source}:{line}"
        if name not in draft.vars:
            draft.vars[name] = {
                "env": name,
                "needs_binding": f"`{text}` at {where} is the document's example value "
                f"(line {said} says so): give yours",
                "description": f"example value `{text}` in the document",
            }
            draft.note("needs_binding", line=line, what=f"example value `{text}` -> ${{{name}}}")
    return command


def _bind_example_variable(draft: Draft, command: str, line: int, name: str, said: int) -> str:
    """``$version`` where only the prose's example sets it: a value the reader must give (an
    empty one would make ``git push origin $version`` push the current branch)."""
    if not re.search(rf"\$\{{?{re.escape(name)}\b", command):
        return command
    if re.search(rf"(?:^|[\s;&|(]){re.escape(name)}=", command):
        return command  # the command sets it itself
    spec = draft.vars.get(name)
    if spec is None or (isinstance(spec, dict) and "needs_binding" not in spec):
        draft.vars[name] = {
            "env": name,
            "needs_binding": f"`${name}` at {draft.source}:{line} is set only by the document's "
            f"example (line {said}): give yours",
            "description": f"a value the document sets by example (line {said})",
        }
        draft.note("needs_binding", line=line, what=f"example variable `${name}`")
    return command


def bind(draft: Draft, command: str, line: int) -> str:
    """The command with each placeholder replaced by ``${NAME}``; each NAME becomes a plan
    variable that needs binding, naming the placeholder and its line."""
    if draft.examples:
        command = _bind_examples(draft, command, line)
    if draft.replaced:
        command = _bind_replaced(draft, command, line)
    out: list[str] = []
    last = 0
    for start, end, found in find(command):
        name = found.name
        if name in BUILTINS:
            if found.text.lstrip().startswith("$"):
                continue  # `$RUN_DIR`: the engine's own variable
            # `<RUN_ID>` (the id `gh run list` shows): the reader's value, never the engine's
            # own `$RUN_ID`, and never left to run literally (blind round 12)
            name = "DOC_" + name
        ref = "${" + name + "}"
        out.append(command[last:start])
        out.append(f"'\"{ref}\"'" if _in_single_quotes(command, start) else ref)
        last = end
        _declare(draft, name, found.text, line)
    out.append(command[last:])
    for match in _SHELL_VAR.finditer(command):  # `$YOUR_TOKEN`: the reader's value too
        _declare(draft, match.group(1), match.group(0), line)
    return "".join(out)


def _declare(draft: Draft, name: str, text: str, line: int) -> None:
    where = f"{draft.source}:{line}"
    spec = draft.vars.get(name)
    if isinstance(spec, dict) and "placeholder" in str(spec.get("description", "")):
        if where not in spec["needs_binding"]:
            spec["needs_binding"] += f", {where}"
        return
    if spec is not None:
        return
    draft.vars[name] = {
        "env": name,
        "needs_binding": f"placeholder `{text}` at {where}: the value the document leaves "
        f"to its reader",
        "description": f"placeholder `{text}` in the document",
    }
    draft.note("needs_binding", line=line, what=f"placeholder `{text}` -> ${{{name}}}")


# Blind round 7: placeholders the patterns above missed, one class each.
_PATTERNS += [
    # TU_TOKEN_DE_VAULT, VOTRE_MOT_DE_PASSE, DEIN_TOKEN, SEU_PROJETO, tu-proyecto: "your" in
    # Spanish, French, German, Portuguese, Italian, Dutch, Polish (upper case joined by `_`,
    # or lower case joined by `-`/`_`; never a bare word)
    (
        "your",
        re.compile(
            # (not inside a name: `web-seu-01` is the host of the "seu" site, round 11)
            r"(?<![A-Za-z0-9$_.-])((?:TU|TUS|VOTRE|VOS|TON|DEIN|DEINE|IHR|IHRE|SEU|SUA|TEU|TUA|"
            r"TUO|VOSTRO|JOUW|TWOJ|TWOJA|TWOJE)_[A-Z][A-Z0-9_]*[A-Z0-9]|(?:tu|tus|votre|ton|dein|"
            r"deine|seu|sua|tuo|tua|jouw|twoj|twoja)[_-][a-z][a-z0-9_-]*[a-z0-9])(?![A-Za-z0-9])"
        ),
    ),
    # bgd-XXXXXXXXXXXX, i-xxxxxxxx, sg-XXXX: an id whose value is only its prefix and X's
    (
        "xxx",
        re.compile(r"(?<![\w$/.-])([a-z][a-z0-9]{0,15}[-_](?:[xX]{4,}))(?![\w-])"),
    ),
    # tmp/reattach_<timestamp>.csv, backup-<date>.sql: an angle placeholder joined to a name
    (
        "angle",
        re.compile(r"(?<=[\w.-])<([A-Za-z][A-Za-z0-9_-]{1,30})>(?=[._/-]|\s|$|['\"])"),
    ),
]
