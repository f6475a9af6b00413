"""What a line of a shell fence is when it parses but is no command (see shellparse.py): a
config line (``Type: A``), a URL, a DNS record, a psql meta-command or SQL typed in a client,
an API console request, a release label, a header of sample output, a line of prose."""

from __future__ import annotations

import re
import shutil
from functools import lru_cache

from phasegate.markdown import shell

# Kinds of text: what a human does or reads, never run.
CONFIG, URL, ZONE, PROSE, OUTPUT = "config", "url", "zone record", "prose", "sample output"
DEV_ONLY = "development only"  # a command never for production (markdown/devonly.py)
ASIDE = "aside"  # a command prose in the fence offers, not orders (markdown/listings.py)
SQL, REQUEST = "sql", "api request"
AGENT = "assistant command"  # an @-mention or agent command, not a program


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.I)
_RECORD_TYPES = frozenset(
    [
        "A",
        "AAAA",
        "CNAME",
        "MX",
        "TXT",
        "NS",
        "SOA",
        "SRV",
        "CAA",
        "PTR",
        "ALIAS",
        "SPF",
        "DS",
        "DNSKEY",
        "TLSA",
        "HTTPS",
        "SVCB",
    ]
)
_DOMAIN = re.compile(r"^(?:@|\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)$")
# a word of prose in any Latin-script language ("gewünscht", "métricas"): lower-case after the
# first letter (`[^\W\d_A-Z]` is a letter that is not an ASCII capital)
_PLAIN_WORD = re.compile(
    r"^[^\W\d_](?:[^\W\d_A-Z]|['’-])*[.,;:!?)]*$|^\(?[a-z](?:[^\W\d_A-Z]|['’-])*[.,;:!?)]*$"
)
_CAPS_WORD = re.compile(r"^[A-Z][A-Z0-9_/-]+$")
_ELIDED = re.compile(r"^(?:\.{3,}|…+)$")  # "..." or "…" opening an excerpt of a log
# "You should see one of the three messages:", "Expected output:", "The output looks like:",
# "Example output:", "It prints:": what follows is what a command shows, never a command.
OUTPUT_LEAD = re.compile(
    r"(?:\byou(?:'ll| will| should| would| may| might)(?: now| then)? see\b|"
    r"\b(?:expected|example|sample|typical)\s+(?:output|result|response)|"
    r"\boutput (?:looks|should look|will look|is) (?:like|similar)|"
    r"\b(?:it|this|which) (?:prints|returns|outputs|shows)|\b(?:should|will) (?:print|output|"
    r"return|show|display)\b(?! (?:a |an |the )?(?:command|script))|"
    r"^\W*(?:sample |example )?output\b|"
    r"salida esperada|sortie attendue|erwartete ausgabe|输出(?:如下|示例)?)[^\n]{0,80}[:：]\s*$",
    re.I,
)


def output_lead(context: str, body: str) -> bool:
    """The text right before a fence announces sample output (its last line ends in ':') and
    the fence does not open with a program: "This prints the version:" over `kubectl version`
    is still the command that prints it."""
    lines = [ln for ln in context.strip().splitlines() if ln.strip()]
    if not lines or not OUTPUT_LEAD.search(lines[-1].strip().strip("*_")):
        return False
    first = next(
        (ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), ""
    )
    word = shell.first_word(first.strip().removeprefix("$ "))
    return not word or (word not in shell.COMMAND_WORDS and not _on_path(word))


