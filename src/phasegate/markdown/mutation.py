"""Does a command change things? (issue 11 §1: a check is read-only.)

A heading that says "Verify", "Check" or "Smoke test" makes the commands under it checks: a
gate that may be polled until it passes, or a verification of a rollback. A command that
changes the system (``sed -i``, ``systemctl reload``, ``kubectl apply``, ``rm``, SQL
``UPDATE``, a write with ``>`` or ``tee``) is never such a check: polled, it would act again
and again; taken as a verification, its change would be hidden behind a name that promises to
look only. It stays a step at its place (or a rollback action), and the read-only commands
around it stay checks.

The shell is read with bashlex (shellsyntax.py): each simple command's words, its
redirections, pipelines, loops and command substitutions. A command a remote or container
shell runs (``ssh host '…'``, ``kubectl exec … -- …``, ``docker exec c …``) is read the same
way. SQL handed to a client (``psql -c``, ``mysql -e``, a heredoc) is read by its statement's
first keyword. What cannot be parsed is not called mutating here: the caller keeps its role."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Sequence
from typing import TypeAlias

import bashlex  # type: ignore[import-untyped]

from phasegate.markdown import shellsyntax
from phasegate.markdown.memo import memo
from phasegate.markdown.shellsyntax import ShellNode


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A write to these is no change of the system: scratch files and the terminal.
_HARMLESS_TARGET = re.compile(r"^(?:/dev/|/tmp/|&|\d+$|-$)")
# Programs that only read (or print), whatever their arguments say.
_READERS = _words(
    "cat echo printf grep egrep fgrep zgrep rg head tail less more wc jq yq awk diff cmp "
    "test [ ls stat file ps ss netstat dig nslookup host ping nc ncat telnet openssl "
    "getent id whoami date sleep true false sort uniq cut tr journalctl dmesg df du free "
    "uptime which command type whereis lsof lsblk blkid findmnt "
    "md5sum sha256sum sha1sum base64 xxd hexdump column tac nl fold watch read wait exit "
    "return export set shift source . traceroute tracepath mtr nmap pgrep "
    "pidof top htop iostat vmstat sar uname hostname nproc lscpu printenv"
)
# Prefixes that run the command after them.
_WRAPPERS = _words("sudo nohup time nice ionice exec command builtin doas")
# Subcommands (or a hyphenated verb's first part: ``delete-db-instance``) that change state.
_MUTATING_VERBS = _words(
    "apply delete del scale patch create replace destroy upgrade install uninstall "
    "rollback restart reload stop start enable disable set unset rm remove purge drain "
    "cordon uncordon taint untaint deploy promote push publish upload import reset kill "
    "terminate reboot resize update modify put insert drop truncate migrate mask unmask "
    "edit label annotate expose autoscale pause resume undo mv cp sync restore attach "
    "detach associate disassociate register deregister revoke authorize switchover "
    "failover tag untag commit merge rebase repair clean baseline flush flushall flushdb "
    "shutdown reshard rebalance out add up down write deactivate activate release swap "
    "move rename force-unlock"
)
# Subcommands that only look: the first verb found decides (``terraform state list``).
_READING_VERBS = _words(
    "status get describe list ls show info history logs log diff plan validate version "
    "check top inspect ps explain help search view wait cat read health ping query dump-config "
    " output graph fmt events verify test lint tree dry-run template whoami can-i"
)
# Programs that are themselves a change (no subcommand needed).
_CHANGERS = _words(
    "rm rmdir mv cp dd mkfs chmod chown chgrp ln truncate shred kill pkill killall reboot "
    "shutdown halt poweroff useradd userdel usermod groupadd passwd install rsync scp tee "
    "iptables ip6tables nft ufw firewall-cmd modprobe swapoff swapon "
    "umount fdisk parted wipefs mkswap update-alternatives certbot twine"
)
_SQL_CLIENTS = _words("psql mysql mariadb sqlite3 sqlcmd cqlsh clickhouse-client")
_SQL_FLAGS = _words("-c --command -e --execute -Q -q --query")
MUTATING_SQL = re.compile(
    r"^\s*(?:update|delete|insert|alter|drop|truncate|create|grant|revoke|rename|replace|merge|"
    r"vacuum\s+full|reindex|cluster|comment\s+on|set\s+global|flush|kill|call|do\b|"
    r"copy\s+\w+\s+from)\b",
    re.I | re.M,
)
_REDIS_WRITES = _words(
    "set del unlink flushall flushdb expire persist rename hset hdel lpush rpush sadd "
    "srem zadd zrem incr decr mset shutdown failover replicaof slaveof"
)
_HTTP_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PROGRAM_VERB = re.compile(r"[-_.]")


@memo(4096)
def mutates(text: str) -> str | None:
    """Why ``text`` (one command or a few) changes things, or None when it only reads (or
    cannot be read). A pure function of the text, memoized: a fence's chunk is asked once for
    its role and again by the rules that look at its neighbours (done items, by-hand steps,
    tables), and a chunk bashlex has not seen whole costs a parse (~1 ms a line)."""
    verdict, tree = shellsyntax.parse(text)
    if verdict != "ok" or tree is None:
        return _mutates_lines(text)
    for words, redirects in _simple_commands(tree):
        why = _command(words, text)
        if why is None:
            why = _redirect(redirects)
        if why is not None:
            return why
    return None


def plain_command(text: str) -> bool:
    """One simple command or pipeline that sets no variable: cutting a paragraph of these
    apart loses nothing a later line reads (no ``x=…``, no loop, no ``if``, no ``cd``)."""
    verdict, tree = shellsyntax.parse(text)
    if verdict != "ok" or tree is None or len(tree) != 1:
        return False
    node = tree[0]
    if node.kind not in ("command", "pipeline"):
        return False
    for words, _ in _simple_commands(tree):
        if not words or words[0] in ("cd", "pushd", "popd", "export", "source", ".", "set"):
            return False
    parts = node.parts if node.kind == "command" else node.parts[0].parts
    return not any(p.kind == "assignment" for p in parts)


def _mutates_lines(text: str) -> str | None:
    """Line by line, for a chunk bashlex cannot take as a whole (``[[ ]]``, ``case``)."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        verdict, tree = shellsyntax.parse(line)
        if verdict == "ok" and tree is not None:
            for words, redirects in _simple_commands(tree):
                why = _command(words, line) or _redirect(redirects)
                if why is not None:
                    return why
    return None


