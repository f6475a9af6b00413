"""Commands that never end by themselves or wait for a person (see shellparse.py): ``watch``,
``tail -f``, ``-w`` / ``--watch``, ``port-forward``, ``-it``, editors, a bare ``ssh host``,
``read`` prompts, ``top``, ``ping`` without ``-c``, servers in the foreground (servers.py),
``while true`` loops (loops.py). Such a command never becomes a plain step or gate."""

from __future__ import annotations

import re

from phasegate.markdown import interactive_forms, loops, prompts, servers, streams
from phasegate.markdown.shellsyntax import ShellTree, commands, parse

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


# flags that take no value, which a cluster may carry before the command flag: `psql -Atc "…"`
# is `-A -t -c "…"`, `mysql -Ne "…"` is `-N -e "…"` (blind round 9)
_NO_VALUE = "AaBbEeHNnqrSsTtvWwXx01"


def _clustered(arg: str, stops: tuple[str, ...]) -> bool:
    """``arg`` is a cluster of short flags ending in one of ``stops`` (``-Atc`` for ``-c``)."""
    short = [s[1] for s in stops if len(s) == 2 and s[0] == "-"]
    return any(re.fullmatch(rf"-[{_NO_VALUE}]+{re.escape(c)}", arg) for c in short)


def never_ending(text: str, tree: ShellTree | None) -> str | None:
    """Why a command never ends by itself (or waits for a person), else None."""
    loop = loops.watch_loop(text)  # `while true; do …; sleep 5; done` (markdown/loops.py)
    if loop is not None:
        return loop
    menu = interactive_forms.menu(text)  # `select ENV in a b; do …` (blind round 12)
    if menu is not None:
        return menu
    found = commands(tree) if tree is not None else [text.split()]
    redirected_stdin = "<" in text and "<(" not in text
    # a server started in the background (`npm start &`) ends its command at once
    background = text.rstrip().endswith("&") and not text.rstrip().endswith("&&")
    for words in found:
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
    verdict, tree = parse(text)
    return never_ending(text, tree if verdict == "ok" else None)


def _forever(words: list[str], fed: bool) -> str | None:
    name = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    if name == "sudo" and _sudo_shell(args):
        return SUDO_SHELL
    while name in ("sudo", "env", "nohup", "time", "exec") and args:
        name, args = args[0].rsplit("/", 1)[-1], args[1:]
        while args and name == "sudo" and args[0].startswith("-"):
            args = args[1:]
    flags = {a for a in args if a.startswith("-")}
    why = prompts.waits_for_answer(name, args, fed)  # `terraform apply` without a plan, …
    if why:
        return why
    # `kcadm.sh config credentials`, `oc login`, `az login` (blind round 12)
    why = interactive_forms.signs_in(name, args, fed)
    if why:
        return why
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
    if name in _KUBE:  # `kubectl -n order logs -f …`: the verb after the global options
        args = _kube_verb_first(args)
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
    why = (
        _follows(name, args, flags)
        or streams.streams(name, args, flags)
        or interactive_forms.live(name, args, flags)  # `redis-cli --stat` (blind round 12)
    )
    if why:
        return why
    if (
        name == "gh"
        and args[:2] in (["run", "watch"], ["pr", "checks"])
        and (args[:2] == ["run", "watch"] or "--watch" in flags)
    ):
        return "`gh run watch` follows the run until it ends or someone stops it"
    if name in ("minikube",) and args[:1] == ["tunnel"]:
        return "`minikube tunnel` runs until someone stops it"
    if name == "ssh":
        operands = _ssh_operands(args)
        if len(operands) < 2:  # `ssh host` (or `ssh -t host`) opens a shell
            return SSH_SHELL
        # `ssh -t edge-01 'sudo varnishlog …'`: the remote command streams (streams.py)
        return streams.remote_streams(operands, never_ending_text)
    if (
        name == "su"
        and not fed
        and not any(a in ("-c", "--command") or a.startswith("--command=") for a in args)
    ):
        return SU_SHELL
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
        if not any(
            a in stops or a.startswith(tuple(f"{s}=" for s in stops)) or _clustered(a, stops)
            for a in args
        ):
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
    if name == "sleep" and args and _seconds(args[0]) > _LONG_SLEEP:
        # `sleep 86400  # soak for 24 h`: a wait of hours a person judges the end of
        return f"`sleep {args[0]}` waits longer than a run should: a person says when it is over"
    return None


