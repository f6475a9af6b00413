"""Signing commands that stop for a key's passphrase typed at the terminal (blind round 11,
issue 11 §2): ``aptly publish switch|snapshot|repo|update`` without ``-batch`` and a
passphrase (or ``-skip-signing``), ``gpg --sign`` / ``--clearsign`` / ``--detach-sign``
without ``--batch`` and a passphrase, ``debsign`` / ``dpkg-sig`` without a passphrase,
``rpmsign`` / ``rpm --addsign``. Unattended they hang or fail; a person types the passphrase
(prompts.py makes the command a manual step and the plan not executable as written)."""

from __future__ import annotations


def _has(args: list[str], *flags: str) -> bool:
    return any(a in flags or a.startswith(tuple(f"{f}=" for f in flags)) for a in args)


def asks_passphrase(name: str, args: list[str]) -> str | None:
    """Why ``name args`` stops for a passphrase, else None."""
    positional = [a for a in args if not a.startswith("-")]
    unattended_aptly = _has(args, "-skip-signing", "--skip-signing") or (
        _has(args, "-batch", "--batch")
        and _has(args, "-passphrase", "--passphrase", "-passphrase-file", "--passphrase-file")
    )
    if (
        name == "aptly"
        and positional[:1] == ["publish"]
        and positional[1:2] in (["switch"], ["snapshot"], ["repo"], ["update"])
        and not unattended_aptly
    ):
        return f"`aptly publish {positional[1]}` prompts for the GPG key's passphrase"
    if name in ("gpg", "gpg2") and _has(
        args, "--sign", "-s", "--clearsign", "--clear-sign", "--detach-sign", "-b", "-sb", "-sa"
    ):
        unattended = _has(args, "--batch") and (
            _has(args, "--passphrase", "--passphrase-file", "--passphrase-fd")
            or _has(args, "--pinentry-mode")
        )
        if not unattended:
            return f"`{name} --sign` prompts for the key's passphrase"
    if name in ("debsign", "dpkg-sig") and not _has(args, "-p", "--passphrase", "-g"):
        return f"`{name}` prompts for the key's passphrase"
    if name == "rpmsign" or (name == "rpm" and _has(args, "--addsign", "--resign")):
        return f"`{name}` prompts for the key's passphrase"
    return None
