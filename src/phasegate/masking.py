"""Secret masking: every string that leaves the engine (terminal, logs, journal, reports) passes
through a Masker built from the run's secret values."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from typing import Any

MASK = "***"
# In stored plan text: still a plain YAML scalar (``***`` would read as an alias), so the
# journal's copy of a plan with a literal secret stays loadable.
PLAN_MASK = "MASKED-SECRET"
# Shorter secrets are not masked: masking one- or two-character values would shred every
# log. Plan validation warns about them (plan/secret_use.py).
MIN_MASKED = 3


class Masker:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_MASKED:
                continue
            variants.add(secret)
            variants.add(shlex.quote(secret))
            variants.add(json.dumps(secret)[1:-1])
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    @property
    def active(self) -> bool:
        return self._pattern is not None

    def text(self, value: str, mask: str = MASK) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(mask, value)

    def data(self, value: Any) -> Any:
        """Mask every string inside a JSON-like structure."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
