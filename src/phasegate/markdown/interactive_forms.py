"""Commands that wait for a person or never end, in the forms blind round 12 showed forever.py
missed (issue 11 §2): a bash ``select`` menu, a CLI sign-in that asks for a password or opens a
browser (``kcadm.sh config credentials`` without ``--password``, ``oc login`` without a token,
``gh auth login``, ``az login``, ``gcloud auth login``, ``npm login``, ``aws configure``,
``kinit`` without a keytab), and a live statistics view (``redis-cli --stat`` / ``--latency``
/ ``-r -1``, ``mongostat`` / ``mongotop`` without a count, ``docker stats`` without
``--no-stream``, ``docker events``, MinIO's ``mc admin trace`` / ``mc watch``). As a plain
step each hangs until the step's timeout, then rolls back a healthy change; it becomes a
manual step or a monitor (forever.py decides which), never a plain step or gate.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft

# `select ENV in staging production; do …; done`, `select opt in "${options[@]}"`
_MENU = re.compile(r"^\s*select\s+[A-Za-z_]\w*(?:\s+in\b|\s*;|\s*$)", re.M)


def menu(text: str) -> str | None:
    """A bash ``select`` menu: it prints numbered choices and reads one from the terminal."""
    if _MENU.search(text):
        return "`select` shows a menu and waits for a person to pick"
    return None


def _has(args: list[str], *names: str) -> bool:
    return any(a in names or a.startswith(tuple(f"{n}=" for n in names)) for a in args)


def signs_in(name: str, args: list[str], fed: bool) -> str | None:
    """Why a sign-in stops for a person (a typed password, a browser), else None."""
    if fed:
        return None
    positional = [a for a in args if not a.startswith("-")]
    if (
        # `$KC config credentials` after `export KC=/opt/keycloak/bin/kcadm.sh`
        (name == "kcadm.sh" or name.startswith("$"))
        and positional[:2] == ["config", "credentials"]
        and not _has(args, "--password", "--secret", "--client-secret", "--keystore")
    ):
        return "`kcadm.sh config credentials` without --password prompts for the password"
    if (
        name == "oc"
        and positional[:1] == ["login"]
        and not _has(args, "-p", "--password", "--token")
    ):
        return "`oc login` without a token or password prompts for the password"
    if name == "gh" and positional[:2] == ["auth", "login"] and not _has(args, "--with-token"):
        return "`gh auth login` asks its questions and opens a browser for a person"
    if (
        name == "az"
        and positional[:1] == ["login"]
        and not _has(
            args, "-p", "--password", "--identity", "--federated-token", "--use-device-code"
        )
    ):
        return "`az login` opens a browser for a person to sign in"
    if (
        name == "gcloud"
        and positional[:2] == ["auth", "login"]
        and not _has(args, "--cred-file", "--no-launch-browser", "--no-browser")
    ):
        return "`gcloud auth login` opens a browser for a person to sign in"
    if name == "aws" and positional[:2] == ["sso", "login"]:
        return "`aws sso login` opens a browser for a person to sign in"
    if name == "aws" and positional == ["configure"]:
        return "`aws configure` asks for the keys at the terminal"
    if name == "npm" and positional[:1] in (["login"], ["adduser"]):
        return f"`npm {positional[0]}` prompts for the password"
    if name == "kinit" and not any(a.startswith("-k") or a in ("-t", "--keytab") for a in args):
        return "`kinit` without a keytab prompts for the password"
    return None


_REDIS_LIVE = ("--stat", "--latency", "--latency-history", "--latency-dist", "--monitor")


def live(name: str, args: list[str], flags: set[str]) -> str | None:
    """Why a statistics view refreshes until someone stops it, else None."""
    if name == "redis-cli":
        found = [a for a in args if a in _REDIS_LIVE]
        if found:
            return f"`redis-cli {found[0]}` refreshes until someone stops it"
        if "-r" in args and args[args.index("-r") + 1 : args.index("-r") + 2] == ["-1"]:
            return "`redis-cli -r -1` repeats until someone stops it"
    if name in ("mongostat", "mongotop") and not any(
        a in ("-n", "--rowcount") or a.startswith("--rowcount=") for a in args
    ):
        numbers = [a for a in args if a.isdigit()]
        if name == "mongostat" or numbers or not args:
            return f"`{name}` reports until someone stops it"
    positional = [a for a in args if not a.startswith("-")]
    if name in ("mc", "mcli") and (
        positional[:2] in (["admin", "trace"], ["admin", "top"]) or positional[:1] == ["watch"]
    ):
        # MinIO's `mc admin trace`, `mc admin top locks`, `mc watch`: they stream until stopped
        return f"`{name} {' '.join(positional[:2])}` streams until someone stops it"
    if name in ("docker", "podman") and args[:1] == ["stats"] and "--no-stream" not in flags:
        return f"`{name} stats` refreshes until someone stops it"
    if name in ("docker", "podman") and args[:1] == ["events"] and not _has(args, "--until"):
        return f"`{name} events` streams until someone stops it"
    return None


# the menu line as it stands in a step (commented out by the fence's cleaning, or not)
_MENU_LINE = re.compile(
    r"^\s*(?:#\s*\[not run: [^\]]*\]\s*)?select\s+([A-Za-z_]\w*)\s+in\s+([^;\n]*)", re.M
)


def bind_menu(draft: Draft, run: str, line: int) -> None:
    """``select ENV in staging production`` then ``… "gke-$ENV"``: the menu's pick is a value
    a person gives before the run (a variable that needs binding, its choices named), never
    an empty ``$ENV`` the rest of the script runs with."""
    for match in _MENU_LINE.finditer(run):
        name, choices = match.group(1), " | ".join(match.group(2).split())
        if name in draft.vars or not re.search(rf"\$\{{?{name}\b", run[match.end() :]):
            continue
        draft.vars[name] = {
            "env": name,
            "needs_binding": f"`${name}` is what the `select` menu at {draft.source}:{line} "
            f"asks a person to pick ({choices}): give the choice",
            "description": f"the menu's choice: {choices}",
        }
        draft.note("needs_binding", line=line, what=f"menu choice `${name}` ({choices})")
