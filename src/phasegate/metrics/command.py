"""``command``: run a command; its output is the value.

```yaml
- metric: ./error-rate.sh --window 5m     # the command (a shell script, like `run:`)
  provider:
    command:
      path: $.error_rate                  # optional: stdout is JSON, read this JSONPath
      cwd: ${PLAN_DIR}/tools              # default: the plan's directory
      env: {WINDOW: 5m}
```

Without ``path`` stdout must be one number (``0.5``, ``3``, ``1e-3``, ``NaN``, ``+Inf``),
surrounding whitespace ignored. Empty output is no data. A command that cannot start, exits
non-zero or times out, and output that is not a number (or not JSON, with ``path``), mean
the provider could not answer. Variables reach the script through its environment, as for
``run:`` steps, so a value can never become shell syntax.
"""

from __future__ import annotations

import json
import shlex
from typing import ClassVar

from pydantic import Field

from phasegate.metrics.base import MetricResult, Provider, ProviderError, Sample, parse_number
from phasegate.metrics.http import JsonPathOption, samples_at
from phasegate.plugin import PluginContext, command_argv, one_line


class CommandProvider(Provider):
    """A number printed by a command run through the plan's executor."""

    kind: ClassVar[str] = "command"
    raw_query: ClassVar[bool] = True

    path: JsonPathOption = Field(
        None, description="JSONPath of the number when stdout is JSON, e.g. $.error_rate"
    )
    cwd: str | None = Field(None, description="working directory; default: the plan's directory")
    env: dict[str, str] = Field(
        default_factory=dict, description="extra environment variables; ${VAR}s expand"
    )
    shell: str | None = Field(None, description="shell for the command; default: the plan's")

    def describe(self) -> str:
        return "command"

    async def query(self, query: str, ctx: PluginContext) -> MetricResult:
        shell = shlex.split(self.shell) if self.shell else ctx.shell
        argv = command_argv(query, shell, dict(ctx.env))
        env = dict(ctx.env)
        env.update({k: ctx.expand(v) for k, v in self.env.items()})
        cwd = ctx.expand(self.cwd) if self.cwd else ctx.plan_dir
        limit = self.time_limit(ctx)
        result = await ctx.executor.run(argv, env=env, cwd=cwd, timeout=limit)
        if result.error:
            raise ProviderError(f"the command could not start: {result.error}")
        if result.timed_out:
            raise ProviderError(f"the command gave no answer in {limit:g}s")
        if result.exit_code != 0:
            code = result.exit_code if result.exit_code is not None else f"signal {result.signal}"
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
            said = f": {one_line(tail[0], 200)}" if tail else ""
            raise ProviderError(f"the command exited {code}{said}")
        stdout = result.stdout.strip()
        if not stdout:
            return MetricResult()
        if self.path is None:
            try:
                return MetricResult((Sample(parse_number(stdout)),))
            except ProviderError as exc:
                raise ProviderError(f"stdout is {exc.message}") from None
        try:
            document = json.loads(stdout)
        except ValueError:
            raise ProviderError(f"stdout is not JSON: {one_line(stdout, 120)!r}") from None
        return samples_at(document, ctx.expand(self.path), "stdout")
