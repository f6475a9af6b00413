"""``command``: run a command and judge its exit code and output.

```yaml
- command: diff -r ${TARGET} ${RUN_DIR}/backup     # or an argv list
  expect:
    exit: 0                       # default; or a comparison such as {in: [0, 1]}
    stdout_contains: "OK"
    stderr_contains: "warning"
    stdout_regex: "^ready"
    json: {"$.status": ok}        # stdout parsed as JSON
    expr: "int(stdout) < 50"      # CEL over exit_code, stdout, stderr, json
```
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, ClassVar

from pydantic import Field, field_validator

from phasegate.checks._support import comparison
from phasegate.checks.base import CheckSpec, Observation
from phasegate.compare import check_json, describe, matches, validate_expectation
from phasegate.expr import ExprError, truthy
from phasegate.options import Command, Model
from phasegate.plugin import PluginContext, command_argv
from phasegate.run.record import JsonDict


class CommandExpect(Model):
    exit: Any = Field(0, description="exit code, or a comparison mapping")
    stdout_contains: str | None = None
    stderr_contains: str | None = None
    stdout_regex: str | None = None
    json_paths: dict[str, Any] | None = Field(
        None, alias="json", description="JSONPath -> expected, over stdout"
    )
    expr: str | None = Field(None, description="CEL over exit_code, stdout, stderr, json")

    @field_validator("exit")
    @classmethod
    def _exit(cls, value: Any) -> Any:
        return comparison(value)

    @field_validator("stdout_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from None
        return value

    @field_validator("json_paths")
    @classmethod
    def _json(cls, value: JsonDict | None) -> JsonDict | None:
        for expected in (value or {}).values():
            validate_expectation(expected)
        return value


class CommandCheck(CheckSpec):
    kind: ClassVar[str] = "command"

    command: Command
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    shell: str | None = None
    expect: CommandExpect = Field(default_factory=CommandExpect)

    def describe(self) -> str:
        if self.name:
            return self.name
        text = self.command if isinstance(self.command, str) else shlex.join(self.command)
        return text.strip().splitlines()[0][:80] if text.strip() else "command"

    def expectation(self) -> str:
        e = self.expect
        parts = [f"exit {describe(e.exit)}"]
        if e.stdout_contains is not None:
            parts.append(f"stdout contains {e.stdout_contains!r}")
        if e.stderr_contains is not None:
            parts.append(f"stderr contains {e.stderr_contains!r}")
        if e.stdout_regex is not None:
            parts.append(f"stdout matches /{e.stdout_regex}/")
        if e.json_paths:
            parts.extend(f"{p} {describe(v)}" for p, v in e.json_paths.items())
        if e.expr:
            parts.append(e.expr)
        return ", ".join(parts)

    def expressions(self) -> list[tuple[str, str]]:
        return [("expect.expr", self.expect.expr)] if self.expect.expr else []

    def _expanded_expect(self, ctx: PluginContext) -> CommandExpect:
        e = self.expect
        update: dict[str, str | JsonDict] = {}
        for name in ("stdout_contains", "stderr_contains", "stdout_regex"):
            value = getattr(e, name)
            if value is not None:
                update[name] = ctx.expand(value)
        if e.json_paths:
            update["json_paths"] = {
                path: ctx.expand(v) if isinstance(v, str) else v for path, v in e.json_paths.items()
            }
        return e.model_copy(update=update) if update else e

    async def evaluate(self, ctx: PluginContext) -> Observation:
        shell = shlex.split(self.shell) if self.shell else ctx.shell
        values = dict(ctx.env)
        argv = command_argv(self.command, shell, values)
        if not isinstance(self.command, str) and any(ctx.masker.text(p) != p for p in argv):
            # A secret's value would be an argument, readable by every local user in
            # /proc/PID/cmdline (validation refuses ${SECRET} in argv; this catches the rest).
            return Observation(
                "error",
                {},
                "refusing to start: a secret's value would be an argument (readable by every "
                "local user in /proc/PID/cmdline); let the command read it from its environment",
            )
        env = dict(ctx.env)
        env.update({k: ctx.expand(v) for k, v in self.env.items()})
        cwd = ctx.expand(self.cwd) if self.cwd else (ctx.cwd or ctx.plan_dir)
        result = await ctx.executor.run(argv, env=env, cwd=cwd, timeout=self.timeout or ctx.timeout)
        stdout, stderr = ctx.masker.text(result.stdout), ctx.masker.text(result.stderr)
        observed: JsonDict = {
            "exit_code": result.exit_code,
            "stdout": stdout[-2000:],
            "stderr": stderr[-2000:],
        }
        if result.error:
            return Observation("error", observed, result.error)
        if result.timed_out:
            return Observation("failed", observed, f"timed out after {result.duration:.1f}s")
        failures: list[str] = []
        e = self._expanded_expect(ctx)
        if result.exit_code is None or not matches(result.exit_code, e.exit):
            code = result.exit_code if result.exit_code is not None else f"signal {result.signal}"
            wanted = describe(e.exit) if isinstance(e.exit, dict) else f"exit {e.exit}"
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
            said = f": {tail[0][:200]}" if tail else ""
            failures.append(f"exit {code}, expected {wanted}{said}")
        if e.stdout_contains is not None and e.stdout_contains not in result.stdout:
            failures.append(f"stdout lacks {e.stdout_contains!r}")
        if e.stderr_contains is not None and e.stderr_contains not in result.stderr:
            failures.append(f"stderr lacks {e.stderr_contains!r}")
        if e.stdout_regex is not None and not re.search(e.stdout_regex, result.stdout, re.M):
            failures.append(f"stdout does not match /{e.stdout_regex}/")
        document: Any = None
        if e.json_paths is not None or e.expr is not None:
            try:
                document = json.loads(result.stdout) if result.stdout.strip() else None
            except json.JSONDecodeError:
                document = None
        if e.json_paths is not None:
            if document is None:
                failures.append("stdout is not JSON")
            else:
                ok, values_seen = check_json(document, e.json_paths)
                observed["json"] = ctx.masker.data(values_seen)
                if not ok:
                    failures.append(f"JSON values {values_seen} do not meet {e.json_paths}")
        if e.expr is not None:
            activation = {
                **ctx.activation(),
                "exit_code": result.exit_code if result.exit_code is not None else -1,
                "stdout": result.stdout,
                "stderr": result.stderr,
                "json": document,
            }
            try:
                if not truthy(e.expr, activation):
                    failures.append(f"{e.expr} is false")
            except ExprError as exc:
                return Observation("error", observed, ctx.masker.text(exc.message))
        if failures:
            return Observation("failed", observed, ctx.masker.text("; ".join(failures)))
        return Observation("passed", observed, f"exit {result.exit_code}")
