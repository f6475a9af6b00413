"""``manual``: a human confirms it (``phasegate approve RUN --check ID``).

```yaml
- manual: "Emergency contacts notified of the rollout window"
  id: contacts-notified
  approvers: 1
  prevent_self_review: true   # whoever started the run cannot approve it
```
The engine never evaluates it: reaching one pauses the run (exit 4) until approved.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from phasegate.checks.base import CheckSpec, Observation
from phasegate.plugin import PluginContext


class ManualCheck(CheckSpec):
    kind: ClassVar[str] = "manual"

    manual: str = Field(description="what the approver confirms")
    approvers: int = Field(1, ge=1, le=20, description="distinct approvals needed")
    checked: bool = Field(False, description="already confirmed when the plan was written")
    prevent_self_review: bool = Field(
        False, description="whoever started the run cannot approve it (four-eyes rule)"
    )

    def describe(self) -> str:
        return self.name or self.manual[:80]

    def expectation(self) -> str:
        n = self.approvers
        return f"confirmed by {n} approver{'s' if n > 1 else ''}"

    async def evaluate(self, ctx: PluginContext) -> Observation:
        # Reached only if a caller evaluates it directly; the engine handles approvals.
        return Observation("failed", None, "awaiting approval")