def text_kind(line: str) -> str | None:
    """What a line that parses as shell really is, when it is not a command."""
    words = line.split()
    first = words[0]
    if _URL.match(first) and len(words) == 1:
        return URL
    if agent_kind(line):
        return AGENT
    if first in ("-", "*", "@", "|") or (
        first.endswith(":") and len(first) > 1 and "/" not in first
    ):
        return CONFIG  # `Type: A`, `key: value`, a list bullet, a table row
    if len(words) >= 2 and words[1] in ("=", ":"):
        return CONFIG
    if _zone_record(words) or _typed_record(words):
        return ZONE
    if re.match(r"^\\[a-z]", first):
        return SQL  # `\q`, `\dt`: psql meta-commands
    if first in _SQL_WORDS and len(words) >= 2 and not _on_path(first):
        return SQL  # `DROP DATABASE x;` typed in psql, not a program named DROP
    if (
        first in _HTTP_METHODS
        and len(words) <= 3
        and _API_PATH.match(words[1] if len(words) > 1 else "")
    ):
        return REQUEST  # `PUT /_cluster/settings`: a console request (GET is lwp-request)
    if _VERSION_LABEL.match(first) and not _on_path(first):
        return PROSE  # `v1.0.0 – production deploy`: a release label
    if _output_header(words) or _ELIDED.match(first):
        return OUTPUT  # `NAME READY STATUS`, `... invalid record length at …` (a log excerpt)
    if _prose(words):
        return PROSE
    return None


_SQL_WORDS = frozenset(
    [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "DROP",
        "CREATE",
        "ALTER",
        "GRANT",
        "REVOKE",
        "TRUNCATE",
        "VACUUM",
        "ANALYZE",
        "REINDEX",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SHOW",
        "EXPLAIN",
        "COPY",
        "WITH",
    ]
)
_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"})
_API_PATH = re.compile(r"^/?[A-Za-z_][\w./?&=*,%-]*$")
_VERSION_LABEL = re.compile(r"^v?\d+(?:\.\d+)+(?:[-+][\w.]+)?$")


_JSON_KEY = re.compile(r'^\s*"[^"]+"\s*:')


def agent_kind(line: str) -> str | None:
    """`@orchestrate-agents coordinate …`: typed to a chat assistant, not a program."""
    words = line.split()
    first = words[0] if words else ""
    if first.startswith("@") and len(first) > 1 and not _on_path(first):
        return AGENT
    return None


def json_kind(body: list[str]) -> str | None:
    """A JSON body (``{`` then ``"key": …`` lines) that happens to parse as a brace group."""
    if body[0].strip() in ("{", "[") and any(_JSON_KEY.match(ln) for ln in body[1:]):
        return CONFIG
    return None


def _zone_record(words: list[str]) -> bool:
    """``example.com. 300 IN A 192.0.2.10`` / ``www CNAME example.com.``"""
    if not _DOMAIN.match(words[0]) or shell.looks_like_shell_line(" ".join(words)):
        return False
    rest = [w for w in words[1:] if not w.isdigit()]
    if rest and rest[0] == "IN":
        rest = rest[1:]
    return bool(rest) and rest[0] in _RECORD_TYPES and len(rest) >= 2


def _typed_record(words: list[str]) -> bool:
    """``txt cloudflare-verify.example.com 4767-4285``: a record written type first, as a DNS
    provider's form asks for it (no program of that name)."""
    return (
        len(words) >= 3
        and words[0].upper() in _RECORD_TYPES
        and bool(_DOMAIN.match(words[1]))
        and not _on_path(words[0])
        and words[0] not in shell.COMMAND_WORDS
    )


def _output_header(words: list[str]) -> bool:
    return len(words) >= 2 and all(_CAPS_WORD.match(w) for w in words) and not _on_path(words[0])


def _prose(words: list[str]) -> bool:
    """English words: a capitalised first word that is no program, then lower-case words."""
    first = words[0]
    # "Optionally, check the logs:": a capitalised word, maybe with its comma, starts prose
    if len(words) < 3 or not re.match(r"^[A-Z][^\W\d_A-Z]+,?$", first):
        return False
    first = first.rstrip(",")
    if first in shell.COMMAND_WORDS or _on_path(first):  # commands are case-sensitive
        return False
    plain = sum(1 for w in words[1:] if _PLAIN_WORD.match(w))
    return plain * 4 >= (len(words) - 1) * 3


@lru_cache(maxsize=4096)
def _on_path(word: str) -> bool:
    return shutil.which(word) is not None