# Programs that work on files: `tar -czf logs.tgz logs` names a directory, not a subcommand
_FILE_TOOLS = frozenset(
    [
        "tar",
        "zip",
        "unzip",
        "gzip",
        "gunzip",
        "cp",
        "mv",
        "rm",
        "ls",
        "cat",
        "grep",
        "find",
        "rsync",
        "scp",
        "du",
        "chmod",
        "chown",
        "mkdir",
        "less",
        "more",
        "head",
        "wc",
        "zcat",
        "zgrep",
    ]
)


def _follows(name: str, args: list[str], flags: set[str]) -> str | None:
    """Any CLI's log follower (blind round 8): a ``logs``/``log`` subcommand given ``-f`` /
    ``--follow`` (``nomad alloc logs -f``, ``fly logs -f``, ``heroku logs --tail``), and a
    ``tail`` subcommand (``wrangler tail``, ``az webapp log tail``, ``gcloud … logs tail``)."""
    if name in _FILE_TOOLS or name == "tail":
        return None
    positional = [a for a in args if not a.startswith("-")][:3]
    if "tail" in positional:
        return f"`{name} … tail` follows the live log until someone stops it"
    if not {"logs", "log"} & set(positional):
        return None
    follow = flags & {"-f", "--follow"} or any(_short(a, "f") for a in flags)
    if not follow and "--tail" in args:  # `heroku logs --tail`; not `--tail 100`
        after = args[args.index("--tail") + 1 : args.index("--tail") + 2]
        follow = not after or not after[0].isdigit()
    return f"`{name} … logs -f` follows the log forever" if follow else None


SSH_SHELL = "a bare `ssh host` opens an interactive shell"
SU_SHELL = "`su` without `-c` opens a shell as another user: what follows is typed in it"
SUDO_SHELL = "`sudo -i` opens a shell for a person"
# the shells a person opens and types the following lines into (until `exit`)
SESSIONS = frozenset({SSH_SHELL, SU_SHELL, SUDO_SHELL})


def _sudo_shell(args: list[str]) -> bool:
    """``sudo -i``, ``sudo -iu postgres``, ``sudo -s -u app``, ``sudo --login``: a shell, not a
    command (``sudo -iu postgres psql -c …`` runs a command)."""
    shell = False
    skip = False
    for n, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("--login", "--shell", "-i", "-s"):
            shell = True
        elif arg in ("-u", "--user", "-g", "--group", "-C", "-D", "-h", "-p", "-r", "-t", "-U"):
            skip = True
        elif arg.startswith("--"):
            continue
        elif arg.startswith("-") and len(arg) > 1:
            shell = shell or "i" in arg[1:] or "s" in arg[1:]
            skip = arg[-1] in "ugCDhprtU"
        else:
            return shell and not args[n:]  # a command follows: sudo runs it
    return shell


_KUBE_VALUED = frozenset(
    {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server"}
)


def _kube_verb_first(args: list[str]) -> list[str]:
    """``-n order logs -f x`` -> ``logs -f x -n order``: kubectl's global options may come
    before its verb; the checks below read the verb first."""
    before: list[str] = []
    i = 0
    while i < len(args) and args[i].startswith("-"):
        before.append(args[i])
        if args[i] in _KUBE_VALUED and i + 1 < len(args):
            before.append(args[i + 1])
            i += 1
        i += 1
    return args[i:] + before


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


_LONG_SLEEP = 3600.0
_SLEEP_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _seconds(arg: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", arg)
    return float(match.group(1)) * _SLEEP_UNITS[match.group(2)] if match else 0.0


def _short(flag: str, letter: str) -> bool:
    """``-fn`` bundles ``-f``: a single-dash group of letters containing ``letter``."""
    return bool(re.fullmatch(r"-[A-Za-z]{2,4}", flag)) and letter in flag[1:]


_SSH_VALUED = frozenset("bcDEeFIiJLlmOopQRSWw")


def _ssh_operands(args: list[str]) -> list[str]:
    """ssh's operands, its options (and their values) skipped: the host, then the remote
    command's words (none: a shell)."""
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
    return operands
