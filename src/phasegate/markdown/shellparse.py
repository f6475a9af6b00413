"""What each line of a shell fence is: a command, or text a human wrote between commands.

Runbooks put more than commands in ``bash`` fences: zone-file records (``Type: A``), URLs,
prose ("This stops the static pods."), sample output (``NAME READY STATUS``), and commands
that never end by themselves (``watch``, ``tail -f``, ``kubectl get pods -w``). A word list of
known commands cannot tell them apart, so a fence is read with a real shell parser:

1. **Syntax** — bashlex (a port of bash's own grammar) cuts the fence into complete commands
   (a ``\\`` continuation, a heredoc, an ``if … fi`` spanning lines is one unit). Where bashlex
   has a gap (``[[ … ]]``, ``$(( … ))``, ``case`` patterns) ``bash -n`` gives a second opinion;
   a line neither accepts is text.
2. **Meaning** — a unit that parses is still text when its command word cannot be a command: it
   ends in ``:`` (``Type: A``), is a URL, a DNS record (``@ 300 IN A …``), a line of English
   prose (capitalised word, lower-case words after it, not a program on PATH), or a header of
   sample output (``NAME READY STATUS``).
3. **Never-ending** — a unit whose command waits for a human or never exits (``watch``,
   ``tail -f``, ``-w`` / ``--watch``, ``port-forward``, ``-it``, editors, a bare ``ssh host``,
   ``read`` prompts, ``top``, ``ping`` without ``-c``) is marked, so it never becomes a plain
   step or gate that hangs until a timeout and then rolls back a healthy deployment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import bashlex  # type: ignore[import-untyped]

from phasegate.markdown import devonly, listings, loops, servers, shell

# Kinds of text: what a human does or reads, never run.
CONFIG, URL, ZONE, PROSE, OUTPUT = "config", "url", "zone record", "prose", "sample output"
DEV_ONLY = "development only"  # a command never for production (markdown/devonly.py)
ASIDE = "aside"  # a command prose in the fence offers, not orders (markdown/listings.py)
SQL, REQUEST = "sql", "api request"


@dataclass
class Unit:
    """One complete command (possibly several lines), a comment, or a line of text."""

    start: int  # line offset inside the script
    lines: list[str]
    kind: str  # "command" | "comment" | "blank" | one of the text kinds
    forever: str | None = None  # why the command never ends by itself

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def is_text(self) -> bool:
        return self.kind not in ("command", "comment", "blank")


_INCOMPLETE = re.compile(r"unexpected EOF|end-of-file|end of file|wanted '", re.I)
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
_MAX_UNIT_LINES = 400  # a heredoc or loop longer than this is read line by line


def analyse(script: str) -> list[Unit]:
    """The fence cut into units, each with its kind."""
    lines = script.splitlines()
    units: list[Unit] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            units.append(Unit(i, [line], "blank"))
            i += 1
            continue
        if stripped.startswith("#"):
            units.append(Unit(i, [line], "comment"))
            i += 1
            continue
        end, tree = _complete_unit(lines, i)
        if end is None:  # neither bashlex nor bash accepts it: text
            units.append(Unit(i, [line], _text_kind(stripped) or PROSE))
            i += 1
            continue
        body = lines[i:end]
        kind = _text_kind(stripped) if end == i + 1 else _json_kind(body)
        if kind is not None:
            units.append(Unit(i, body, kind))
        elif _dev_only(body, tree, units):
            units.append(Unit(i, body, DEV_ONLY))
        elif _after_aside(units):  # "You can retrieve it from the other node:" + command
            units.append(Unit(i, body, ASIDE))
        else:
            units.append(Unit(i, body, "command", never_ending("\n".join(body), tree)))
        i = end
    return units


def _after_aside(before: list[Unit]) -> bool:
    last = next((u for u in reversed(before) if u.kind != "blank"), None)
    return last is not None and last.is_text and listings.aside(last.text)


def _dev_only(body: list[str], tree: Any, before: list[Unit]) -> bool:
    """A development-only command: by its tool's docs, or by the comment just above it
    ("# Reset the database (DEV ONLY)")."""
    comment = next((u for u in reversed(before) if u.kind != "blank"), None)
    if comment is not None and comment.kind == "comment" and devonly.marked(comment.text):
        return True
    commands = _commands(tree) if tree is not None else [" ".join(body).split()]
    return any(devonly.tool_dev_only(words) for words in commands if words)


def _complete_unit(lines: list[str], start: int) -> tuple[int | None, Any]:
    """The end (exclusive) of the shortest run of lines from ``start`` that is a complete
    shell command, and its bashlex tree (None when only ``bash -n`` accepted it)."""
    limit = min(len(lines), start + _MAX_UNIT_LINES)
    heredoc = _heredoc_end(lines, start)
    if heredoc is not None:  # the body is data, whatever it holds (Markdown, quotes, `#`)
        head = _HEREDOC.sub("", lines[start])
        verdict, tree = _bashlex(head)
        return heredoc, tree if verdict == "ok" else None
    for end in range(start + 1, limit + 1):
        text = "\n".join(lines[start:end])
        if end < limit and lines[end - 1].rstrip().endswith("\\"):
            continue
        verdict, tree = _bashlex(text)
        if verdict == "ok":
            return end, tree
        if verdict == "incomplete":
            continue
        # bashlex has gaps (`[[ ]]`, `$(( ))`, `case`): ask bash itself.
        opinion = bash_n(text)
        if opinion == "ok":
            return end, None
        if opinion != "incomplete":
            return None, None
    return None, None


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][\w-]*)\1")


def _heredoc_end(lines: list[str], start: int) -> int | None:
    """The end (exclusive) of a heredoc opened on ``lines[start]``: the line after its
    terminator (or the end of the fence)."""
    match = _HEREDOC.search(lines[start])
    if match is None:
        return None
    word = match.group(2)
    strip = lines[start][match.start() : match.start() + 3] == "<<-"
    for index in range(start + 1, len(lines)):
        line = lines[index].lstrip("\t") if strip else lines[index]
        if line.strip() == word:
            return index + 1
    return len(lines)


@lru_cache(maxsize=4096)
def _bashlex(text: str) -> tuple[str, Any]:
    """bashlex's verdict and tree (read-only: nobody mutates it, so it is cached). Runbooks
    repeat commands (the same health check in every phase), and bashlex is pure Python at
    ~1 ms a line: the cache is most of a large document's mapping time (docs/performance.md)."""
    try:
        return "ok", bashlex.parse(text)
    except NotImplementedError:
        return "unknown", None
    except Exception as exc:  # bashlex raises its own errors, and sometimes plain ones
        return ("incomplete" if _INCOMPLETE.search(str(exc)) else "error"), None


