"""Commands that stop for a person's answer, or block until a later step (blind round 7).

forever.py knows commands that never end by themselves (``watch``, ``tail -f``) or open a
session; these are commands well known to stop at a prompt when run as written, or to wait
for something the document does only later:

- ``terraform apply`` / ``destroy`` (and ``tofu``) without ``-auto-approve`` and without a
  saved plan file print the plan and wait for ``yes`` — the person is meant to compare it
  with the plan they reviewed;
- ``redis-cli --cluster reshard`` without ``--cluster-from/-to/-slots`` and
  ``--cluster-yes`` asks for the slot count, the target and the sources;
- ``pulumi up`` / ``destroy`` without ``--yes`` asks to confirm;
- ``ceph -w`` / ``ceph --watch…`` follows the cluster log forever;
- ``gh-ost … --execute`` with ``--postpone-cut-over-flag-file`` copies, then waits until the
  flag file is removed — which the document does in a later step: as a plain step it blocks
  the step that would end it.

Such a command never becomes a plain step or gate: it is a manual step (monitors.py reads
it as interactive), or the follower it is.
"""

from __future__ import annotations

import re

from phasegate.markdown import passwords, signing


def _has(args: list[str], *names: str) -> bool:
    return any(a in names or a.startswith(tuple(f"{n}=" for n in names)) for a in args)


# the words every reason below that is a typed answer (not a follower) carries
_ANSWER = "(a person types the answer)"


def is_answer(why: str | None) -> bool:
    """Whether a never-ending reason is a prompt a person answers at a terminal."""
    return bool(why) and _ANSWER in str(why)


def waits_for_answer(name: str, args: list[str], fed: bool) -> str | None:
    """Why ``name args`` stops for a person (or blocks on a later step), else None."""
    why = _waits(name, args, fed)
    # a password is typed into the manual step it becomes, like an interactive session: no
    # answer the document leaves open
    if why and not why.startswith(("`ceph", "`gh-ost")) and not passwords.is_prompt(why):
        return f"{why} {_ANSWER}"
    return why


def _waits(name: str, args: list[str], fed: bool) -> str | None:
    password = passwords.asks_password(name, args)  # a password typed at the terminal
    if password:
        return password
    passphrase = signing.asks_passphrase(name, args)  # `aptly publish switch` (signing.py)
    if passphrase and not fed:
        return passphrase
    if name in ("terraform", "tofu") and not fed:
        verb = next((a for a in args if not a.startswith("-")), "")
        if verb in ("apply", "destroy") and not _has(args, "-auto-approve", "--auto-approve"):
            operands = [a for a in args[args.index(verb) + 1 :] if not a.startswith("-")]
            # `-var 'x=y'` takes its value as the next word
            values = {
                args[i + 1]
                for i, a in enumerate(args[:-1])
                if a in ("-var", "-var-file", "-target", "-replace", "-state", "-parallelism")
            }
            if verb == "destroy" or not [o for o in operands if o not in values]:
                return f"`{name} {verb}` without a saved plan waits for a person to type yes"
    if name in ("vault", "bao") and not fed:
        # `vault operator unseal` / `generate-root` / `rekey` without the key share on the
        # line, `vault login` without a token: a prompt for a secret a person holds (round 8)
        positional = [a for a in args if not a.startswith("-")]
        asks_share = positional[:2] in (["operator", "unseal"], ["operator", "generate-root"]) or (
            positional[:2] == ["operator", "rekey"] and not _has(args, "-init", "-cancel")
        )
        if asks_share and len(positional) == 2:
            return f"`{name} {' '.join(positional[:2])}` prompts for a key share"
        if (
            positional[:1] == ["login"]
            and len(positional) == 1
            and not any(a.startswith(("-method", "--method", "-token-only")) for a in args)
        ):
            return f"`{name} login` prompts for a token"
    if name == "redis-cli" and "--cluster" in args and not fed:
        sub = args[args.index("--cluster") + 1 : args.index("--cluster") + 2]
        if sub == ["reshard"] and not (
            _has(args, "--cluster-yes")
            and _has(args, "--cluster-from")
            and _has(args, "--cluster-to")
            and _has(args, "--cluster-slots")
        ):
            return "`redis-cli --cluster reshard` asks for slots, target and sources"
    if (
        name == "pulumi"
        and args[:1] in (["up"], ["destroy"], ["update"])
        and not fed
        and not _has(args, "--yes", "-y")
    ):
        return f"`pulumi {args[0]}` without --yes waits for a person to confirm"
    if name == "ceph" and (
        "-w" in args or any(a.startswith("--watch") for a in args) or args[:1] == ["watch"]
    ):
        return "`ceph -w` follows the cluster log forever"
    if name == "gh-ost" and _has(args, "--execute") and _has(args, "--postpone-cut-over-flag-file"):
        return (
            "`gh-ost --postpone-cut-over-flag-file` waits until the flag file is removed, "
            "which a later step does"
        )
    return None


# The paragraph right after a fence says its command stops for an answer: "The script asks
# `Apply 3 migrations? [y/N]`. Answer `y`.", "Terraform … asks `Do you want to perform these
# actions?` — type `yes`", "按提示输入 … 输入 `yes` 确认", "Das Skript fragt … mit `yes`
# bestätigen". Any program, known or not: the document says a person answers it.
_ASKS = re.compile(
    r"\[\s*y\s*/\s*n\s*\]|\(\s*y(?:es)?\s*/\s*no?\s*\)|"
    r"\b(?:asks?|prompts?|will ask|will prompt|waits? for (?:you|an answer|input|confirmation))"
    r"\b[^.\n]{0,120}?(?:\?|\byes\b|\bconfirm|\banswer|\btype\b|\benter\b)|"
    r"\b(?:type|answer|enter|respond(?: with)?|reply(?: with)?)\s+[`'\"“]?(?:yes|y)\b[`'\"”]?|"
    r"\b(?:fragt|abfrage|eingabeaufforderung)\b[^.\n]{0,80}|\b(?:tippe|tippen sie|antworte|"
    r"antworten sie)\s+[`'\"„]?(?:yes|y|ja|j)\b|"
    r"\bdemande (?:une )?confirmation|\b(?:tapez|r[ée]pondez|saisissez)\s+[`'\"«]?\s*"
    r"(?:yes|y|oui|o)\b|"
    r"\b(?:pregunta|solicita confirmaci[oó]n|pide confirmaci[oó]n)\b|\b(?:escribe|escriba|"
    r"responde|responda)\s+[`'\"]?(?:yes|y|s[ií]|s)\b|"
    r"\b(?:pergunta|pede confirma[cç][aã]o)\b|\b(?:digite|responda)\s+[`'\"]?(?:yes|y|sim|s)\b|"
    r"(?:спросит|спрашивает|запрашивает|введите\s+[`'\"«]?(?:yes|y|да)|ответьте)|"
    r"\b(?:zapyta|pyta o|wpisz\s+[`'\"„]?(?:yes|y|tak|t)\b|odpowiedz)|"
    r"(?:soracak|sorar|yes yaz[ıi]n|onaylay[ıi]n)|"
    r"按提示|根据提示|提示(?:时|后)?输入|输入\s*[`'\"“]?yes|"
    r"プロンプト|入力を求め|yes\s*と入力|"
    r"프롬프트|입력하라는|yes\s*를?\s*입력",
    re.I,
)


def asks_answer(prose: str) -> bool:
    """A paragraph saying the command before it stops for a person's typed answer."""
    text = prose.strip()
    return 0 < len(text) <= 400 and bool(_ASKS.search(text))
