"""``expr``: a CEL condition over variables, step outputs and earlier check results.

```yaml
- expr: "steps.deploy.outputs.version == vars.VERSION && checks.health.passed"
```
The activation holds ``vars`` (strings), ``steps.<id>`` ({status, exit_code, outputs}) and
``checks.<id>`` ({passed, status, observed}) of the run so far.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from phasegate.checks.base import CheckSpec, Observation
from phasegate.expr import ExprError, evaluate
from phasegate.plugin import PluginContext


class ExprCheck(CheckSpec):
    kind: ClassVar[str] = "expr"

    expr: str = Field(description="CEL expression that must be true")

    def describe(self) -> str:
        return self.name or self.expr[:80]

    def expectation(self) -> str:
        return f"{self.expr} is true"

    def expressions(self) -> list[tuple[str, str]]:
        return [("expr", self.expr)]

    async def evaluate(self, ctx: PluginContext) -> Observation:
        try:
            value = evaluate(self.expr, ctx.activation())
        except ExprError as exc:
            return Observation("error", None, ctx.masker.text(exc.message))
        if value is True:
            return Observation("passed", True, "true")
        if value is False:
            return Observation("failed", False, f"{self.expr} is false")
        return Observation("error", ctx.masker.data(value), f"gave {value!r}, not a boolean")
