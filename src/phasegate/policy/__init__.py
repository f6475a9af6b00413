"""Policies: rules every plan must satisfy, in Rego or CEL, at three enforcement levels.

Map::

    model.py      Violation (policy, level, message, path, file:line:col) and Verdict
    document.py   the input rules see: the plan as written, secrets masked, located by path
    rego.py       *.rego policies through regopy (conftest-style deny/warn)
    cel.py        *.cel.yaml policies: CEL rules evaluated on every plan, phase, step or var
    pack.py       a directory of policies; each evaluated once; ``--policies`` / env
    admission.py  hard refuses, soft refuses unless overridden with a reason, advisory reports
    journal.py    what admission let through (overrides, advisories), journalled into the run
    testing.py    ``phasegate policy test DIR``: a pack's own cases, in each language
    errors.py     PolicyPackError (a broken pack), PolicyRefused (a refused plan)

Sits above ``plan`` (it reads loaded plans) and below the engine and the views.
"""

from phasegate.policy.admission import admit, overridden
from phasegate.policy.errors import PolicyPackError, PolicyRefused
from phasegate.policy.journal import journal_admission
from phasegate.policy.model import LEVELS, Level, Verdict, Violation
from phasegate.policy.pack import ENV, Pack, load_pack, pack_from_option

__all__ = [
    "ENV",
    "LEVELS",
    "Level",
    "Pack",
    "PolicyPackError",
    "PolicyRefused",
    "Verdict",
    "Violation",
    "admit",
    "journal_admission",
    "load_pack",
    "overridden",
    "pack_from_option",
]
