"""Secret masking: every string that leaves the engine (terminal, logs, journal, reports) passes
through a Masker built from the run's secret values."""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# In stored plan text: still a plain YAML scalar (``***`` would read as an alias), so the
# journal's copy of a plan with a literal secret stays loadable.
PLAN_MASK = "MASKED-SECRET"
# Shorter secrets are not masked: masking one- or two-character values would shred every
# log. Plan validation warns about them (plan/secret_use.py).
MIN_MASKED = 3


# Encoded forms (base64 at its three alignments, URL-escaped) are masked for secrets of at
# least this many characters, and a base64 form only where its stable part is at least
# MIN_ENCODED characters: shorter ones would mask ordinary base64 text.
MIN_ENCODED = 8


def base64_cores(secret: str) -> set[str]:
    """The parts of any base64 text (standard or URL-safe alphabet) that encode ``secret``,
    whatever bytes stand before and after it: the secret at each of the three byte alignments
    a stream can put it at, less the characters that also encode its neighbours (the first
    one or two, the last one or two) and the padding. A step that prints
    ``base64 <<< "$TOKEN"``, or a token inside a base64 blob (an HTTP Basic header, a
    Kubernetes Secret's data), has one of these in its output."""
    data = secret.encode("utf-8")
    cores: set[str] = set()
    for shift in range(3):
        text = base64.b64encode(bytes(shift) + data).decode("ascii").rstrip("=")
        head = (0, 2, 3)[shift]  # characters that carry the unknown leading bytes
        tail = (shift + len(data)) % 3  # a last, partial group: its final character mixes
        core = text[head : len(text) - 1] if tail else text[head:]
        if len(core) >= MIN_ENCODED:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def encoded_forms(secret: str) -> set[str]:
    """The forms of ``secret`` steps print as often as the value itself: shell-quoted,
    JSON-escaped, URL-escaped (``%2B``, ``+`` for spaces) and base64 (``base64_cores``)."""
    forms = {secret, shlex.quote(secret), json.dumps(secret)[1:-1]}
    if len(secret) >= MIN_ENCODED:
        forms |= {quote(secret, safe=""), quote(secret), quote_plus(secret)}
        forms |= base64_cores(secret)
    return forms


class Masker:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_MASKED:
                continue
            variants |= encoded_forms(secret)
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
