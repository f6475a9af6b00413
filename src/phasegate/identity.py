"""Who is acting: one answer for every CLI verb, for the audit trail and for
``prevent_self_review``.

A CLI identity is the login name of the process's real uid (``pwd.getpwuid(os.getuid())``),
never ``$USER``, ``$LOGNAME`` or ``$PHASEGATE_ACTOR``: those are set by whoever starts the
process, so a run started under one ``$USER`` and approved under another (or with it unset)
would pass for two people. The uid is what the kernel vouches for, and only the machine's
administrator can hand a person a second one (see docs/server.md, "Who is acting").

This is an identity, not an authentication: anyone who can write the state directory can
write the journal directly. Separation of duties that must hold against a determined
colleague belongs to ``phasegate serve``, whose bearer tokens authenticate every request and
whose worker processes act for the token (``assume``).
"""

from __future__ import annotations

import os
import pwd
import socket

ACTOR_ENV = "PHASEGATE_ACTOR"  # no longer honoured; the CLI warns when it is set

_ASSUMED: dict[str, str] = {}  # {'name': token:NAME} inside a server worker


def login_name() -> str:
    """The login name of the real uid, or ``uid:N`` when the uid has no passwd entry (a
    container started with an arbitrary ``--user``)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def user() -> str:
    """Who starts a run, as its ``run.started`` entry records it: a bare name."""
    return _ASSUMED.get("name") or login_name()


def actor() -> str:
    """Who approves, aborts, promotes or rolls back: ``login@host`` for the CLI, the
    authenticated ``token:NAME`` inside a server worker."""
    if "name" in _ASSUMED:
        return _ASSUMED["name"]
    return f"{login_name()}@{socket.gethostname()}"


def assume(name: str) -> None:
    """Act for an identity the server authenticated (``token:NAME``). Only the server's worker
    entry point calls this, with the name the API recorded for the request; it is a function
    call, not an environment variable, so a shell cannot set it for a CLI verb."""
    _ASSUMED["name"] = name