@lru_cache(maxsize=4096)
def bash_n(text: str) -> str:
    """``bash -n``: "ok", "incomplete", "error", or "unavailable" without bash."""
    bash = shutil.which("bash")
    if bash is None:
        return "unavailable"
    try:
        done = subprocess.run(
            [bash, "-n"], input=text, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    if done.returncode == 0:
        return "ok"
    return "incomplete" if _INCOMPLETE.search(done.stderr) else "error"


def _text_kind(line: str) -> str | None:
    """What a line that parses as shell really is, when it is not a command."""
    words = line.split()
    first = words[0]
    if _URL.match(first) and len(words) == 1:
        return URL
    if first in ("-", "*", "@", "|") or (
        first.endswith(":") and len(first) > 1 and "/" not in first
    ):
        return CONFIG  # `Type: A`, `key: value`, a list bullet, a table row
    if len(words) >= 2 and words[1] in ("=", ":"):
        return CONFIG
    if _zone_record(words):
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
    if _output_header(words):
        return OUTPUT
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


def _json_kind(body: list[str]) -> str | None:
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


# -- commands that never end by themselves --------------------------------------------------

_EDITORS = frozenset({"vi", "vim", "nvim", "nano", "emacs", "pico", "joe", "micro", "visudo"})
_SCREENS = frozenset({"top", "htop", "btop", "atop", "less", "more", "k9s", "screen", "tmux"})
_REPLS = {  # an interactive shell unless given a command, a file or stdin
    "psql": ("-c", "--command", "-f", "--file", "-l", "--list"),
    "mysql": ("-e", "--execute"),
    "redis-cli": (),
    "mongo": ("--eval",),
    "mongosh": ("--eval", "--file", "-f"),
    "python": ("-c", "-m"),
    "python3": ("-c", "-m"),
    "node": ("-e", "--eval", "-p"),
    "sqlite3": (),
}
_KUBE = frozenset({"kubectl", "oc", "k", "kubecolor"})


def never_ending(text: str, tree: Any) -> str | None:
    """Why a command never ends by itself (or waits for a person), else None."""
    loop = loops.watch_loop(text)  # `while true; do …; sleep 5; done` (markdown/loops.py)
    if loop is not None:
        return loop
    commands = _commands(tree) if tree is not None else [text.split()]
    redirected_stdin = "<" in text and "<(" not in text
    # a server started in the background (`npm start &`) ends its command at once
    background = text.rstrip().endswith("&") and not text.rstrip().endswith("&&")
    for words in commands:
        why = _forever(words, redirected_stdin or "|" in text)
        if why:
            return why
        if not background:
            why = _serves(words)
            if why:
                return why
    return None


def never_ending_text(text: str) -> str | None:
    """:func:`never_ending` for a command written inline (a list item, a table cell)."""
    verdict, tree = _bashlex(text)
    return never_ending(text, tree if verdict == "ok" else None)


def _commands(tree: Any) -> list[list[str]]:
    found: list[list[str]] = []

    class _Visitor(bashlex.ast.nodevisitor):  # type: ignore[misc]
        def visitcommand(self, node: Any, parts: Any) -> None:
            words = [p.word for p in node.parts if p.kind == "word"]
            if words:
                found.append(words)

    for node in tree:
        _Visitor().visit(node)
    return found


def _forever(words: list[str], fed: bool) -> str | None:
    name = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    while name in ("sudo", "env", "nohup", "time", "exec") and args:
        name, args = args[0].rsplit("/", 1)[-1], args[1:]
        while args and name == "sudo" and args[0].startswith("-"):
            args = args[1:]
    flags = {a for a in args if a.startswith("-")}
    if name == "watch":
        return "`watch` repeats until someone stops it"
    if name in _EDITORS or (name in _KUBE and args[:1] == ["edit"]):
        return f"`{name}` opens an editor for a person"
    if name == "crontab" and "-e" in flags:
        return "`crontab -e` opens an editor for a person"
    if name in _SCREENS:
        return f"`{name}` is an interactive screen"
    if name == "tail" and (flags & {"-f", "-F", "--follow"} or any(_short(a, "f") for a in flags)):
        return "`tail -f` follows the file forever"
    if name == "journalctl" and (flags & {"-f", "--follow"} or any(_short(a, "f") for a in flags)):
        return "`journalctl -f` follows the journal forever"
    if "--watch" in flags or any(a.startswith("--watch=") for a in flags):
        return f"`{name} --watch` watches until someone stops it"
    if name in _KUBE or name in ("docker", "podman", "nerdctl", "stern"):
        if name in _KUBE and ("-w" in flags or any(_short(a, "w") for a in flags)):
            return f"`{name} … -w` watches until someone stops it"
        if "port-forward" in args or "proxy" in args[:1] or "attach" in args[:1]:
            return f"`{name} {args[0] if args[:1] else ''}` runs until someone stops it"
        if ("logs" in args[:2] or name == "stern") and (
            flags & {"-f", "--follow"} or name == "stern"
        ):
            return f"`{name} logs -f` follows the log forever"
        if flags & {"-it", "-ti"} or {"-i", "-t"} <= flags or {"--interactive", "--tty"} <= flags:
            return f"`{name} … -it` opens an interactive terminal"
    if name in ("minikube",) and args[:1] == ["tunnel"]:
        return "`minikube tunnel` runs until someone stops it"
    if name == "ssh":
        return None if _ssh_has_command(args) else "a bare `ssh host` opens an interactive shell"
    if name == "read" and not fed:
        return "`read` waits for a person to type"
    if name in ("ping", "ping6") and not (
        {"-c", "-w"} & flags or any(_short(a, "c") for a in flags)
    ):
        return "`ping` without `-c` never ends"
    if name == "tcpdump" and "-c" not in flags:
        return "`tcpdump` without `-c` never ends"
    if name in _REPLS and not fed:
        stops = _REPLS[name]
        if not any(a in stops or a.startswith(tuple(f"{s}=" for s in stops)) for a in args):
            operands = [a for a in args if not a.startswith("-")]
            if name in ("python", "python3", "node") and operands:
                return None  # a script file
            if name in ("redis-cli", "sqlite3") and len(operands) >= (
                2 if name == "sqlite3" else 1
            ):
                return None  # a command on the command line
            if name in (
                "psql",
                "mysql",
                "mongo",
                "mongosh",
                "redis-cli",
                "sqlite3",
                "python",
                "python3",
                "node",
            ):
                return f"`{name}` without a command opens an interactive shell"
    if name == "sleep" and args[:1] == ["infinity"]:
        return "`sleep infinity` never ends"
    return None


def _serves(words: list[str]) -> str | None:
    """`npm run dev`, `uvicorn app:app`, `docker compose up` (markdown/servers.py)."""
    name, args = words[0].rsplit("/", 1)[-1], words[1:]
    if name == "bundle" and args[:1] == ["exec"]:
        name, args = "exec", args[1:]
    while name in ("sudo", "env", "nohup", "time", "exec") and args:
        name, args = args[0].rsplit("/", 1)[-1], args[1:]
        while args and name == "sudo" and args[0].startswith("-"):
            args = args[1:]
    return servers.server(name, args)


def _short(flag: str, letter: str) -> bool:
    """``-fn`` bundles ``-f``: a single-dash group of letters containing ``letter``."""
    return bool(re.fullmatch(r"-[A-Za-z]{2,4}", flag)) and letter in flag[1:]


_SSH_VALUED = frozenset("bcDEeFIiJLlmOopQRSWw")


def _ssh_has_command(args: list[str]) -> bool:
    """``ssh host cmd`` runs a command; ``ssh host`` (or ``ssh -t host``) opens a shell."""
    operands: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-") and not operands:
            skip = len(arg) == 2 and arg[1] in _SSH_VALUED
            continue
        operands.append(arg)
    return len(operands) >= 2


@dataclass
class Cleaned:
    """A script with its text and never-ending lines commented out, and what they were."""

    script: str  # what may run: commands only (text kept as `# [not run: …]` comments)
    texts: list[Unit]  # lines of text, for a manual step or a review note
    forever: list[Unit]  # never-ending commands, for a manual step or a note
    commands: int  # how many complete commands remain

    @property
    def changed(self) -> bool:
        return bool(self.texts or self.forever)


def clean(script: str) -> Cleaned:
    units = analyse(script)
    out: list[str] = []
    texts: list[Unit] = []
    forever: list[Unit] = []
    commands = 0
    for unit in units:
        if unit.is_text:
            texts.append(unit)
            out.extend(f"# [not run: {unit.kind}] {ln.strip()}" for ln in unit.lines)
        elif unit.forever:
            forever.append(unit)
            out.extend(f"# [not run: never ends] {ln.strip()}" for ln in unit.lines)
        else:
            commands += unit.kind == "command"
            out.extend(unit.lines)
    return Cleaned("\n".join(out).strip("\n"), texts, forever, commands)
