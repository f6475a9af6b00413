"""Plan variables: ``${NAME}`` from ``vars``, ``--var``, the environment and built-ins.

How a variable reaches a command, and why it cannot inject shell syntax:

* In a ``run`` **string** (executed by the plan's shell) phasegate does *not* paste values
  into the script text. Every variable is exported into the command's environment and the
  shell expands ``${NAME}`` itself. A parameter expansion's result is never parsed again as
  shell syntax, so a value such as ``x; rm -rf /`` or ``$(reboot)`` stays data.
  (Quote expansions, ``"${NAME}"``, to avoid word splitting of values with spaces.)
* In an **argv list** (``run: [cp, -a, "${SRC}", "${DST}"]``) each element is substituted
  textually and passed to ``execve`` as one argument: there is no shell to inject into.
* In every other field (paths, URLs, check options) substitution is textual.

``$${NAME}`` writes a literal ``${NAME}``. Values the plan writes (literals, ``value:``,
``default:``) may refer to other variables; values from outside the plan (``--var``, the
environment, built-ins) are taken as given, never expanded again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from phasegate.plan.model import Plan, VarSpec
from phasegate.substitution import REFERENCE, substitute
from phasegate.suggest import did_you_mean


class VariableError(ValueError):
    def __init__(self, name: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.hint = hint


@dataclass
class Variables:
    values: dict[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)

    def secret_values(self) -> list[str]:
        return [self.values[n] for n in self.secrets if n in self.values]

    def expand(self, text: str) -> str:
        return substitute(text, self.values)

    def masked(self) -> dict[str, str]:
        return {k: ("***" if k in self.secrets else v) for k, v in self.values.items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def resolve(
    plan: Plan,
    overrides: Mapping[str, str],
    builtins: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
    *,
    allow_unset_env: bool = False,
) -> Variables:
    """Resolve every variable to a string; values may reference other variables."""
    env = os.environ if environ is None else environ
    unknown = [k for k in overrides if k not in plan.vars]
    if unknown:
        name = unknown[0]
        raise VariableError(
            name,
            f"--var {name}: the plan declares no variable {name!r}",
            did_you_mean(name, plan.vars) or "declare it under `vars:` first",
        )
    raw: dict[str, str] = dict(builtins)
    # Values from outside the plan (built-ins, --var, the environment) are data, used as
    # given: a token that happens to contain "${" must not be rewritten.
    literal: set[str] = set(builtins)
    secrets: set[str] = set()
    for name, spec in plan.vars.items():
        if isinstance(spec, VarSpec) and spec.secret:
            secrets.add(name)
        if name in overrides:
            raw[name] = overrides[name]
            literal.add(name)
        elif isinstance(spec, VarSpec) and spec.env is not None:
            if spec.env in env:
                raw[name] = env[spec.env]
                literal.add(name)
            elif spec.default is not None:
                raw[name] = _text(spec.default)
            elif allow_unset_env:
                raw[name] = ""
            else:
                raise VariableError(
                    name,
                    f"vars.{name}: environment variable {spec.env} is not set",
                    f"export {spec.env}=…, pass --var {name}=…, or give a default",
                )
        elif isinstance(spec, VarSpec):
            raw[name] = "" if spec.value is None else _text(spec.value)
        else:
            raw[name] = _text(spec)
    resolved: dict[str, str] = {}
    uses: dict[str, set[str]] = {}  # the variables each one refers to, transitively

    def get(name: str, chain: tuple[str, ...]) -> str:
        if name in resolved:
            return resolved[name]
        if name in chain:
            cycle = " -> ".join((*chain[chain.index(name) :], name))
            raise VariableError(name, f"variables refer to each other in a cycle: {cycle}")
        refs: set[str] = set()

        def expand(match: re.Match[str]) -> str:
            ref = match.group(1)
            if ref is None:
                return "${"
            if ref not in raw:
                return match.group(0)
            value = get(ref, (*chain, name))
            refs.add(ref)
            refs.update(uses[ref])
            return value

        out = raw[name] if name in literal else REFERENCE.sub(expand, raw[name])
        resolved[name] = out
        uses[name] = refs
        return out

    for name in raw:
        get(name, ())
    # A variable built from a secret is secret too, and so is one that contains a secret's
    # value however it got there (a value pasted from the environment, say).
    for name, value in resolved.items():
        if name in secrets:
            continue
        if uses[name] & secrets or any(
            len(resolved[s]) >= 3 and resolved[s] in value for s in secrets
        ):
            secrets.add(name)
    return Variables(values=resolved, secrets=secrets)
