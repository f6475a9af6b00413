"""Where a plan may use its secrets (issue 10 §1.5).

* **Not in an argv list.** ``run: [deploy, --token, "${TOKEN}"]`` would hand the value to
  ``execve``, and every local user can read a process's arguments in ``/proc/PID/cmdline``.
  Such a reference is a located plan error; the command reads the secret from its
  environment instead (every command gets each variable as ``$NAME``), or from a file or
  stdin. A shell-form ``run:`` string never has values pasted into it: the shell expands
  ``${TOKEN}`` from the environment, so the script text in argv holds only the reference.
  (What the script then passes to a program as an argument is visible again: see
  docs/security.md.) GitHub Actions and Kubernetes pass secrets the same way: as
  environment variables or files, never as arguments the platform writes.
* **Long enough to mask.** A secret shorter than ``MIN_MASKED`` characters is never masked
  (masking ``ab`` would shred every log): validation warns about literal ones.
"""

from __future__ import annotations

from typing import Any

from phasegate.errors import Problem
from phasegate.masking import MIN_MASKED
from phasegate.plan.model import Plan, VarSpec
from phasegate.plan.yamlsource import Path_, SourceMap
from phasegate.substitution import references

# Keys whose list value is an argv (``run: [...]``, a check's ``command: [...]``, ``undo:
# [...]``); an entry of a phase's ``rollback:`` list may itself be an argv list.
ARGV_KEYS = ("run", "command", "undo")


def secret_names(plan: Plan) -> set[str]:
    """Variables declared ``secret: true``, and plan variables whose value refers to one."""
    secret = {n for n, s in plan.vars.items() if isinstance(s, VarSpec) and s.secret}
    texts = {n: _text(s) for n, s in plan.vars.items()}
    grew = True
    while grew:
        grew = False
        for name, text in texts.items():
            if name not in secret and any(ref in secret for ref in references(text)):
                secret.add(name)
                grew = True
    return secret


def check(
    plan: Plan, data: dict[str, Any], smap: SourceMap, problems: list[Problem]
) -> list[Problem]:
    """Add an error per secret in an argv list; return warnings about unmaskable secrets."""
    secret = secret_names(plan)
    if secret:
        _walk(data, (), secret, smap, problems)
    warnings = []
    for name, spec in plan.vars.items():
        if not (isinstance(spec, VarSpec) and spec.secret):
            continue
        for field in ("value", "default"):
            value = getattr(spec, field)
            if value is not None and 0 < len(str(value)) < MIN_MASKED:
                warnings.append(
                    smap.problem(
                        ("vars", name, field),
                        f"secret {name} is {len(str(value))} character(s) long: values shorter "
                        f"than {MIN_MASKED} are never masked in logs, the journal or reports",
                        hint="use a longer secret, or do not mark a non-secret as secret",
                    )
                )
    return warnings


def _walk(value: Any, path: Path_, secret: set[str], smap: SourceMap, out: list[Problem]) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _walk(child, (*path, key), secret, smap, out)
        return
    if not isinstance(value, list):
        return
    argv = bool(path) and (path[-1] in ARGV_KEYS or (len(path) >= 2 and path[-2] == "rollback"))
    if argv and all(isinstance(part, str) for part in value):
        for index, part in enumerate(value):
            used = [ref for ref in references(part) if ref in secret]
            if used:
                out.append(_problem((*path, index), used[0], smap))
        return
    for index, child in enumerate(value):
        _walk(child, (*path, index), secret, smap, out)


def _problem(path: Path_, name: str, smap: SourceMap) -> Problem:
    return smap.problem(
        path,
        f"secret ${{{name}}} in an argument list: every local user can read a process's "
        "arguments (/proc/PID/cmdline)",
        hint=f"let the command read ${name} from its environment (every command gets it), "
        f'or use the shell form and pass it on stdin or in a file: printf %s "${{{name}}}" | …',
    )


def _text(spec: Any) -> str:
    if isinstance(spec, VarSpec):
        value = spec.value if spec.value is not None else spec.default
        return value if isinstance(value, str) else ""
    return spec if isinstance(spec, str) else ""
