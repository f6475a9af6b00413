"""Recognising shell in fences and inline code, and cutting a fence into named commands."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

from phasegate.markdown import rules

SHELL_LANGS = frozenset(
    {"bash", "sh", "shell", "console", "zsh", "shell-session", "shellsession", "terminal"}
)
# The first word of a line that is almost certainly a command.
_COMMANDS = frozenset(
    [
        # cloud, cluster, delivery and database CLIs runbooks name (blind round 6); not the
        # ones that are also English words a prose line may start with (vault, consul, salt)
        *[
            "eksctl",
            "doctl",
            "argocd",
            "kustomize",
            "istioctl",
            "linkerd",
            "velero",
            "pulumi",
            "fastlane",
            "gh",
            "glab",
            "skaffold",
            "kubectx",
            "kubens",
            "skopeo",
            "cosign",
            "rclone",
            "s3cmd",
            "gsutil",
            "rosa",
            "terragrunt",
            "salt-call",
            "chef-client",
            "helmfile",
            "patronictl",
            "pg_upgradecluster",
            "pg_ctlcluster",
            "pg_dropcluster",
            "pg_createcluster",
            "etcdctl",
            # OpenStack's clients (blind round 12: rST literal blocks of a compute maintenance)
            "openstack",
            "nova",
            "neutron",
            "cinder",
            "nodetool",
            "cqlsh",
            "kafka-topics.sh",
            "kafka-configs.sh",
            "kafka-reassign-partitions.sh",
            "rabbitmqctl",
            "certbot",
            "cfssl",
            "flyctl",
            "heroku",
            "vercel",
            "wrangler",
        ],
        "sudo",
        "git",
        "docker",
        "docker-compose",
        "kubectl",
        "helm",
        "terraform",
        "ansible",
        "ansible-playbook",
        "npm",
        "npx",
        "yarn",
        "pnpm",
        "pip",
        "pip3",
        # packaging and publishing tools (a release checklist's upload, round 7)
        "twine",
        "flit",
        "hatch",
        "gem",
        "pipx",
        "tox",
        "nox",
        "conda",
        "python",
        "python3",
        "node",
        "uv",
        "poetry",
        "make",
        "cmake",
        "go",
        "cargo",
        "rustc",
        "curl",
        "wget",
        "ssh",
        "scp",
        "rsync",
        "cd",
        "mkdir",
        "cp",
        "mv",
        "rm",
        "ls",
        "cat",
        "echo",
        "export",
        "source",
        "chmod",
        "chown",
        "ln",
        "tar",
        "gzip",
        "unzip",
        "find",
        "grep",
        "rg",
        "sed",
        "awk",
        "systemctl",
        "service",
        "journalctl",
        "psql",
        "mysql",
        "redis-cli",
        "mongo",
        "mongosh",
        "pg_dump",
        "pg_restore",
        "aws",
        "gcloud",
        "az",
        "kubeadm",
        "minikube",
        "kind",
        "oc",
        "vault",
        "consul",
        "nomad",
        "nginx",
        "supabase",
        "vercel",
        "firebase",
        "flyctl",
        "heroku",
        "deno",
        "bun",
        "php",
        "composer",
        "bundle",
        "rake",
        "rails",
        "mvn",
        "gradle",
        "java",
        "dotnet",
        "test",
        "diff",
        "touch",
        "head",
        "tail",
        "wc",
        "sort",
        "jq",
        "yq",
        "env",
        "set",
        "unset",
        "while",
        "for",
        "if",
        "sleep",
        "openssl",
        "dig",
        "nc",
        "ping",
    ]
)
COMMAND_WORDS = _COMMANDS
_PROMPT = re.compile(r"^\s*(?:\$|>|#\s*(?=sudo\b))\s+")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*")
_FLAGGED = re.compile(r"^[a-z][a-z0-9._-]*(?:\s+[^\s.]\S*)*?\s+--?[A-Za-z][\w-]*(?:[\s=]\S*)*$")


def first_word(line: str) -> str:
    words = line.strip().split()
    return words[0].lower() if words else ""


def looks_like_shell_line(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith("$ "):
        return True
    word = first_word(stripped)
    if word in _COMMANDS or word.startswith(("./", "../", "/usr/", "/bin/", "~/")):
        return True
    if _family_member(word) and _FLAGGED.match(stripped):
        # `ansible-inventory -i prod --graph`: a tool of a known family (`ansible-*`), given
        # flags (round 6); "git-based workflows …" gives none
        return True
    return bool(_ASSIGN.match(stripped)) and " " not in stripped.split("=", 1)[0]


def _family_member(word: str) -> bool:
    """``ansible-inventory``, ``kubectl-neat``: the family's name is a command we know."""
    family, dash, rest = word.partition("-")
    return bool(dash and rest and len(family) >= 3 and family in _COMMANDS)


