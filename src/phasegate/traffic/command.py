"""``command`` router: a user command shifts the traffic (feature-flag services, cloud load
balancers, anything with a CLI).

```yaml
traffic:
  backends: [stable, canary]
  router:
    command: ./set-weight.sh ${WEIGHT}    # a shell string or an argv list
    timeout: 30s
```

The command sees ``WEIGHT`` (the canary's share: every backend but the first), ``WEIGHTS``
(all weights as JSON) and ``WEIGHT_<BACKEND>`` per backend in its environment. It reports what
it applied on the last line of stdout: a number (the canary's weight) or a JSON object of
weights; a command that prints neither is trusted to have applied what it was asked. A
non-zero exit is a failed change.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, ClassVar

from pydantic import Field

from phasegate.options import Command, Duration
from phasegate.plugin import PluginContext, command_argv
from phasegate.traffic.base import RouterError, RouterSpec, Weights

_NUMBER = re.compile(r"^\s*(\d{1,3})(?:\.0+)?\s*%?\s*$")


class CommandRouter(RouterSpec):
    kind: ClassVar[str] = "command"

    command: Command = Field(description="shifts traffic; sees WEIGHT, WEIGHTS, WEIGHT_<NAME>")
    timeout: Duration = Field(60.0, description="limit for one change")
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)

    def describe(self) -> str:
        text = self.command if isinstance(self.command, str) else shlex.join(self.command)
        return f"command router: {text.strip().splitlines()[0][:60]}"

    async def apply(self, weights: Weights, ctx: PluginContext) -> Weights:
        names = list(weights)
        env = dict(ctx.env)
        env.update({k: ctx.expand(v) for k, v in self.env.items()})
        env["WEIGHT"] = str(sum(weights[n] for n in names[1:]))
        env["WEIGHTS"] = json.dumps(weights)
        for name, value in weights.items():
            env[f"WEIGHT_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}"] = str(value)
        argv = command_argv(self.command, ctx.shell, env)
        cwd = ctx.expand(self.cwd) if self.cwd else ctx.plan_dir
        result = await ctx.executor.run(argv, env=env, cwd=cwd, timeout=self.timeout)
        if result.error:
            raise RouterError(ctx.masker.text(result.error))
        if result.timed_out:
            raise RouterError(f"the router command timed out after {self.timeout:g}s")
        if result.exit_code != 0:
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
            said = f": {ctx.masker.text(tail[0][:200])}" if tail else ""
            raise RouterError(f"the router command exited {result.exit_code}{said}")
        return reported(result.stdout, weights)


def reported(stdout: str, asked: Weights) -> Weights:
    """What the command says it applied (last line: a number or JSON), else what was asked."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return dict(asked)
    last = lines[-1]
    number = _NUMBER.match(last)
    names = list(asked)
    if number and len(names) == 2:
        canary = int(number.group(1))
        if 0 <= canary <= 100:
            return {names[0]: 100 - canary, names[1]: canary}
    try:
        value: Any = json.loads(last)
    except ValueError:
        return dict(asked)
    if isinstance(value, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        return {str(k): int(v) for k, v in value.items()}
    return dict(asked)
