"""Rego policies (OPA's language), evaluated in-process by ``regopy`` (rego-cpp).

One file is one policy, named by the file's stem (``no-literal-secrets.rego``). Conftest's
conventions: ``deny`` and ``warn`` are sets whose members are a message, or an object
``{"msg": ..., "path": [...]}`` whose ``path`` points into ``input`` (the plan as written)
at the node the violation is about. ``deny`` is enforced at the package's ``enforcement``
(``"advisory"``, ``"soft"`` or ``"hard"``; hard when absent); ``warn`` is advisory.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phasegate.policy.errors import PolicyPackError
from phasegate.policy.model import LEVELS, JsonPath, Level, Violation
from phasegate.run.record import JsonDict

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)\s*$", re.M)


@dataclass(frozen=True)
class RegoPolicy:
    name: str
    file: Path
    package: str
    source: str


def read_rego(path: Path) -> RegoPolicy:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyPackError(f"{path}: cannot read the policy: {exc}") from None
    match = _PACKAGE.search(source)
    if match is None:
        raise PolicyPackError(
            f"{path}: no `package` line", hint="a Rego policy starts with `package NAME`"
        )
    return RegoPolicy(path.name.removesuffix(".rego"), path, match.group(1), source)


class RegoEngine:
    """The pack's Rego policies in one interpreter: the plan is converted once per
    evaluation and every policy queried against it. Evaluations are serialised (the
    interpreter holds one input at a time)."""

    def __init__(self, policies: list[RegoPolicy]) -> None:
        self.policies = policies
        self._lock = threading.Lock()
        self._interpreter: Any = None

    def _ready(self) -> Any:
        if self._interpreter is None:
            from regopy import Interpreter, RegoError

            interpreter = Interpreter()
            for policy in self.policies:
                try:
                    with _quiet_stdout():
                        interpreter.add_module(str(policy.file), policy.source)
                except RegoError as exc:
                    raise PolicyPackError(_rego_message(policy, exc)) from None
            self._interpreter = interpreter
        return self._interpreter

    def evaluate(self, data: JsonDict) -> list[Violation]:
        if not self.policies:
            return []
        from regopy import Input

        with self._lock:
            interpreter = self._ready()
            interpreter.set_input(Input(data))
            found: list[Violation] = []
            for policy in self.policies:
                # Each rule on its own: rego-cpp's JSON output does not escape quotes in
                # strings, so a whole package (helper rules holding plan text) may not parse.
                document = {
                    rule: value
                    for rule in ("deny", "warn", "enforcement")
                    if (value := _query(interpreter, policy, rule)) is not None
                }
                found += _violations(policy, document)
            return found


def _query(interpreter: Any, policy: RegoPolicy, rule: str) -> Any:
    from regopy import RegoError

    try:
        with _quiet_stdout():
            output = interpreter.query(f"data.{policy.package}.{rule}")
    except RegoError as exc:
        raise PolicyPackError(_rego_message(policy, exc)) from None
    except ValueError as exc:  # json.JSONDecodeError: rego-cpp's output of quoted text
        raise PolicyPackError(
            f"{policy.file}: the result of `{rule}` cannot be read ({exc})",
            hint="keep plan text with double quotes out of messages (name the node by path)",
        ) from None
    if not output.results or not output.results[0].expressions:
        return None  # undefined
    return output.results[0].expressions[0]


# rego-cpp's errors are an s-expression: (error N:NAME|OFFSET|LENGTH (errormsg N:TEXT) ...)
_ERROR_AT = re.compile(r"\(error \d+:[^|]*\|(\d+)\|\d+")
_ERROR_MESSAGE = re.compile(r"\(errormsg \d+:([^)]*)\)")


def _rego_message(policy: RegoPolicy, exc: Exception) -> str:
    """``file:line:col: message`` of rego-cpp's first error (an offset into the source)."""
    text = str(exc)
    message = _ERROR_MESSAGE.search(text)
    where = str(policy.file)
    at = _ERROR_AT.search(text)
    if at is not None:
        offset = int(at.group(1))
        line = policy.source.count("\n", 0, offset) + 1
        column = offset - (policy.source.rfind("\n", 0, offset) + 1) + 1
        where += f":{line}:{column}"
    detail = message.group(1).strip() if message else (text.strip().splitlines() or [""])[0]
    return f"{where}: the Rego policy does not compile: {detail}"


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """rego-cpp prints its errors to the process's standard output (file descriptor 1),
    which is `validate --json`'s: keep them out of it (the exception carries them)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _violations(policy: RegoPolicy, document: Any) -> list[Violation]:
    if not isinstance(document, dict):
        return []
    level: Level = document.get("enforcement", "hard")
    if level not in LEVELS:
        raise PolicyPackError(
            f"{policy.file}: enforcement is {level!r}",
            hint='write `enforcement := "advisory"`, `"soft"` or `"hard"`',
        )
    found: list[Violation] = []
    rules: tuple[tuple[str, Level], ...] = (("deny", level), ("warn", "advisory"))
    for rule, rule_level in rules:
        results = document.get(rule) or []
        for result in results if isinstance(results, list) else [results]:
            found.append(_violation(policy, rule_level, result))
    return found


def _violation(policy: RegoPolicy, level: Level, result: Any) -> Violation:
    if isinstance(result, dict):
        message = str(result.get("msg", result.get("message", "")))
        path = _path(policy, result.get("path"))
        return Violation(policy.name, level, message, path, "rego")
    return Violation(policy.name, level, str(result), (), "rego")


def _path(policy: RegoPolicy, raw: Any) -> JsonPath:
    if raw is None:
        return ()
    if isinstance(raw, list) and all(
        isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool)) for p in raw
    ):
        return tuple(raw)
    raise PolicyPackError(
        f"{policy.file}: a violation's path is {raw!r}",
        hint='a path is a list of keys and indexes into input, e.g. ["phases", 0, "steps", 2]',
    )
