"""Credentials the document says the commands need and never sets -> variables to bind.

"Flag service: our internal `flagctl` (needs `FLAGCTL_TOKEN` from 1Password "flags-prod")": the
commands read a secret from the environment without ever naming it (``flagctl`` reads it
itself), so unset.py, which reads ``$NAME`` in commands, cannot see it. Run as written, every
``flagctl`` call fails or acts anonymously. The prose says what the reader must provide: a plan
variable read from the environment with ``needs_binding`` naming it and its Markdown line, so
the plan is not "executable as written" until the environment gives it (blind round 9, §3).

A credential is an upper-case environment name ending in ``TOKEN``, ``KEY``, ``SECRET``,
``PASSWORD``, ``CREDENTIALS`` … that the prose says is needed (needs, requires, from a vault or
password manager, set/export it) and that the document never sets (``NAME=…``, ``export NAME``).
"""

from __future__ import annotations

import re

from phasegate.markdown import unset
from phasegate.markdown.draft import Draft

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?^ {0,3}\1[ \t]*$", re.M | re.S)
_NAME = re.compile(
    r"(?<![\w$<{\[])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:TOKEN|API_KEY|KEY|SECRET|SECRET_KEY|PASSWORD|"
    r"PASSWD|PASS|PAT|CREDENTIALS?|AUTH|APIKEY))(?![\w=>}\]])"
)
# what says the reader must provide it
_NEEDED = re.compile(
    r"\b(?:needs?|needed|requires?|required|from|provide[sd]?|set|export(?:ed)?|must have|"
    r"1password|vault|keychain|secrets? manager|bitwarden|lastpass|keepass|"
    r"braucht|benötigt|aus|wymaga|potrzeb\w*|z\b|kräver|från|vyžaduje|z\b|butuh|memerlukan|"
    r"dari|necesita|requiere|précise|nécessite|depuis|需要|來自|来自|必要)\b",
    re.I,
)
_SET = r"(?:^|[\s;&|(`])(?:export\s+)?{name}="


def bind(draft: Draft, text: str) -> None:
    """Declare every credential the prose says is needed and nobody sets."""
    if not any(p.keep() and (p.steps or p.gates) for p in draft.phases):
        return
    prose = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for line_no, line in enumerate(prose.splitlines(), start=1):
        for match in _NAME.finditer(line):
            name = match.group(1)
            if name in draft.vars or unset.known(name):
                continue
            window = line[max(0, match.start() - 80) : match.end() + 80]
            if not _NEEDED.search(window):
                continue
            if re.search(_SET.format(name=re.escape(name)), text, re.M) or re.search(
                rf"\bexport\s+{re.escape(name)}\b", text
            ):
                continue
            unset.ask_for(
                draft,
                name,
                line_no,
                f"`{name}` ({draft.source}:{line_no}) is a credential the document says the "
                "commands need and never sets: give its value",
                f"`{name}`, a credential named in the prose, set nowhere",
                f"credential `{name}`",
            )