def looks_like_shell(text: str) -> bool:
    """An unlabeled fence or inline code span whose content reads as commands."""
    joined = re.sub(r"\\\n", " ", text)  # a `\` continuation is part of its command
    lines = [ln for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return False
    # after a first line that is shell, a program we do not know given flags (`cr upload -o
    # me -p packages/`) is a command too: `TOKEN=…` over `cr upload -t $TOKEN` is a script
    hits = sum(looks_like_shell_line(ln) or bool(_FLAGGED.match(ln.strip())) for ln in lines)
    return looks_like_shell_line(lines[0]) and hits * 2 >= len(lines)


def is_shell_fence(lang: str, text: str) -> bool:
    from phasegate.markdown import cmdexe, fishshell  # (they import nothing of this module)

    if lang in SHELL_LANGS or lang in ("powershell", "ps1", "pwsh", "bat", "cmd"):
        return True
    if lang in cmdexe.TAGS or lang in fishshell.TAGS:
        return True
    if lang in ("", "text", "txt", "plain", "plaintext", "none"):
        return looks_like_shell(text) or cmdexe.is_transcript(text)
    return False


# Prompts other than `$ `: root's `# ` (in an unlabelled block: in a `bash` fence `# cmd` is a
# commented-out command), `(postgres)# ` after `su postgres`, `root@host:~# `, `[me@host ~]$ `.
# Not `postgres=#`, psql's prompt (what follows is SQL).
_HOST_PROMPT = re.compile(
    r"^(\s*)(?:\([\w.-]{1,32}\)\s?|[\w.-]{1,32}@[\w.-]{1,64}(?::[^\s#$]*)?\s?|"
    r"\[[\w.-]{1,32}@[\w.-]{1,64}(?:\s[^\]]{0,40})?\]\s?)[#$]\s+(?=\S)"
)
_ROOT_PROMPT = re.compile(r"^(\s*)#\s+(?=\S)")
_PLAIN_LANGS = frozenset({"", "text", "txt", "plain", "plaintext", "none", "console", "terminal"})


def normalize_prompts(text: str, lang: str) -> str:
    """Root and user@host prompts as `$ ` prompts, in an unlabelled or console block: a guide
    that shows `# systemctl stop postgresql` and `(postgres)# initdb …` means commands, which
    would otherwise read as comments (nothing runs) or as unknown words."""
    if lang not in _PLAIN_LANGS or ("#" not in text and "@" not in text and "$" not in text):
        return text
    lines = text.splitlines()
    out: list[str] = []
    changed = False
    # a `# word` line is a root prompt when its word is a program, and the block shows at
    # least one unmistakable prompt (a host prompt, or `# ` before a command we know)
    anchored = any(
        _HOST_PROMPT.match(ln)
        or ((m := _ROOT_PROMPT.match(ln)) is not None and looks_like_shell_line(ln[m.end() :]))
        for ln in lines
    )
    for line in lines:
        host = _HOST_PROMPT.match(line)
        root = _ROOT_PROMPT.match(line)
        if host is not None:
            out.append(f"{host.group(1)}$ {line[host.end() :]}")
            changed = True
        elif root is not None and _root_command(line[root.end() :], anchored):
            out.append(f"{root.group(1)}$ {line[root.end() :]}")
            changed = True
        else:
            out.append(line)
    return "\n".join(out) if changed else text


def _root_command(rest: str, anchored: bool) -> bool:
    if looks_like_shell_line(rest):
        return True
    word = rest.split(maxsplit=1)[0]
    # commands are case-sensitive: "# Check the version" is a comment, `# su postgres` a prompt
    return anchored and word.islower() and shutil.which(word) is not None


def strip_prompts(text: str, lang: str) -> str:
    """``$ cmd`` -> ``cmd``; in a console transcript, lines without a prompt are output."""
    lines = text.splitlines()
    prompted = [ln for ln in lines if ln.lstrip().startswith(("$ ", "> "))]
    transcript = lang in ("console", "shell-session", "shellsession", "terminal") or (
        prompted and len(prompted) < len(lines)
    )
    out: list[str] = []
    for ln in lines:
        match = _PROMPT.match(ln)
        if match and ln.lstrip().startswith(("$", ">")):
            out.append(ln[match.end() :])
        elif transcript and prompted and ln.strip() and not ln.lstrip().startswith("#"):
            if out and out[-1].rstrip().endswith("\\"):
                out.append(ln)  # a continuation line of a prompted command
            continue
        else:
            out.append(ln)
    return "\n".join(ln.rstrip() for ln in out).strip("\n")


@dataclass
class Chunk:
    name: str | None
    text: str
    offset: int  # line offset inside the fence


_COMMENT = re.compile(r"^\s*#(?!!)\s*(.*?)\s*$")
_OPENERS = re.compile(r"\b(if|case|for|while|until|function)\b|\{\s*$|<<")


# Each step is its own shell: a paragraph that changes the shell's state (directory,
# variables, options, a sourced environment) must stay with the paragraphs after it.
_STATEFUL = re.compile(
    r"^\s*(?:cd|pushd|popd|export|source|\.|set|alias|shopt|umask|trap|unset|declare|local)\b"
    r"|^\s*[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?="
    # a function: paragraphs after it call it, and functions are not carried between steps
    r"|^\s*(?:function\s+[A-Za-z_][\w:.-]*|[A-Za-z_][\w:.-]*\s*\(\s*\))",
    re.M,
)


def _balanced(text: str) -> bool:
    opens = len(_OPENERS.findall(text))
    closes = len(re.findall(r"\b(fi|esac|done)\b|^\s*\}", text, re.M))
    return opens == closes and "<<" not in text


def split_commands(text: str) -> list[Chunk]:
    """One chunk per comment-headed paragraph (``# Step 1: Archive`` + its lines), when every
    paragraph is self-contained; else the whole fence as one chunk named by its first comment."""
    paragraphs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    alternatives = False  # a `# or` line between commands: each side is an option
    for index, line in enumerate(text.splitlines()):
        if not line.strip():
            if current:
                paragraphs.append((start, current))
                current = []
            continue
        if (
            current
            and (is_choice_comment(line) or edit_instruction(line) is not None)
            and not _COMMENT.match(current[-1])
        ):
            paragraphs.append((start, current))
            current = []
            alternatives = True
        if not current:
            start = index
        current.append(line)
    if current:
        paragraphs.append((start, current))
    chunks: list[Chunk] = []
    alternatives = alternatives or any(is_choice_comment(lines[0]) for _, lines in paragraphs[1:])
    for offset, lines in paragraphs:
        name = None
        body = list(lines)
        while body and _COMMENT.match(body[0]):
            match = _COMMENT.match(body[0])
            name = name or (match.group(1) if match else None) or None
            body.pop(0)
        if body:
            chunks.append(Chunk(name, "\n".join(body), offset))
        elif chunks and name is None:
            continue
    headed = [c for c in chunks if c.name]
    # a file edit a person makes between commands splits the fence there (the run waits)
    edited = any(edit_instruction(ln) is not None for _, lines in paragraphs for ln in lines)
    if len(chunks) > 1 and all(_balanced(c.text) for c in chunks) and edited:
        return chunks
    if (
        len(chunks) > 1
        and (len(headed) == len(chunks) or (alternatives and len(headed) >= len(chunks) - 1))
        and all(_balanced(c.text) for c in chunks)
        and (
            not any(_STATEFUL.search(c.text) for c in chunks[:-1])
            # "# Option A: …" / "# Option B: …": the options must stay apart, state or not
            or sum(1 for c in chunks if rules.is_alternative_title(c.name or "")) >= 2
            or sum(1 for c in chunks if rules.is_platform_title(c.name or "")) >= 2
            or alternatives
        )
    ):
        return chunks
    whole = text.strip("\n")
    return [Chunk(_leading_comment(whole), whole, 0)] if whole else []


# "# or", "# OR, with compose:", "# alternatively": what follows replaces what came before
OR_CONNECTOR = re.compile(
    r"^(?:or|alternatively|alternativ(?:e|ement)?|o bien|oder|ou|或者?)\b", re.I
)


def is_or_comment(line: str) -> bool:
    match = _COMMENT.match(line)
    return bool(match and OR_CONNECTOR.match(match.group(1)))


# "# edit values.local.yaml — fill in real passwords", "# comment out backend", "# edit, then:",
# "# CHANGE THE BACKEND KEY TO x": a person changes a file between two commands (issue 11 §7).
_EDIT_VERB = re.compile(
    r"^(?:then,?\s+|now,?\s+|manually,?\s+)?(?:edit|modify|fill in|fill out|comment out|"
    r"uncomment|change|replace|editar|modificar|bearbeite[n]?|[ée]diter|modifier|编辑|修改)\b",
    re.I,
)
_EDITED = re.compile(
    r"\S+\.(?:ya?ml|json|toml|ini|conf|cfg|env|tf|tfvars|properties|xml|txt)\b|\b(?:file|"
    r"backend|config(?:uration)?|values|secrets?|passwords?|credentials)\b|\bthen\b\W*$|"
    r"\bby hand\b|\breal\b|\byour\b",
    re.I,
)


def edit_instruction(line: str) -> str | None:
    """The text of a comment line that asks a person to edit a file, to wait longer than a run
    sleeps, or to confirm something first, else None."""
    match = _COMMENT.match(line)
    if match is None or line.lstrip().startswith("#!"):
        return None
    text = match.group(1)
    if _EDIT_VERB.match(text) and _EDITED.search(text):
        return text
    return text if _PERSON_FIRST.match(text) else None


# "# Wait 24-48 hours to ensure no issues with new key", "# (After confirming no other
# dependencies)", "# (Follow AWS docs to disable)": a person waits, checks or acts between two
# commands; the run pauses there (issue 11 §7, §9)
_PERSON_FIRST = re.compile(
    r"^\(?\s*(?:wait (?:at least |for |another )?\d+(?:\s*[-–]\s*\d+)?\+?\s*(?:hours?|hrs?|h|"
    r"days?|weeks?)\b|(?:only )?(?:after|once|when) (?:confirming|verifying|checking|"
    r"you(?:'ve| have) (?:confirmed|verified|checked)|approval|sign[\s-]?off)\b|"
    r"follow (?:the )?[\w\s]{0,30}"
    r"(?:docs|documentation|guide|console|ui)\b|(?:do|done) (?:this )?(?:by hand|manually)\b)",
    re.I,
)


def person_label(text: str) -> str:
    """How a manual step names an instruction edit_instruction found."""
    if _EDIT_VERB.match(text) and _EDITED.search(text):
        return f"edit by hand: {text}"
    return f"do by hand, then approve: {text}"


def _qualifies_previous(lines: list[str], index: int) -> bool:
    """ "aws route53 delete-hosted-zone …" then "# (After confirming no other dependencies)":
    a parenthesised comment right under a command qualifies that command."""
    match = _COMMENT.match(lines[index])
    return (
        match is not None
        and match.group(1).startswith("(")
        and index > 0
        and bool(lines[index - 1].strip())
        and not _COMMENT.match(lines[index - 1])
    )


def edit_instructions(script: str) -> list[tuple[int, str]]:
    """(line offset, text) of every edit instruction in a script."""
    found = []
    lines = script.splitlines()
    for index, line in enumerate(lines):
        text = edit_instruction(line)
        if text is None:
            continue
        at = index
        if _qualifies_previous(lines, index):  # asked before the command it qualifies
            while at > 0 and lines[at - 1].strip():
                at -= 1
            at -= 1  # before the paragraph's first line, so it precedes that chunk
        found.append((at, text))
    return sorted(found)


def is_choice_comment(line: str) -> bool:
    """``# or`` / ``# Optionally, tail the logs``: the commands after it are an option, kept
    apart from the ones before (decisions.chunk_choices)."""
    match = _COMMENT.match(line)
    if match is None:
        return False
    text = match.group(1)
    return (
        is_or_comment(line)
        or rules.is_optional_title(text)
        or rules.is_platform_title(text)
        # "# If it fails" / "# On rollback": what follows is recovery, kept apart from the
        # commands before it (never one chunk that runs both forward)
        or rules.is_conditional_text(text)
        or bool(_RECOVERY_COMMENT.match(text))
    )


_RECOVERY_COMMENT = re.compile(
    r"^(?:on|upon|after|for|en caso de|si)\s+(?:a\s+)?(?:rollback|failure|error|revert|fallo)",
    re.I,
)


def _leading_comment(script: str) -> str | None:
    """The first comment of a script (after a shebang), if the script starts with one."""
    for line in script.splitlines():
        if line.startswith("#!") or not line.strip():
            continue
        match = _COMMENT.match(line)
        return match.group(1) or None if match else None
    return None


_EXPECTED = re.compile(
    r"^[ \t]*#[ \t]*"
    r"(?:expected(?:\s+(?:output|result))?|expect|should\s+(?:return|output|show|print|be))"
    r"[ \t]*:?[ \t]*(.*?)[ \t]*$",
    re.I | re.M,
)


def expected_comment(script: str) -> tuple[str, bool] | None:
    """The ``# Expected: …`` / ``# Should return …`` comment of a script, and whether it is a
    one-line expectation (False: a described multi-line output follows it)."""
    match = _EXPECTED.search(script)
    if match is None:
        return None
    if match.group(1):
        return match.group(1), True
    rest = script[match.end() :].splitlines()[1:]
    described = [ln.strip().lstrip("#").strip() for ln in rest if ln.strip().startswith("#")]
    return " / ".join(d for d in described if d), False
