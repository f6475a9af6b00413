"""The environment a server-started run sees: a small base plus what the operator allows.

Why an allow-list: the server's own environment (a systemd ``EnvironmentFile``) holds its
secrets: webhook URLs, SMTP passwords, PagerDuty keys. A plan posted over the API could
otherwise name any of them (``vars: {X: {env: SMTP_PASSWORD}}``, or just ``run: env``) and
read it back through the run's logs. So, as systemd gives a service only what its unit
names and GitHub Actions gives a job only the secrets its workflow names, a run started by
the server sees only:

* ``BASE``: what a shell and ordinary tools need to work (PATH, HOME, locale, TMPDIR, …),
  nothing that is customarily a secret; and
* the names the operator passed with ``phasegate serve --pass-env NAME`` (repeatable).

Everything else in the server's environment is invisible to server-started runs: their
steps do not inherit it and ``{env: NAME}`` does not resolve from it. Validating and
previewing a posted plan read no environment at all (``{env: …}`` shows where the value
would come from, never a value).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

BASE = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "TERM",
    "PYTHONPATH",  # the worker itself is Python: a server run from a source tree needs it
)


def run_environment(
    pass_env: Iterable[str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables of ``environ`` (the server's) that a server-started run may see."""
    source = os.environ if environ is None else environ
    allowed = {*BASE, *pass_env}
    return {
        name: value
        for name, value in source.items()
        if name in allowed or name.startswith("LC_")  # locale categories: LC_ALL, LC_CTYPE…
    }