_Simple: TypeAlias = tuple[list[str], list[tuple[str, str]]]


class _SimpleCommands(bashlex.ast.nodevisitor):  # type: ignore[misc]
    """Each simple command's words and redirections, in the tree's order."""

    def __init__(self, found: list[_Simple]) -> None:
        self.found = found

    def visitcommand(self, node: ShellNode, parts: Sequence[ShellNode]) -> None:
        words = [p.word for p in node.parts if p.kind == "word"]
        redirects = []
        for p in node.parts:
            if p.kind == "redirect":
                output = getattr(p, "output", None)
                target = str(getattr(output, "word", output))
                redirects.append((str(getattr(p, "type", "")), target))
        self.found.append((words, redirects))


def _simple_commands(tree: Sequence[ShellNode]) -> list[_Simple]:
    found: list[_Simple] = []
    for node in tree:
        _SimpleCommands(found).visit(node)
    return found


def _redirect(redirects: list[tuple[str, str]]) -> str | None:
    for kind, target in redirects:
        if kind in (">", ">>", ">|", "&>") and not _HARMLESS_TARGET.match(target):
            return f"writes `{target}`"
    return None


def _command(words: list[str], whole: str) -> str | None:
    while words and ("=" in words[0] and not words[0].startswith("-")):
        words = words[1:]  # `FOO=1 cmd`
    while words and words[0] in _WRAPPERS:
        words = words[1:]
        while words and words[0].startswith("-"):
            # `sudo -u postgres psql`: the option's value is no command
            words = words[2:] if words[0] in ("-u", "-g", "--user", "--group", "-n") else words[1:]
    if not words:
        return None
    if words[0] in ("env",):
        return _command(words[1:], whole)
    if words[0] in ("timeout",):
        return _command([w for w in words[1:] if not re.fullmatch(r"-\S+|\d+\w?", w)], whole)
    program = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    inner = _inner_command(program, rest)
    if inner is not None:
        return mutates(inner)
    if program == "xargs":
        return _command([w for w in rest if not w.startswith("-")], whole)
    if program in _READERS:
        if program == "awk" and "inplace" in rest:
            return "awk -i inplace edits a file"
        return None
    if program in ("sed", "perl") and any(
        w == "-i" or (w.startswith("-i") and not w.startswith("--")) or w.startswith("--in-place")
        for w in rest
    ):
        return f"`{program} -i` edits a file in place"
    if program == "tee":
        files = [w for w in rest if not w.startswith("-") and not _HARMLESS_TARGET.match(w)]
        return f"`tee` writes `{files[0]}`" if files else None
    if program == "sysctl" and ("-w" in rest or any("=" in w for w in rest)):
        return "`sysctl` sets a kernel parameter"
    if program == "crontab" and "-l" not in rest:
        return "`crontab` replaces a crontab"
    if program in _CHANGERS:
        return f"`{program}` changes the system"
    if program == "find":
        acts = {"-delete", "-exec", "-execdir"} & set(rest)
        return "`find` deletes or runs a command" if acts else None
    if program in ("curl", "wget", "http", "https", "Invoke-WebRequest", "Invoke-RestMethod"):
        return _http(rest)
    if program == "nginx" or (program.endswith("ctl") and program not in ("systemctl", "kubectl")):
        for flag, value in itertools.pairwise(rest):
            if flag == "-s" and value in ("reload", "stop", "quit", "reopen"):
                return f"`{program} -s {value}` signals the server"
    if program in _SQL_CLIENTS:
        return _sql_client(rest, whole)
    if program == "redis-cli":
        verbs = [w for w in rest if not w.startswith("-")]
        for w in verbs:
            if w.lower() in _REDIS_WRITES:
                return f"`redis-cli {w}` writes"
        if "--cluster" in rest:
            sub = rest[rest.index("--cluster") + 1 : rest.index("--cluster") + 2]
            if sub and sub[0] not in ("check", "info"):
                return f"`redis-cli --cluster {sub[0]}` changes the cluster"
        return None
    return _subcommand(program, rest)


def _inner_command(program: str, rest: list[str]) -> str | None:
    """The command a remote or container shell runs: ``ssh host '…'``, ``… exec … -- …``,
    ``bash -c '…'``."""
    if program in ("bash", "sh", "zsh") and "-c" in rest:
        after = rest[rest.index("-c") + 1 :]
        return after[0] if after else None
    if program in ("ssh",):
        positional = [w for w in rest if not w.startswith("-")]
        return " ".join(positional[1:]) or None if len(positional) > 1 else None
    if "exec" in rest[:2] and program in ("kubectl", "docker", "podman", "oc"):
        if "--" in rest:
            return shlex.join(rest[rest.index("--") + 1 :]) or None
        positional = [w for w in rest[rest.index("exec") + 1 :] if not w.startswith("-")]
        return shlex.join(positional[1:]) or None
    return None


def _http(rest: list[str]) -> str | None:
    for flag, value in itertools.pairwise(rest):
        if flag in ("-X", "--request", "-Method", "--method") and value.upper() in _HTTP_WRITES:
            return f"an HTTP {value.upper()}"
    for word in rest:
        if word.startswith("-X") and word[2:].upper() in _HTTP_WRITES:
            return f"an HTTP {word[2:].upper()}"
        if word in ("-T", "--upload-file"):
            return "an HTTP upload"
    return None


def _sql_client(rest: list[str], whole: str) -> str | None:
    for flag, value in itertools.pairwise(rest):
        if flag in _SQL_FLAGS and MUTATING_SQL.search(value):
            return f"SQL `{value.split()[0].upper()}`"
    for word in rest:
        for flag in ("--command=", "--execute=", "--query="):
            if word.startswith(flag) and MUTATING_SQL.search(word[len(flag) :]):
                return "SQL that writes"
    statements = [w for w in rest if not w.startswith("-") and " " in w]  # `sqlite3 db "…"`
    if any(MUTATING_SQL.search(s) for s in statements):
        return "SQL that writes"
    if "<<" in whole and MUTATING_SQL.search(whole.split("<<", 1)[1]):
        return "SQL that writes (heredoc)"
    return None


def _subcommand(program: str, rest: list[str]) -> str | None:
    """``kubectl apply``, ``helm upgrade``, ``terraform state rm``, ``aws rds
    delete-db-instance``, ``gcloud sql backups create``: the first verb among the first
    positional words decides; a program whose own name is a change (``./deploy.sh``,
    ``apply.sh``) too."""
    positional = [
        w
        for w in rest
        if not w.startswith("-") and "=" not in w and "/" not in w and "." not in w and w
    ][:4]
    for word in positional:
        lowered = word.lower()
        head = _PROGRAM_VERB.split(lowered, maxsplit=1)[0]
        if lowered in _READING_VERBS or head in _READING_VERBS:
            return None
        if lowered in _MUTATING_VERBS or head in _MUTATING_VERBS or lowered.endswith(":migrate"):
            return f"`{program} {word}` changes things"
    name = program.rsplit(".", 1)[0].lower()
    parts = set(_PROGRAM_VERB.split(name))
    if parts & {"deploy", "apply", "migrate", "rollback", "restart", "upgrade", "install"}:
        return f"`{program}` changes things"
    return None
